import { z } from 'zod';

const seconds = (value: number) => z.number().int().min(1).default(value);

/** mint's section of the settings tree. */
export const MintSettingsSchema = z.strictObject({
  rotationIntervalSeconds: z
    .number()
    .positive('must be more than 0 seconds')
    .default(10)
    .describe(
      'How often the worker (job mint.rotation) looks for due rotations, in seconds (fractions allowed)',
    ),
  serviceUserPrefix: z
    .string()
    .regex(/^[a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_", "-"')
    .max(40)
    .default('stups_')
    .describe('Prefix of the service user (and OAuth client) mint creates for an application'),
  passwordRotationSeconds: seconds(7200).describe("Age after which a service user's password is rotated"),
  clientRotationSeconds: seconds(30 * 24 * 3600).describe(
    "Age after which a confidential client's secret is rotated (default 30 days)",
  ),
  // Fractions allowed: a short berry interval (tests, the zero-failure run) needs a grace of a few
  // seconds, not a whole number of them.
  retirementGraceSeconds: z
    .number()
    .positive('must be more than 0 seconds')
    .default(2 * 120 + 3600)
    .describe(
      'How long the previous password or secret stays valid after the new one was distributed and ' +
        "proven: twice berry's interval (2 × 120 s) plus the access-token lifetime (3600 s). " +
        'Fractions of a second are allowed (e.g. 1.5); the next rotation of that credential waits ' +
        'until the grace has ended',
    ),
  maxS3Errors: seconds(10).describe(
    'Consecutive bucket errors after which an application is paused until POST /apps/{app}/renewal',
  ),
  bucketStore: z
    .enum(['disk', 's3'])
    .default('disk')
    .describe('Where credentials go: folders under bucketsDir, or S3 buckets (platform.aws settings)'),
  bucketsDir: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Folder of the disk buckets, <bucketsDir>/<bucket>/<app>/user.json (default <data dir>/buckets)',
    ),
  tokenEndpoint: z
    .url()
    .optional()
    .describe(
      "Token endpoint the worker proves new credentials against (default the token service's /oauth2/access_token)",
    ),
});
export type MintSettings = z.output<typeof MintSettingsSchema>;
