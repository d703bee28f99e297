import pg from 'pg';

/**
 * PostgreSQL session-level advisory locks held on one connection of their own, outside the pool.
 *
 * Why not a pool connection: a lock held for the length of a job pins the connection it was
 * taken on, and the job's own queries then need another one. With as many due jobs as pool
 * connections (a replica's pool is small by design: replicas × pool must fit `max_connections`),
 * every connection is pinned by a lock and every job waits for a free one forever — measured: a
 * pool of 2 and three jobs ticking together hung (src/platform/jobs/job-runner.test.ts). One
 * extra connection per process holds every lock instead; its statements are short and queue on
 * the client.
 *
 * If that connection is lost, PostgreSQL releases its locks: a run still going may then overlap
 * the next tick's run on another replica (the tick claim still keeps each tick to one run). The
 * next acquire connects again.
 */
export interface SessionLocks {
  /** Takes the lock `(classId, hashtext(key))` if it is free; false when another session holds it. */
  tryAcquire(classId: number, key: string): Promise<boolean>;
  /** Releases a lock this process took (nothing if the connection was lost meanwhile). */
  release(classId: number, key: string): Promise<void>;
  close(): Promise<void>;
}

export function postgresSessionLocks(url: string): SessionLocks {
  let client: Promise<pg.Client> | undefined;
  let closed = false;

  const connection = (): Promise<pg.Client> => {
    if (closed) return Promise.reject(new Error('the database is closed'));
    if (!client) {
      const fresh = new pg.Client({ connectionString: url });
      const forget = () => {
        if (client === connecting) client = undefined;
      };
      // A lost connection is not a process failure: its locks are gone, the next acquire reconnects.
      fresh.on('error', forget);
      fresh.on('end', forget);
      const connecting = fresh.connect().then(
        () => fresh,
        (error: unknown) => {
          forget();
          throw error;
        },
      );
      client = connecting;
    }
    return client;
  };

  return {
    async tryAcquire(classId, key) {
      const result = await (
        await connection()
      ).query<{ locked: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as locked', [classId, key]);
      return result.rows[0]?.locked === true;
    },
    async release(classId, key) {
      const current = client;
      if (!current) return;
      await (await current).query('select pg_advisory_unlock($1, hashtext($2))', [classId, key]);
    },
    async close() {
      closed = true;
      const current = client;
      client = undefined;
      if (current) await (await current.catch(() => undefined))?.end().catch(() => undefined);
    },
  };
}
