import { CliError } from '../../platform/cli/cli-error.js';

/** What the SDK throws: a service exception (`name` is the AWS error code) or a client-side error. */
interface SdkError {
  name?: string | undefined;
  message?: string | undefined;
  Code?: string | undefined;
  /** The raw HTTP response, kept by the SDK when it could not read the body. */
  $response?: { statusCode?: number; headers?: Record<string, string> } | undefined;
}

/** The fields of a thrown value that Senza reads, each checked for its type (the SDK throws anything). */
function sdkError(error: unknown): SdkError {
  if (typeof error !== 'object' || error === null) return {};
  const text = (field: string): string | undefined => {
    const value: unknown = Reflect.get(error, field);
    return typeof value === 'string' ? value : undefined;
  };
  return { name: text('name'), message: text('message'), Code: text('Code'), $response: httpResponse(error) };
}

function httpResponse(error: object): SdkError['$response'] {
  const response: unknown = Reflect.get(error, '$response');
  if (typeof response !== 'object' || response === null) return undefined;
  const statusCode: unknown = Reflect.get(response, 'statusCode');
  const headers: unknown = Reflect.get(response, 'headers');
  return {
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
    ...(typeof headers === 'object' && headers !== null
      ? {
          headers: Object.fromEntries(
            Object.entries(headers).filter(
              (entry): entry is [string, string] => typeof entry[1] === 'string',
            ),
          ),
        }
      : {}),
  };
}

/**
 * One clear line for an AWS failure, e.g. `AWS CloudFormation CreateStack failed: ValidationError:
 * Template error: …`. Stack traces never reach the user.
 */
export function awsErrorLine(service: string, operation: string, error: unknown): string {
  const e = sdkError(error);
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return 'no AWS credentials found: log in (e.g. "mai login") or set AWS_PROFILE / AWS_ACCESS_KEY_ID';
  }
  // A proxy or emulator error page is HTML, which the SDK reports as an XML parse error.
  const contentType = Object.entries(e.$response?.headers ?? {}).find(
    ([name]) => name.toLowerCase() === 'content-type',
  )?.[1];
  if (contentType?.includes('html')) {
    return `AWS ${service} ${operation} failed: endpoint answered HTTP ${e.$response?.statusCode ?? '?'} with HTML`;
  }
  const code = e.Code ?? e.name ?? 'Error';
  const message = (e.message ?? String(error)).split('\n')[0]!.trim();
  return `AWS ${service} ${operation} failed: ${code}${message && message !== code ? `: ${message}` : ''}`;
}

/** The AWS error code of a failure, for the few codes Senza handles (`AlreadyExistsException`, …). */
export function awsErrorCode(error: unknown): string | undefined {
  const e = sdkError(error);
  return e.Code ?? e.name;
}

/** Thrown for every failed AWS call; carries the code so callers can react to specific ones. */
export class AwsCallError extends CliError {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly awsMessage: string,
  ) {
    super(message, 1);
    this.name = 'AwsCallError';
  }
}

/** Runs one SDK call and turns any failure into an `AwsCallError` with a one-line message. */
export async function awsCall<T>(service: string, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new AwsCallError(
      awsErrorLine(service, operation, error),
      awsErrorCode(error),
      (sdkError(error).message ?? '').split('\n')[0]!,
    );
  }
}
