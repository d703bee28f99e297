import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../db/database.js';
import { silentLogger } from '../logger.js';
import {
  describeEachDatabase,
  isPostgresAvailable,
  openTestDatabase,
  TEST_POSTGRES_URL,
} from '../test-support/databases.js';
import { type JobDefinition, JobRunner } from './job-runner.js';
import { ManualScheduler } from './manual-scheduler.js';
import { jobMigrations } from './migrations.js';

const MIGRATIONS = [{ component: 'jobs', migrations: jobMigrations }];
const MINUTE = 60_000;

/** A job that counts its runs and, when told, waits for a gate before finishing. */
function countingJob(name: string, gate?: Promise<void>) {
  let started!: () => void;
  const job = {
    runs: 0,
    /** Resolves when the first run began. */
    started: new Promise<void>((r) => (started = r)),
    definition: {
      name,
      intervalMs: MINUTE,
      run: async () => {
        job.runs++;
        started();
        await gate;
      },
    } satisfies JobDefinition,
  };
  return job;
}

describeEachDatabase('JobRunner', MIGRATIONS, (db) => {
  it('runs a job once per tick, on schedule, and not again in the same tick', async () => {
    let now = 10 * MINUTE;
    const scheduler = new ManualScheduler();
    const runner = new JobRunner(db(), silentLogger(), { clock: () => now, scheduler });
    const job = countingJob('test.once-per-tick');
    runner.start([job.definition]);
    expect(scheduler.size).toBe(1);

    expect(await runner.runOnce(job.definition)).toBe('ran');
    expect(await runner.runOnce(job.definition)).toBe('skipped');
    now += MINUTE;
    expect(await runner.runOnce(job.definition)).toBe('ran');
    expect(job.runs).toBe(2);

    await runner.stop();
    expect(scheduler.size).toBe(0);
  });

  it('tells its observer the outcome of every tick', async () => {
    const seen: Array<[string, string]> = [];
    const runner = new JobRunner(db(), silentLogger(), {
      clock: () => 300 * MINUTE,
      scheduler: new ManualScheduler(),
      observe: (job, outcome, seconds) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        seen.push([job, outcome]);
      },
    });
    const job = countingJob('test.observed');
    await runner.runOnce(job.definition);
    await runner.runOnce(job.definition);
    await runner.runOnce({
      ...job.definition,
      name: 'test.observed-failing',
      run: () => Promise.reject(new Error('x')),
    });
    expect(seen).toEqual([
      ['test.observed', 'ran'],
      ['test.observed', 'skipped'],
      ['test.observed-failing', 'failed'],
    ]);
  });

  it('counts a tick that fires while the previous run is still going as skipped', async () => {
    let now = 400 * MINUTE;
    const seen: Array<[string, string]> = [];
    const runner = new JobRunner(db(), silentLogger(), {
      clock: () => now,
      scheduler: new ManualScheduler(),
      observe: (job, outcome) => void seen.push([job, outcome]),
    });
    let release!: () => void;
    const job = countingJob('test.overrunning', new Promise<void>((r) => (release = r)));
    const first = runner.runOnce(job.definition);
    await job.started;
    now += MINUTE; // the next tick, while the first run still holds on
    const second = runner.runOnce(job.definition);
    expect(seen).toEqual([['test.overrunning', 'skipped']]);
    release();
    expect(await first).toBe('ran');
    expect(await second).toBe('skipped');
    expect(seen).toEqual([
      ['test.overrunning', 'skipped'],
      ['test.overrunning', 'ran'],
    ]);
    expect(job.runs).toBe(1);
  });

  it('logs a failing job and runs it again next tick', async () => {
    let now = 100 * MINUTE;
    const logged: unknown[] = [];
    const logger = silentLogger();
    logger.error = (obj: unknown) => void logged.push(obj);
    const runner = new JobRunner(db(), logger, { clock: () => now, scheduler: new ManualScheduler() });
    let calls = 0;
    const failing: JobDefinition = {
      name: 'test.failing',
      intervalMs: MINUTE,
      run: async () => {
        calls++;
        throw new Error('boom');
      },
    };
    expect(await runner.runOnce(failing)).toBe('failed');
    expect(logged).toMatchObject([{ job: 'test.failing', err: { message: 'boom' } }]);
    now += MINUTE;
    expect(await runner.runOnce(failing)).toBe('failed');
    expect(calls).toBe(2);
  });

  it('stop() waits for a run in progress', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runner = new JobRunner(db(), silentLogger(), {
      clock: () => 1000 * MINUTE,
      scheduler: new ManualScheduler(),
    });
    const job = countingJob('test.stop-waits', gate);
    const run = runner.runOnce(job.definition);
    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(await run).toBe('ran');
  });
});

describe('JobRunner across replicas [postgres]', async () => {
  if (!(await isPostgresAvailable())) {
    it.skip(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}`, () => {});
    return;
  }
  let primary: { database: Database; drop: () => Promise<void> };
  let replica: Database;
  beforeAll(async () => {
    primary = await openTestDatabase('postgres', MIGRATIONS);
    // A second pool on the same schema: what a second `stups serve` process would open.
    replica = await openDatabase({
      kind: 'postgres',
      url: TEST_POSTGRES_URL,
      schema: primary.database.schema,
      poolSize: 2,
    });
  });
  afterAll(async () => {
    await replica?.destroy();
    await primary?.drop();
  });

  it('two runners on one PostgreSQL: each tick runs exactly once', async () => {
    let now = 5 * MINUTE;
    const a = new JobRunner(primary.database, silentLogger(), { clock: () => now });
    const b = new JobRunner(replica, silentLogger(), { clock: () => now });
    const job = countingJob('test.replicas');
    for (let tick = 0; tick < 5; tick++) {
      const outcomes = await Promise.all([a.runOnce(job.definition), b.runOnce(job.definition)]);
      expect(outcomes.sort()).toEqual(['ran', 'skipped']);
      now += MINUTE;
    }
    expect(job.runs).toBe(5);
  });

  it('a run that outlasts its interval is not overlapped by another replica', async () => {
    let now = 50 * MINUTE;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = new JobRunner(primary.database, silentLogger(), { clock: () => now });
    const b = new JobRunner(replica, silentLogger(), { clock: () => now });
    const slow = countingJob('test.slow', gate);
    const first = a.runOnce(slow.definition);
    await slow.started;
    now += MINUTE;
    // The next tick is due, but the run of the previous one still holds the job's lock.
    expect(await b.runOnce(slow.definition)).toBe('skipped');
    release();
    expect(await first).toBe('ran');
    expect(await b.runOnce(slow.definition)).toBe('ran');
    expect(slow.runs).toBe(2);
  });

  it('jobs that tick together never starve the pool: more due jobs than pool connections all run', async () => {
    // The replica's pool has 2 connections. Were each run to hold a pool connection for its job
    // lock while it works, three jobs due at once would take both and wait for a third forever.
    const now = 90 * MINUTE;
    const runner = new JobRunner(replica, silentLogger(), { clock: () => now });
    const jobs = [1, 2, 3, 4].map((i): JobDefinition => ({
      name: `test.crowded-${i}`,
      intervalMs: MINUTE,
      run: async () => {
        await new Promise((r) => setTimeout(r, 50));
        await sql`select 1`.execute(replica.kysely());
      },
    }));
    const outcomes = await Promise.race([
      Promise.all(jobs.map((job) => runner.runOnce(job))),
      new Promise((resolve) => setTimeout(() => resolve('stuck'), 10_000)),
    ]);
    expect(outcomes).toEqual(['ran', 'ran', 'ran', 'ran']);
    await runner.stop();
  });
});
