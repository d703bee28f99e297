import { z } from 'zod';

/**
 * The Taupage AMI configuration (`#taupage-ami-config` user data), one field per option of the
 * Taupage reference. Values may also be CloudFormation functions (`{Ref: …}`, `{"Fn::…": …}`),
 * which Senza splices into the user data, and strings starting with `aws:kms:` are kept as they
 * are: Taupage decrypts them on the instance.
 */

/** `{"Ref": …}` or `{"Fn::GetAtt": …}`: exactly one key, resolved by CloudFormation. */
export const cfnFunction = z.custom<Record<string, unknown>>(
  (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const keys = Object.keys(value);
    return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
  },
  { message: 'expected a string or a CloudFormation function ({Ref: …} or {"Fn::…": …})' },
);

/** A scalar the user data renders as text; numbers and booleans are accepted where YAML produces them. */
const text = z.union([z.string(), z.number(), cfnFunction], {
  error: 'expected a string or a CloudFormation function',
});
const bool = z.union([z.boolean(), cfnFunction], { error: 'expected true or false' });
const count = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/), cfnFunction], {
  error: 'expected a whole number',
});
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.union([z.enum(values), cfnFunction], { error: `expected one of ${values.join(', ')}` });

const LOG_DESTINATIONS = ['s3', 'rsyslog', 'scalyr', 'scalyr_s3', 'none'] as const;
const LOGROTATE_INTERVALS = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
const SIZE = /^\d+[kKMG]?$/;
const size = z.union([
  z.number().int().nonnegative(),
  z.string().regex(SIZE, 'expected a size like 100, 100k, 10M or 1G'),
]);

/** `8080: 8080`, `8301/udp: 8301`, `8600: 8600/udp`: public port → container port, optionally with protocol. */
const PORT = /^\d{1,5}(\/(tcp|udp|upd))?$/;
const port = z.union([
  z.number().int().min(1).max(65535),
  z.string().regex(PORT, 'expected a port number, optionally with /tcp or /udp'),
]);

const mount = z.strictObject({
  partition: z.string(),
  erase_on_boot: bool.optional(),
  filesystem: z.string().optional(),
  options: z.string().optional(),
  root: bool.optional(),
});

const raid = z.strictObject({
  level: z.union([z.literal(0), z.literal(1), z.literal(4), z.literal(5), z.literal(6), z.literal(10)], {
    error: 'expected a RAID level: 0, 1, 4, 5, 6 or 10',
  }),
  devices: z.array(z.string()).min(2, 'a RAID volume needs at least 2 devices'),
});

const logging = z.strictObject({
  fluentd_enabled: bool.optional(),
  fluentd_loglevel: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).optional(),
  log_destination: oneOf(LOG_DESTINATIONS).optional(),
  applog_destination: oneOf(LOG_DESTINATIONS).optional(),
  syslog_destination: oneOf(LOG_DESTINATIONS).optional(),
  authlog_destination: oneOf(LOG_DESTINATIONS).optional(),
  customlog_destination: oneOf(LOG_DESTINATIONS).optional(),
  scalyr_account_key: text.optional(),
  scalyr_region: text.optional(),
  scalyr_application_log_parser: text.optional(),
  scalyr_custom_log_parser: text.optional(),
  scalyr_agent_enabled: bool.optional(),
  use_scalyr_agent_all: bool.optional(),
  use_scalyr_agent_applog: bool.optional(),
  use_scalyr_agent_syslog: bool.optional(),
  use_scalyr_agent_authlog: bool.optional(),
  use_scalyr_agent_customlog: bool.optional(),
  scalyr_agent_applog_sampling: z.string().optional(),
  scalyr_agent_syslog_sampling: z.string().optional(),
  scalyr_agent_authlog_sampling: z.string().optional(),
  scalyr_agent_customlog_sampling: z.string().optional(),
  applog_filter_exclude: z.string().optional(),
  customlog_filter_exclude: z.string().optional(),
  s3_bucket: text.optional(),
  s3_timekey: text.optional(),
  s3_region: text.optional(),
  s3_raw_log_format: bool.optional(),
  s3_acl: oneOf([
    'private',
    'public-read',
    'public-read-write',
    'authenticated-read',
    'bucket-owner-read',
    'bucket-owner-full-control',
  ]).optional(),
  rsyslog_host: text.optional(),
  rsyslog_port: count.optional(),
  rsyslog_protocol: oneOf(['tcp', 'udp']).optional(),
  rsyslog_severity: text.optional(),
  rsyslog_program: text.optional(),
  rsyslog_hostname: text.optional(),
});

