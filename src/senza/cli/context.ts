import type { StackSummary } from '@aws-sdk/client-cloudformation';
import type { CliIo } from '../../platform/cli/run-cli.js';
import { type OutputFormat, parseOutputFormat } from '../../platform/cli/output.js';
import { type AwsSettings, resolveAwsSettings } from '../aws/aws-settings.js';
import { SenzaAws } from '../aws/senza-aws.js';
import { matchesAny, parseStackRefs, type StackRef, splitStackName } from '../stack-ref.js';

/** What the senza commands need from the outside world; tests replace sleep and the clock. */
export interface SenzaDeps {
  io: CliIo;
  /** Waits between polls; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  /** Stops `--watch` after this many refreshes (tests); unlimited by default. */
  watchLimit?: number;
  /** HTTP client for `status`'s HTTP column; the global fetch by default. */
  fetch?: typeof fetch;
}

export interface CommonOptions {
  region?: string;
  output?: string;
  W?: boolean;
  watch?: string;
}

/** Per-command helpers: AWS for the chosen region, progress lines, stack lookups, watching. */
export class SenzaContext {
  readonly io: CliIo;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => Date;
  readonly fetch: typeof fetch;
  private awsInstance: SenzaAws | undefined;

  constructor(
    readonly deps: SenzaDeps,
    private readonly region: string | undefined,
  ) {
    this.io = deps.io;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = deps.now ?? (() => new Date());
    this.fetch = deps.fetch ?? fetch;
  }

  get settings(): AwsSettings {
    return resolveAwsSettings(this.region, this.io.env);
  }

  get aws(): SenzaAws {
    return (this.awsInstance ??= new SenzaAws(this.settings));
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  /** Progress and notes go to stderr, so stdout stays clean for JSON and pipes. */
  info(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** `Doing something.. OK` (or `.. FAILED`), the original Senza's progress lines. */
  async action<T>(message: string, run: (progress: () => void) => Promise<T>, ok = 'OK'): Promise<T> {
    this.io.stderr.write(`${message}..`);
    try {
      const result = await run(() => this.io.stderr.write(' .'));
      this.io.stderr.write(` ${ok}\n`);
      return result;
    } catch (error) {
      this.io.stderr.write(' FAILED\n');
      throw error;
    }
  }

  /** Credentials check the original does first: lists the account alias (IAM). */
  async checkCredentials(): Promise<void> {
    await (await this.aws.iam()).accountAliases();
  }

  stackRefs(args: readonly string[]): StackRef[] {
    return parseStackRefs(args, this.io.cwd);
  }

  /**
   * Stacks matching the references, newest first. `all` includes deleted stacks; `uniqueOnly`
   * hides older deleted stacks whose name was reused.
   */
  async stacks(
    refs: readonly StackRef[],
    options: { all?: boolean; uniqueOnly?: boolean } = {},
  ): Promise<SenzaStack[]> {
    const summaries = await (await this.aws.cloudFormation()).listStacks(options.all ?? false);
    const matching = summaries
      .filter((s) => matchesAny(refs, s.StackName ?? ''))
      .sort((a, b) => (b.CreationTime?.getTime() ?? 0) - (a.CreationTime?.getTime() ?? 0));
    const seen = new Set<string>();
    const result: SenzaStack[] = [];
    for (const summary of matching) {
      if (options.uniqueOnly && seen.has(summary.StackName!)) continue;
      seen.add(summary.StackName!);
      const [name, version] = splitStackName(summary.StackName!);
      result.push({ summary, stackName: summary.StackName!, name, version });
    }
    return result;
  }

  /** Runs `render` once, or every N seconds with `-W` (2 s) or `--watch N`, until interrupted. */
  async watching(options: CommonOptions, render: () => Promise<void>): Promise<void> {
    const interval = options.watch ? Number(options.watch) : options.W ? 2 : 0;
    let rounds = 0;
    for (;;) {
      await render();
      rounds++;
      if (!interval || (this.deps.watchLimit !== undefined && rounds >= this.deps.watchLimit)) return;
      await this.sleep(interval * 1000);
    }
  }
}

export interface SenzaStack {
  summary: StackSummary;
  stackName: string;
  name: string;
  version: string;
}

export function formatOf(options: CommonOptions): OutputFormat {
  return parseOutputFormat(options.output);
}
