import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithout } from '../../platform/test-support/required-parts.js';

/** One finding of cfn-lint (`--format json`), reduced to what a failing test should show. */
export interface CfnLintMatch {
  template: string;
  level: 'Error' | 'Warning' | 'Informational';
  rule: string;
  path: string;
  message: string;
}

let available: boolean | undefined;

/**
 * Whether cfn-lint can run here. When it cannot, tests skip the lint with a warning, or fail
 * when `STUPS_REQUIRE` names `cfn-lint`.
 */
export function cfnLintAvailable(): boolean {
  if (available === undefined) {
    const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    const missing =
      probe.status === 0 ? undefined : `cfn-lint --version failed: ${probe.error?.message ?? probe.stderr}`;
    available = !skipWithout('cfn-lint', missing);
  }
  return available;
}

/**
 * Lints several templates with one cfn-lint run (each start costs 1–2 s of Python imports):
 * every template goes into its own file named after its label.
 */
export async function cfnLint(templates: ReadonlyMap<string, unknown>): Promise<CfnLintMatch[]> {
  if (!templates.size) return [];
  const dir = await mkdtemp(join(tmpdir(), 'cfn-lint-'));
  try {
    const files = new Map<string, string>();
    let n = 0;
    for (const [label, template] of templates) {
      const file = join(dir, `${n++}-${label.replace(/[^\w.-]+/g, '_')}.json`);
      files.set(file, label);
      await writeFile(file, typeof template === 'string' ? template : JSON.stringify(template));
    }
    // Exit status is a bit mask of the levels found (2 error, 4 warning, 8 informational); 1 is
    // a crash. The JSON on stdout is the answer either way.
    const { stdout, code, stderr } = await new Promise<{ stdout: string; stderr: string; code: number }>(
      (resolve, reject) => {
        execFile(
          'cfn-lint',
          ['--format', 'json', '--', ...files.keys()],
          { maxBuffer: 64 * 1024 * 1024 },
          (error, out, err) => {
            if (!error) resolve({ stdout: out, stderr: err, code: 0 });
            else if (typeof error.code === 'number') resolve({ stdout: out, stderr: err, code: error.code });
            else reject(new Error(`cfn-lint did not run: ${error.message}`));
          },
        );
      },
    );
    if (code & 1 || !stdout.trim().startsWith('[')) {
      throw new Error(`cfn-lint failed (exit ${code}): ${stderr.trim() || stdout.trim()}`);
    }
    const raw = JSON.parse(stdout) as {
      Filename: string;
      Level: CfnLintMatch['level'];
      Rule: { Id: string };
      Location: { Path?: (string | number)[] };
      Message: string;
    }[];
    return raw.map((m) => ({
      template: files.get(m.Filename) ?? m.Filename,
      level: m.Level,
      rule: m.Rule.Id,
      path: (m.Location.Path ?? []).join('.'),
      message: m.Message,
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The cfn-lint errors of the templates, as lines for `expect(...).toEqual([])`. Warnings do not
 * fail a test (Senza emits launch configurations, which cfn-lint warns are in maintenance mode,
 * and parameters only its user data uses); they are printed as one line: each rule with the number of templates it warned about.
 */
export async function cfnLintErrors(templates: ReadonlyMap<string, unknown>): Promise<string[]> {
  if (!cfnLintAvailable()) return [];
  const matches = await cfnLint(templates);
  const warned = new Map<string, Set<string>>();
  for (const m of matches.filter((x) => x.level !== 'Error'))
    warned.set(m.rule, (warned.get(m.rule) ?? new Set()).add(m.template));
  if (warned.size) {
    const rules = [...warned].map(([rule, names]) => `${rule} in ${names.size} of ${templates.size}`);
    console.info(`cfn-lint warnings (allowed): ${rules.join(', ')}`);
  }
  return matches
    .filter((m) => m.level === 'Error')
    .map((m) => `${m.template}: ${m.rule} ${m.path}: ${m.message}`);
}
