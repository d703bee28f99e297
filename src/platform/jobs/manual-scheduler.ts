import type { Scheduler } from './job-runner.js';

/** A scheduler that fires only when told: tests advance time without real timers. */
export class ManualScheduler implements Scheduler {
  private readonly entries = new Set<{ ms: number; fn: () => void }>();

  every(ms: number, fn: () => void): () => void {
    const entry = { ms, fn };
    this.entries.add(entry);
    return () => this.entries.delete(entry);
  }

  /** Fires every scheduled callback once. */
  fire(): void {
    for (const entry of this.entries) entry.fn();
  }

  get size(): number {
    return this.entries.size;
  }
}
