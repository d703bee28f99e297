export type ServiceName =
  | 'token-service'
  | 'teams'
  | 'users'
  | 'kio'
  | 'essentials'
  | 'pierone'
  | 'even'
  | 'mint'
  | 'fullstop'
  | 'sandbox';

/** What the console's server hands the app at `/config.json`. */
export interface ClientConfig {
  clientId: string;
  tokenServiceUrl: string;
  redirectPath: string;
  scopes: string[];
  services: Record<ServiceName, string>;
  serviceUrls: Record<ServiceName, string>;
}

export async function loadConfig(): Promise<ClientConfig> {
  const response = await fetch('/config.json', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`The console's server answered ${response.status} for its settings.`);
  return (await response.json()) as ClientConfig;
}

export const SERVICE_LABELS: Record<ServiceName, string> = {
  'token-service': 'token service',
  teams: 'team service',
  users: 'user service',
  kio: 'Kio',
  essentials: 'essentials',
  pierone: 'Pier One',
  even: 'even (SSH access)',
  mint: 'mint',
  fullstop: 'fullstop.',
  sandbox: 'sandbox accounts',
};
