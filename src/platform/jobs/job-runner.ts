import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';

/** A background job: run once per `intervalMs` tick by exactly one replica. */
export interface JobDefinition {
  /** Unique across the platform, `<component>.<job>` (e.g. `pierone.upload-purge`). */
  name: string;
  intervalMs: number;
  run(): Promise<void>;
}

/** Calls `fn` every `ms`; returns how to stop. Tests pass a manual scheduler and fire ticks themselves. */
export interface Scheduler {
  every(ms: number, fn: () => void): () => void;
}

export const timerScheduler: Scheduler = {
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    // A pending tick must not keep a process alive that is otherwise done.
    timer.unref();
    return () => clearInterval(timer);
  },
};

export type JobOutcome = 'ran' | 'skipped' | 'failed';

/** Told of every tick a runner handled: for `/metrics` (how often each job ran, here, and how long). */
export type JobObserver = (job: string, outcome: JobOutcome, seconds: number) => void;

interface JobTables {
  platform_job_ticks: { name: string; tick: string };
}

/** Distinguishes this runner's advisory locks from any other application's on the same database. */
const LOCK_CLASS = 0x5354_5550; // "STUP"

/**
 * Runs background jobs so that each tick of each job runs exactly once across all replicas
 * sharing one database (ADR 0005):
 * - a tick is `floor(clock() / intervalMs)`; a replica claims it with one conditional upsert on
 *   `platform_job_ticks`, so a second replica that wakes for the same tick finds it taken;
 * - on PostgreSQL the run also holds a session advisory lock per job name, so a run that
 *   outlasts its interval is never overlapped by the next tick's run on another replica. The
 *   locks live on a connection of their own (`database.sessionLocks`), never on a pool
 *   connection the job's own queries would then wait for;
 * - on PGlite (one process, data directory locked) an in-process guard does the lock's work.
 */
export class JobRunner {
  private readonly cancels: Array<() => void> = [];
  private readonly running = new Map<string, Promise<JobOutcome>>();
  private readonly clock: () => number;
  private readonly scheduler: Scheduler;
  private readonly observe: JobObserver;

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
    options: { clock?: () => number; scheduler?: Scheduler; observe?: JobObserver } = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.scheduler = options.scheduler ?? timerScheduler;
    this.observe = options.observe ?? (() => undefined);
  }

  /** Schedules every job; errors are logged, never thrown into the timer. */
  start(jobs: readonly JobDefinition[]): void {
    for (const job of jobs) {
      this.cancels.push(this.scheduler.every(job.intervalMs, () => void this.runOnce(job)));
    }
  }

  /** Runs `job` for the current tick unless another runner (or this one) already has. */
  runOnce(job: JobDefinition): Promise<JobOutcome> {
    // A tick that fires while the previous run is still going is skipped in this process, and
    // counted as skipped at once: a job that overruns its interval shows as skipped ticks.
    const current = this.running.get(job.name);
    if (current) {
      this.observe(job.name, 'skipped', 0);
      return current.then(() => 'skipped');
    }
    const started = performance.now();
    const run = this.claimAndRun(job)
      .then((outcome) => {
        this.observe(job.name, outcome, (performance.now() - started) / 1000);
        return outcome;
      })
      .finally(() => this.running.delete(job.name));
    this.running.set(job.name, run);
    return run;
  }

  /** Resolves once no run is in progress (tests, after firing a manual scheduler). */
  async idle(): Promise<void> {
    await Promise.all(this.running.values());
  }

  /** Stops scheduling and waits for runs in progress. */
  async stop(): Promise<void> {
    for (const cancel of this.cancels.splice(0)) cancel();
    await Promise.all(this.running.values());
  }

  private async claimAndRun(job: JobDefinition): Promise<JobOutcome> {
    const tick = Math.floor(this.clock() / job.intervalMs);
    try {
      const claimAndExecute = async (): Promise<JobOutcome> =>
        (await this.claim(this.database.kysely<JobTables>(), job.name, tick)) ? this.execute(job) : 'skipped';
      const locks = this.database.sessionLocks;
      if (!locks) return await claimAndExecute();
      // Installations in other schemas of the same server keep locks of their own.
      const lockKey = `${this.database.schema}:${job.name}`;
      if (!(await locks.tryAcquire(LOCK_CLASS, lockKey))) return 'skipped';
      try {
        return await claimAndExecute();
      } finally {
        await locks.release(LOCK_CLASS, lockKey).catch((error: unknown) => {
          // The lock went with its connection; nothing is left to release.
          this.logger.warn({ err: error, job: job.name }, 'background job lock could not be released');
        });
      }
    } catch (error) {
      this.logger.error({ err: error, job: job.name }, 'background job could not be scheduled');
      return 'failed';
    }
  }

  /** True when this runner took `tick`; false when it (or a later one) was taken already. */
  private async claim(db: Kysely<JobTables>, name: string, tick: number): Promise<boolean> {
    const claimed = await sql<{ name: string }>`
      insert into platform_job_ticks (name, tick) values (${name}, ${tick})
      on conflict (name) do update set tick = excluded.tick
        where platform_job_ticks.tick < excluded.tick
      returning name`.execute(db);
    return claimed.rows.length === 1;
  }

  private async execute(job: JobDefinition): Promise<JobOutcome> {
    try {
      await job.run();
      return 'ran';
    } catch (error) {
      this.logger.error({ err: error, job: job.name }, 'background job failed');
      return 'failed';
    }
  }
}
