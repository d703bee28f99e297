import { z } from 'zod';
import { CliError } from '../../platform/cli/cli-error.js';
import type { CfTemplate } from './component.js';
import { integerLike, numberLike } from './properties.js';

export const autoScalingSchema = z.strictObject({
  Minimum: integerLike,
  Maximum: integerLike,
  DesiredCapacity: integerLike.optional(),
  SuccessRequires: z.union([z.string(), z.number().int()]).optional(),
  MetricType: z.string().optional(),
  ScaleUpThreshold: z.union([z.number(), z.string()]).optional(),
  ScaleDownThreshold: z.union([z.number(), z.string()]).optional(),
  ScalingAdjustment: integerLike.optional(),
  ScaleUpAdjustment: integerLike.optional(),
  ScaleDownAdjustment: integerLike.optional(),
  Cooldown: integerLike.optional(),
  ScaleUpCooldown: integerLike.optional(),
  ScaleDownCooldown: integerLike.optional(),
  Statistic: z.enum(['Average', 'SampleCount', 'Sum', 'Minimum', 'Maximum']).optional(),
  Period: numberLike.optional(),
  EvaluationPeriods: integerLike.optional(),
});
export type AutoScalingConfig = z.infer<typeof autoScalingSchema>;

/** `"4 within 1h20m30s"` → `['4', 'PT1H20M30S']`; `"2"` → 2 instances within the default 15 minutes. */
export function parseSuccessRequires(value: string | number | undefined, path: string): [string, string] {
  if (value === undefined) return ['1', 'PT15M'];
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return [text, 'PT15M'];
  const match = /^(\d+)\s+within\s+(\S+)$/.exec(text);
  if (!match) {
    throw new CliError(
      `${path}: Unknown ASG success requirement "${text}". Use something like "1 within 10m".`,
    );
  }
  const duration = match[2]!;
  if (!/^(?:\d+[hH])?(?:\d+[mM])?(?:\d+[sS])?$/.test(duration) || !duration) {
    throw new CliError(`${path}: Unknown duration ${duration}. Use something like 15m.`);
  }
  return [match[1]!, `PT${duration.toUpperCase()}`];
}

const UNITS: Record<string, string> = {
  B: 'Bytes',
  KB: 'Kilobytes',
  MB: 'Megabytes',
  GB: 'Gigabytes',
  TB: 'Terabytes',
};

/** `100` → 100 Bytes, `"2 GB"` → 2 Gigabytes. */
export function parseNetworkThreshold(value: string | number, path: string): [string, string] {
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return [text, 'Bytes'];
  const match = /^(\d+(?:\.\d+)?)\s+(\S+)$/.exec(text);
  if (!match) throw new CliError(`${path}: Unknown network threshold "${text}". Use something like "20 GB".`);
  const unit = UNITS[match[2]!] ?? match[2]!;
  if (!Object.values(UNITS).includes(unit)) {
    throw new CliError(`${path}: Network threshold unit must be one of ${Object.values(UNITS).join(', ')}`);
  }
  return [match[1]!, unit];
}

/**
 * The AutoScaling block: sizes, ScaleUp/ScaleDown policies and, with MetricType, the CloudWatch
 * alarms that trigger them.
 */
export function applyAutoScaling(
  template: CfTemplate,
  asgName: string,
  asgProperties: Record<string, unknown>,
  config: AutoScalingConfig,
  path: string,
): void {
  asgProperties.MaxSize = config.Maximum;
  asgProperties.MinSize = config.Minimum;
  asgProperties.DesiredCapacity = Math.max(Number(config.Minimum), Number(config.DesiredCapacity ?? 1));
  const adjustment = config.ScalingAdjustment ?? 1;
  const cooldown = config.Cooldown ?? 60;
  const policy = (amount: number, cool: unknown) => ({
    Type: 'AWS::AutoScaling::ScalingPolicy',
    Properties: {
      AdjustmentType: 'ChangeInCapacity',
      ScalingAdjustment: String(amount),
      Cooldown: String(cool),
      AutoScalingGroupName: { Ref: asgName },
    },
  });
  template.Resources[`${asgName}ScaleUp`] ??= policy(
    Number(config.ScaleUpAdjustment ?? adjustment),
    config.ScaleUpCooldown ?? cooldown,
  );
  template.Resources[`${asgName}ScaleDown`] ??= policy(
    -Number(config.ScaleDownAdjustment ?? adjustment),
    config.ScaleDownCooldown ?? cooldown,
  );
  if (config.MetricType === undefined) return;

  const metric = { cpu: 'CPU', networkin: 'NetworkIn', networkout: 'NetworkOut' }[
    config.MetricType.toLowerCase()
  ];
  if (!metric)
    throw new CliError(
      `${path}.AutoScaling.MetricType: "${config.MetricType}" not supported (CPU, NetworkIn or NetworkOut)`,
    );
  const period = Number(config.Period ?? 300);
  const evaluationPeriods = Number(config.EvaluationPeriods ?? 2);
  const statistic = config.Statistic ?? 'Average';
  const minutes = (period / 60) * evaluationPeriods;
  const alarm = (direction: 'Up' | 'Down', threshold: string | number) => {
    const comparison = direction === 'Up' ? 'GreaterThanThreshold' : 'LessThanThreshold';
    const sign = direction === 'Up' ? '>' : '<';
    const common = {
      Namespace: 'AWS/EC2',
      Period: String(period),
      EvaluationPeriods: String(evaluationPeriods),
      Statistic: statistic,
      ComparisonOperator: comparison,
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: { Ref: asgName } }],
      AlarmActions: [{ Ref: `${asgName}Scale${direction}` }],
    };
    if (metric === 'CPU') {
      return {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          MetricName: 'CPUUtilization',
          Threshold: String(threshold),
          AlarmDescription: `Scale-${direction.toLowerCase()} if CPU ${sign} ${threshold}% for ${minutes} minutes (${statistic})`,
          ...common,
        },
      };
    }
    const [amount, unit] = parseNetworkThreshold(threshold, `${path}.AutoScaling.Scale${direction}Threshold`);
    return {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        MetricName: metric,
        Threshold: amount,
        Unit: unit,
        AlarmDescription: `Scale-${direction.toLowerCase()} if ${metric} ${sign} ${amount} ${unit} for ${minutes} minutes (${statistic})`,
        ...common,
      },
    };
  };
  const suffix = metric === 'CPU' ? 'CPU' : 'Network';
  if (config.ScaleUpThreshold !== undefined)
    template.Resources[`${asgName}${suffix}AlarmHigh`] = alarm('Up', config.ScaleUpThreshold);
  if (config.ScaleDownThreshold !== undefined)
    template.Resources[`${asgName}${suffix}AlarmLow`] = alarm('Down', config.ScaleDownThreshold);
}
