import { lazy as once } from '../../platform/cli/lazy.js';

/**
 * sandbox's AWS code, imported on first use (as fullstop does, src/fullstop/aws/sdk.ts). Importing
 * the module used to load Organizations, Budgets, IAM, EC2, ELBv2 and S3 up front — EC2 alone is
 * ~93 MiB resident — even on the embedded default where management is off and no call is ever
 * made. Type-only imports stay static: they cost nothing at run time.
 */
export const lazy = {
  /** Account listing and state tags (Organizations). */
  organizations: once(() => import('./organizations.js')),
  /** Budget and baseline roles (Budgets, IAM). */
  prepare: once(() => import('./prepare.js')),
  /** Deletion in dependency order (EC2, ELBv2, IAM, S3). */
  purge: once(() => import('./purge.js')),
  /** The clients purge uses inside a member account. */
  ec2: once(() => import('@aws-sdk/client-ec2')),
  elbv2: once(() => import('@aws-sdk/client-elastic-load-balancing-v2')),
  s3: once(() => import('@aws-sdk/client-s3')),
  costExplorer: once(() => import('../spend/cost-explorer.js')),
  accountClients: once(() => import('./account-clients.js')),
  /** The report writers (ExcelJS, ~30 MiB): the job sandbox.reports loads them at its first run. */
  activity: once(() => import('../reports/activity.js')),
  produce: once(() => import('../reports/produce.js')),
};
