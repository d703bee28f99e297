import { lazy as once } from '../../platform/cli/lazy.js';

/**
 * fullstop.'s AWS SDK packages, imported on first use. `@aws-sdk/client-ec2` alone is ~93 MiB of
 * resident memory and ~1.8 s to import on this machine kind; imported eagerly it made fullstop the
 * heaviest module of `stups up` even where no account is ever read (issue 23). Type-only imports
 * of these packages stay static: they cost nothing at run time.
 */
export const sdk = {
  ec2: once(() => import('@aws-sdk/client-ec2')),
  iam: once(() => import('@aws-sdk/client-iam')),
  elb: once(() => import('@aws-sdk/client-elastic-load-balancing')),
  elbv2: once(() => import('@aws-sdk/client-elastic-load-balancing-v2')),
  s3: once(() => import('@aws-sdk/client-s3')),
  sqs: once(() => import('@aws-sdk/client-sqs')),
  sts: once(() => import('@aws-sdk/client-sts')),
};
