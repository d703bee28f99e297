import { SERVICE_LABELS, type ServiceName } from '../config';

/** A failed call, with a message in plain words that the page can show as it is. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly service: ServiceName,
    /** The service's own explanation (problem+json `detail`), when it gave one. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What the services answer on errors: problem+json, STUPS `{message}`, or OAuth `{error_description}`. */
export function detailOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  for (const key of ['detail', 'message', 'error_description']) {
    if (typeof b[key] === 'string' && b[key]) return b[key];
  }
  return undefined;
}

/** Turns a status and the service's explanation into a sentence for people. */
export function plainMessage(service: ServiceName, status: number, detail: string | undefined): string {
  const name = SERVICE_LABELS[service];
  const because = detail ? `: ${detail}` : '.';
  if (status === 0)
    return `The console cannot reach ${name}. Check your connection and that the platform is running.`;
  if (status === 401) return 'Your session has ended. Sign in again to continue.';
  if (status === 403) return `You are not allowed to do this${because}`;
  if (status === 404) return detail ? `Not found: ${detail}.`.replace(/\.\.$/, '.') : 'This does not exist.';
  if (status === 409) return `This conflicts with what exists${because}`;
  if (status === 400 || status === 422) return `${name} did not accept this${because}`;
  if (status === 502 || status === 503 || status === 504) {
    // A 502 names what behind the service could not be read (AWS, another service).
    return detail
      ? `${name} could not answer: ${detail}. Try again in a moment.`.replace(/\.\. Try/, '. Try')
      : `${name} is not available right now. Try again in a moment.`;
  }
  if (status >= 500)
    return `${name} failed to answer (error ${status}). Try again; if it keeps failing, tell the platform team.`;
  return `${name} answered with error ${status}${because}`;
}
