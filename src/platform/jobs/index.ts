export {
  type JobDefinition,
  type JobOutcome,
  JobRunner,
  type Scheduler,
  timerScheduler,
} from './job-runner.js';
export { jobMigrations } from './migrations.js';
export { ManualScheduler } from './manual-scheduler.js';
