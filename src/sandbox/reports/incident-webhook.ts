import type { BudgetAlertException } from '../spend/daily-check.js';

export interface WebhookOptions {
  timeoutMs?: number;
  retries?: number;
  /** First back-off delay; doubled after each failed try. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Posts an exception as JSON to an incident webhook. Retries 5xx, 429 and network errors with
 * exponential back-off; a 4xx other than 429 is final. Error messages never include the URL,
 * because webhook URLs often carry a secret token in their path or query.
 */
export async function postIncident(
  url: string,
  exception: BudgetAlertException,
  opts: WebhookOptions = {},
): Promise<void> {
  const { timeoutMs = 5000, retries = 3, backoffMs = 200 } = opts;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = 'no attempt';
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1));
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(exception),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
      if (res.status < 500 && res.status !== 429) break;
    } catch (e) {
      last = e instanceof Error && e.name === 'TimeoutError' ? 'timeout' : 'network error';
    }
  }
  throw new Error(`incident webhook failed: ${last}`);
}
