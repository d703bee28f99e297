import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { CliError } from '../../platform/cli/cli-error.js';
import { EC2_ASSUME_ROLE_POLICY } from '../components/iam-roles.js';
import { parseDefinition } from '../definition.js';
import type { SenzaContext } from './context.js';
import { INIT_TEMPLATES, renderInitTemplate } from './init-templates.js';

/**
 * `senza init FILE`: asks for the template and its values (or takes them from `-t` and `-v
 * name=value`; without a terminal the defaults are used; the image defaults to the application's
 * in Pier One when the tools are configured and logged in), creates the security groups and the
 * IAM role the template needs, and writes the definition.
 */
export async function initCommand(
  ctx: SenzaContext,
  file: string,
  options: { template?: string; userVariable?: string[] },
): Promise<void> {
  const target = resolve(ctx.io.cwd, file);
  if (existsSync(target)) throw new CliError(`${file} already exists; remove it or choose another file name`);
  const vars: Record<string, string> = {};
  for (const pair of options.userVariable ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`expected -v name=value, got "${pair}"`, 2);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const interactive = Boolean(ctx.io.stdin.isTTY);
  const rl = interactive ? createInterface({ input: ctx.io.stdin, output: ctx.io.stderr }) : undefined;
  const ask = async (question: string, fallback: string) => {
    if (!rl) return fallback;
    const answer = (await rl.question(`${question} [${fallback}]: `)).trim();
    return answer || fallback;
  };
  try {
    const names = Object.keys(INIT_TEMPLATES).sort();
    let templateName = options.template;
    if (!templateName) {
      if (!rl) throw new CliError(`choose a template with -t (${names.join(', ')})`, 2);
      names.forEach((n, i) => ctx.info(`${i + 1}) ${n}: ${INIT_TEMPLATES[n]!.description}`));
      const picked = await ask(`Please select (1-${names.length})`, String(names.indexOf('webapp') + 1));
      templateName = names[Number(picked) - 1] ?? picked;
    }
    const template = INIT_TEMPLATES[templateName];
    if (!template)
      throw new CliError(`unknown template "${templateName}"; templates: ${names.join(', ')}`, 2);
    for (const q of template.questions) {
      let fallback = q.default;
      if (q.fromPierOne && vars[q.name] === undefined && vars.application_id) {
        const { proposeImage } = await import('./init-image.js');
        const proposed = await proposeImage(ctx.io, vars.application_id, q.default);
        ctx.info(proposed.note);
        fallback = proposed.image;
      }
      const value = vars[q.name] ?? (await ask(q.prompt, fallback));
      if (q.pattern && !q.pattern.test(value))
        throw new CliError(`${q.prompt}: "${value}" does not match ${q.pattern.source}`, 2);
      vars[q.name] = value;
    }
    const yaml = renderInitTemplate(template, vars);
    parseDefinition(yaml, file);

    await ctx.checkCredentials();
    const ec2 = await ctx.aws.ec2();
    for (const sg of template.securityGroups(vars)) {
      const existing = await ctx.action(`Checking security group ${sg.name}`, () =>
        ec2.securityGroupByName(sg.name),
      );
      if (existing) {
        const open = new Set((existing.IpPermissions ?? []).map((p) => p.FromPort));
        const missing = sg.ports.filter((p) => !open.has(p));
        if (missing.length)
          ctx.info(`Warning: security group ${sg.name} does not allow inbound TCP ${missing.join(', ')}`);
        continue;
      }
      await ctx.action(`Creating security group ${sg.name}`, async () => {
        const vpcId = await (async () => {
          const vpcs = await ec2.describeVpcs();
          return (vpcs.find((v) => v.IsDefault) ?? vpcs[0])?.VpcId;
        })();
        if (!vpcId) throw new CliError('no VPC in this region');
        const id = await ec2.createSecurityGroup(sg.name, 'Application security group', vpcId);
        await ec2.authorizeIngress(id, [
          ...sg.ports.map((p) => ({
            IpProtocol: 'tcp',
            FromPort: p,
            ToPort: p,
            IpRanges: [{ CidrIp: '0.0.0.0/0' }],
          })),
          ...(sg.fromSelf ? [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: id }] }] : []),
        ]);
      });
    }
    const roleName = `app-${vars.application_id}`;
    const iam = await ctx.aws.iam();
    const role = await ctx.action(`Checking IAM role ${roleName}`, () => iam.role(roleName));
    if (!role)
      await ctx.action(`Creating IAM role ${roleName}`, () =>
        iam.createRole(roleName, EC2_ASSUME_ROLE_POLICY),
      );
    if (vars.mint_bucket) {
      await ctx.action(`Updating IAM role policy of ${roleName}`, () =>
        iam.putRolePolicy(roleName, 'AllowMintRead', {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AllowMintRead',
              Effect: 'Allow',
              Action: ['s3:GetObject'],
              Resource: [`arn:aws:s3:::${vars.mint_bucket}/${vars.application_id}/*`],
            },
          ],
        }),
      );
    }
    await ctx.action(`Generating Senza definition file ${file}`, () =>
      writeFile(target, yaml, { flag: 'wx' }),
    );
  } finally {
    rl?.close();
  }
}