export const taupageConfigSchema = z.strictObject({
  application_id: text,
  application_version: text,
  runtime: z.literal('Docker', { error: 'Taupage only supports the "Docker" runtime' }),
  source: text,
  dockercfg: z.record(z.string(), z.strictObject({ auth: text, email: z.string().optional() })).optional(),
  ports: z
    .record(z.string().regex(PORT, 'expected a port number, optionally with /tcp or /udp'), port)
    .optional(),
  health_check_port: count.optional(),
  health_check_path: z.string().startsWith('/', 'expected a path starting with /').optional(),
  health_check_timeout_seconds: count.optional(),
  environment: z.record(z.string(), z.union([text, z.boolean(), z.null()])).optional(),
  capabilities_add: z.array(z.string()).optional(),
  capabilities_drop: z.array(z.string()).optional(),
  hostname: text.optional(),
  networking: z
    .string()
    .regex(/^(bridge|host|none|container:.+)$/, 'expected bridge, host, none or container:NAME_or_ID')
    .optional(),
  root: bool.optional(),
  privileged: bool.optional(),
  docker_daemon_access: bool.optional(),
  read_only: bool.optional(),
  shm_size: size.optional(),
  mount_var_log: bool.optional(),
  mount_custom_log: bool.optional(),
  mount_certs: bool.optional(),
  keep_instance_users: bool.optional(),
  enhanced_cloudwatch_metrics: bool.optional(),
  volumes: z
    .strictObject({
      ebs: z.record(z.string().startsWith('/dev/', 'expected a device name like /dev/sdf'), text).optional(),
      raid: z
        .record(z.string().startsWith('/dev/', 'expected a device name like /dev/md/name'), raid)
        .optional(),
    })
    .optional(),
  mounts: z.record(z.string().startsWith('/', 'expected an absolute mount point'), mount).optional(),
  notify_cfn: z.strictObject({ stack: text, resource: text }).optional(),
  cloudwatch_logs: z.record(z.string(), text).optional(),
  ssh_ports: z.array(count).optional(),
  // YAML 1.1 reads a bare `no` as false; both spellings are what sshd's GatewayPorts knows.
  ssh_gateway_ports: z.union([z.boolean(), z.enum(['yes', 'no', 'clientspecified'])]).optional(),
  etcd_discovery_domain: text.optional(),
  logentries_account_key: text.optional(),
  scalyr_account_key: text.optional(),
  scalyr_application_log_parser: text.optional(),
  scalyr_custom_log_parser: text.optional(),
  scalyr_region: text.optional(),
  newrelic_account_key: text.optional(),
  mint_bucket: text.optional(),
  logging: logging.optional(),
  appdynamics_application: text.optional(),
  appdynamics_machineagent_tiername: text.optional(),
  application_logrotate_size: size.optional(),
  application_logrotate_interval: oneOf(LOGROTATE_INTERVALS).optional(),
  application_logrotate_rotate: count.optional(),
  application_logrotate_disable_copytruncate: bool.optional(),
  application_logrotate_disable_delaycompress: bool.optional(),
  customlog_logrotate_size: size.optional(),
  customlog_logrotate_interval: oneOf(LOGROTATE_INTERVALS).optional(),
  customlog_logrotate_rotate: count.optional(),
  rsyslog_application_log_format: z.string().optional(),
  rsyslog_aws_metadata: bool.optional(),
  rsyslog_max_message_size: size.optional(),
  xray_enabled: bool.optional(),
  // Options the Taupage AMI reads (its init.d scripts and Docker runtime) beyond the reference page.
  /** Kernel parameters written to /etc/sysctl.d: `net.core.somaxconn: 1024`. */
  sysctl: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** Values for Taupage's allow-listed /sys paths. */
  sysfs: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  /** `healthcheck: {type: elb, loadbalancer_name: …}`, read by Taupage's health check scripts. */
  healthcheck: z.record(z.string(), z.unknown()).optional(),
  instance_logs_url: text.optional(),
  logsink_username: text.optional(),
  logsink_password: text.optional(),
  local_planb_tokeninfo: bool.optional(),
  tokeninfo_url: text.optional(),
  opa_enabled: bool.optional(),
  nodejs_disable_snapshots: bool.optional(),
  application_logrotate_disable_compress: bool.optional(),
  appdynamics_account_name: text.optional(),
  appdynamics_account_globalname: text.optional(),
  appdynamics_account_access_key: text.optional(),
  appdynamics_enable_logging: bool.optional(),
  appdynamics_include_scala_classes: bool.optional(),
  /** Set by Senza: subnet id → NAT gateway private IP, for instances in DMZ subnets without public IP. */
  nat_gateways: z.record(z.string(), z.string()).optional(),
});

export type TaupageConfig = z.infer<typeof taupageConfigSchema>;

/** Every option name the schema knows, for "did you mean" style errors and documentation. */
export const TAUPAGE_OPTIONS: readonly string[] = Object.keys(taupageConfigSchema.shape);
