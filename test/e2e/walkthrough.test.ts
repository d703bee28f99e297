import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bastionUnavailableReason,
  type LoopbackBastion,
  startLoopbackBastion,
} from '../../src/odd/test-support/loopback-bastion.js';
import { skipWithout } from '../../src/platform/test-support/required-parts.js';
import { SERVICE_NAMES } from '../../src/platform/service-context.js';
import { freePortBlock, freePorts } from '../../src/stups/free-ports.js';
import { ROOT } from './support/start-stups.js';

/*
 * docs/walkthrough.md as a newcomer follows it: every ```sh block, exactly as the page shows it,
 * run with bash in order, from a fresh HOME outside the repository, with the tools installed the
 * way the page says (`npm install -g .` into `~/.local`). Foreground blocks share one bash session,
 * like one terminal (cd and export carry over); a block marked `walkthrough: background until
 * "TEXT"` gets a bash of its own, like a second terminal, and the run goes on once it printed
 * TEXT. Blocks marked `walkthrough: not run (REASON)` are the only ones left out, and the list of
 * them is checked below, so a new block that cannot run here fails this test instead of being
 * skipped. The one change to the text: the page's ports (8090–8097 for the platform, 5000 for the
 * AWS emulator) are moved to free ones. Needs `npm run build` (npm test does it).
 */

const DOC = join(ROOT, 'docs/walkthrough.md');
/** Printed by the session after each block; never part of a command's output. */
const DONE = '__walkthrough_block_done__';

interface Block {
  /** Line of the opening fence in the document, for messages. */
  line: number;
  text: string;
  mode:
    | { kind: 'run' }
    | { kind: 'background'; ready: string; stopping?: string }
    | { kind: 'not run'; reason: string };
}

/** The ```sh blocks of the page with the marker comment above each (blank lines between allowed). */
export function walkthroughBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let marker: Block['mode'] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('<!-- walkthrough:')) {
      const background =
        /^<!-- walkthrough: background until "([^"]+)"(?: after stopping "([^"]+)")? -->$/.exec(line);
      const notRun = /^<!-- walkthrough: not run \((.+)\) -->$/.exec(line);
      if (background?.[1])
        marker = {
          kind: 'background',
          ready: background[1],
          ...(background[2] ? { stopping: background[2] } : {}),
        };
      else if (notRun?.[1]) marker = { kind: 'not run', reason: notRun[1] };
      else throw new Error(`docs/walkthrough.md:${i + 1}: unknown walkthrough marker: ${line}`);
      continue;
    }
    if (line.startsWith('```')) {
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? '').startsWith('```'); i++) body.push(lines[i] ?? '');
      if (line.trim() === '```sh')
        blocks.push({ line: start + 1, text: body.join('\n'), mode: marker ?? { kind: 'run' } });
      else if (marker)
        throw new Error(`docs/walkthrough.md:${start + 1}: a walkthrough marker above a non-sh block`);
      marker = undefined;
      continue;
    }
    if (marker && line.trim() !== '')
      throw new Error(`docs/walkthrough.md:${i + 1}: text between a walkthrough marker and its sh block`);
  }
  return blocks;
}

const moto = spawnSync('moto_server', ['--help'], { encoding: 'utf8' });
const skopeoProbe = spawnSync('skopeo', ['--version'], { encoding: 'utf8' });
const umociProbe = spawnSync('umoci', ['--version'], { encoding: 'utf8' });
const skip =
  skipWithout(
    'moto_server',
    moto.status === 0
      ? undefined
      : `the walkthrough's Senza step runs stups aws-emulator: ${moto.error?.message ?? moto.stderr}`,
  ) ||
  skipWithout(
    'skopeo',
    skopeoProbe.status === 0 && umociProbe.status === 0
      ? undefined
      : `the walkthrough's image step runs umoci and skopeo: ${(skopeoProbe.error ?? umociProbe.error)?.message ?? 'not found'}`,
  ) ||
  // Throws instead when STUPS_REQUIRE names sshd: the SSH step runs against a real bastion.
  bastionUnavailableReason() !== undefined;

let home: string;
/** Test-only commands ahead of PATH (see the ssh shim below). */
let shims: string;
let basePort: number;
let motoPort: number;
let env: NodeJS.ProcessEnv;
const background: { block: Block; child: ChildProcess }[] = [];
/** The bastion of step 7: a real sshd with odd installed, on loopback, trusting this run's even key. */
let bastion: LoopbackBastion | undefined;
/** The login odd creates for jdoe on this machine, removed afterwards unless it was there before. */
let jdoeExisted = false;

/** The page's placeholders for the bastion (step 7) that a reader replaces with their bastion's. */
const BASTION_PORT_IN_PAGE = 2222;
const BASTION_HOST_KEY_IN_PAGE = 'ssh-ed25519 AAAA… bastion';
const GRANTING_USER_IN_PAGE = '"user": "granting-service"';

/**
 * The page's ports moved to the free ones of this run, and step 7's placeholders replaced with the
 * test's bastion as the page tells the reader to (its port, host key and granting user); nothing
 * else of a block changes.
 */
function localise(text: string): string {
  const local = bastion;
  const withBastion = local
    ? text
        .replaceAll(BASTION_HOST_KEY_IN_PAGE, local.hostKey)
        .replaceAll(GRANTING_USER_IN_PAGE, `"user": "${local.grantingUser}"`)
        .replace(new RegExp(`("port": |Port )${BASTION_PORT_IN_PAGE}\\b`, 'g'), `$1${local.port}`)
    : text;
  return withBastion
    .replace(/\b(localhost|127\.0\.0\.1):(809[0-7])\b/g, (_m, host: string, port: string) => {
      return `${host}:${basePort + Number(port) - 8090}`;
    })
    .replace(/\b(localhost|127\.0\.0\.1):5000\b/g, `$1:${motoPort}`)
    .replace(/--port 5000\b/g, `--port ${motoPort}`);
}

/** Starts a background block in a bash of its own and resolves once it printed `ready`. */
function startBackground(block: Block & { mode: { kind: 'background' } }): Promise<string> {
  const child = spawn('bash', ['--noprofile', '--norc', '-c', `set -euo pipefail\n${localise(block.text)}`], {
    cwd: home,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  background.push({ block, child });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes(block.mode.ready)) {
        clearInterval(timer);
        resolve(out);
      }
    }, 100);
    child.on('exit', (code) => {
      clearInterval(timer);
      reject(
        new Error(
          `docs/walkthrough.md:${block.line}: background block exited with ${code}:\n${block.text}\n${out}`,
        ),
      );
    });
  });
}

/** Ctrl-C in the terminal of every running background block that runs `command`; waits until it ended. */
async function stopBackground(command: string): Promise<void> {
  for (const { block, child } of background) {
    if (!block.text.includes(command) || child.exitCode !== null || child.pid === undefined) continue;
    const exited = new Promise((resolve) => child.on('exit', resolve));
    process.kill(-child.pid, 'SIGINT');
    const pid = child.pid;
    const hard = setTimeout(() => process.kill(-pid, 'SIGKILL'), 30_000);
    await exited;
    clearTimeout(hard);
  }
}

/** The first file called `name` below `dir`. */
async function findFile(dir: string, name: string): Promise<string | undefined> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name === name) return path;
    if (entry.isDirectory()) {
      const found = await findFile(path, name);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Step 7's bastion, started once the platform has made even's key: odd installed by its own
 * install.sh, trusting that key and asking this run's even for people's SSH keys.
 */
async function startBastion(): Promise<LoopbackBastion> {
  const keyFile = await findFile(join(home, 'hello-stups', '.stups'), 'even-ssh-key.pub');
  if (!keyFile) throw new Error("even's public key is not in ~/hello-stups/.stups: did stups up start?");
  jdoeExisted = spawnSync('getent', ['passwd', 'jdoe']).status === 0;
  return startLoopbackBastion({
    evenUrl: `http://localhost:${basePort + SERVICE_NAMES.indexOf('even')}`,
    evenPublicKey: (await readFile(keyFile, 'utf8')).trim(),
  });
}

/** One bash session, like a terminal: blocks are written to its stdin one at a time. */
class Session {
  readonly child: ChildProcess & { stdin: NodeJS.WritableStream };
  private out = '';
  private readonly exited: Promise<number | null>;

  constructor() {
    const child = spawn('bash', ['--noprofile', '--norc'], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout.on('data', (c: Buffer) => (this.out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (this.out += c.toString()));
    this.exited = new Promise((resolve) => child.on('exit', resolve));
    child.stdin.write('set -euo pipefail\n');
  }

  /** Runs a block (its stdin is /dev/null, so no command can eat the rest of the script); its output. */
  async run(block: Block, n: number): Promise<string> {
    const start = this.out.length;
    const marker = `${DONE} ${n}`;
    this.child.stdin.write(`{\n${localise(block.text)}\n} </dev/null 2>&1\nprintf '\\n%s\\n' '${marker}'\n`);
    for (;;) {
      const done = await Promise.race([
        this.exited.then((code) => ({ code })),
        new Promise<undefined>((resolve) => setTimeout(resolve, 100)),
      ]);
      const output = this.out.slice(start);
      if (output.includes(marker)) return output.slice(0, output.indexOf(marker));
      if (done)
        throw new Error(
          `docs/walkthrough.md:${block.line}: the block failed (bash exit ${done.code}):\n${block.text}\n--- output:\n${output}`,
        );
    }
  }

  close(): void {
    this.child.stdin.end();
  }
}

/*
 * Ignored files are left out: other test files running beside this one may write some (e.g.
 * browser screenshots). What the walkthrough itself would write, ignored or not, is checked by
 * name below.
 */
const gitStatus = () =>
  spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout;

/** Names the walkthrough creates in its own directory (`.stups`, the checkout, `image`, …). */
const WALKTHROUGH_NAMES = ['.stups', 'hello-world', 'hello-world.yaml', 'image', 'bundle', 'scm-source.json'];
const presentInRepository = () => WALKTHROUGH_NAMES.filter((name) => existsSync(join(ROOT, name)));

describe('docs/walkthrough.md', () => {
  it('marks exactly the blocks it cannot run, each with its reason', async () => {
    const blocks = walkthroughBlocks(await readFile(DOC, 'utf8'));
    expect(blocks.filter((b) => b.mode.kind === 'run').length).toBeGreaterThanOrEqual(9);
    expect(blocks.filter((b) => b.mode.kind === 'background').map((b) => b.text)).toEqual([
      'mkdir -p ~/hello-stups && cd ~/hello-stups\nstups up',
      'stups aws-emulator --port 5000',
      'cd ~/hello-stups\nSTUPS_EVEN_CONFIG="$(cat ~/hello-stups/even.json)" stups up',
    ]);
    // What the test leaves out, and why: a block added to this list needs a reason a reviewer accepts.
    expect(blocks.flatMap((b) => (b.mode.kind === 'not run' ? [b.text.split('\n')[0]] : []))).toEqual([
      'npm ci && npm run build',
    ]);
    const all = blocks.map((b) => b.text).join('\n');
    expect(all).not.toMatch(/\bnpx\b/);
    expect(all).toMatch(/localhost:8091/);
  });
});

describe.skipIf(skip)('docs/walkthrough.md, run as written', () => {
  let statusBefore: string;
  let presentBefore: string[];
  const outputs: { block: Block; output: string }[] = [];

  beforeAll(async () => {
    for (const built of ['dist/stups/cli/main.js', 'dist/console']) {
      if (!existsSync(join(ROOT, built)))
        throw new Error(
          `the walkthrough installs the built checkout (${built} is missing): npm run build first`,
        );
    }
    statusBefore = gitStatus();
    presentBefore = presentInRepository();
    home = await mkdtemp(join(tmpdir(), 'walkthrough-home-'));
    /*
     * ssh finds ~/.ssh through the passwd entry of the user running it, not through HOME, so in
     * this fresh HOME it would read root's files instead of the ones the page writes. A shim, for
     * this test only, hands ssh the page's files; a reader's ssh finds them by itself.
     */
    shims = await mkdtemp(join(tmpdir(), 'walkthrough-shims-'));
    await writeFile(
      join(shims, 'ssh'),
      [
        '#!/bin/sh',
        'exec /usr/bin/ssh -F "$HOME/.ssh/config" -o UserKnownHostsFile="$HOME/.ssh/known_hosts" \\',
        '  -o IdentityFile="$HOME/.ssh/id_ed25519" -o BatchMode=yes "$@"',
        '',
      ].join('\n'),
    );
    await chmod(join(shims, 'ssh'), 0o755);
    basePort = await freePortBlock(SERVICE_NAMES.length);
    [motoPort] = (await freePorts(1)) as [number];
    // A newcomer's git knows who they are.
    await writeFile(join(home, '.gitconfig'), '[user]\n\tname = Jane Doe\n\temail = jdoe@example.org\n');
    const passThrough = ['LANG', 'LC_ALL', 'TZ', 'PYENV_ROOT', 'PYENV_VERSION', 'STUPS_REQUIRE'];
    env = {
      ...Object.fromEntries(passThrough.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : []))),
      // No npm_* variables of the npm that started the tests (its userconfig is the real ~/.npmrc).
      HOME: home,
      USER: 'jdoe',
      // Terminals opened after the install have ~/.local/bin on PATH (the page says: in your profile);
      // the first session gets it from the page's own `export`.
      PATH: `${shims}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      // `stups up` on this run's free ports; the page's URLs are moved to match (localise).
      STUPS_BASE_PORT: String(basePort),
      // Installing a checkout needs no registry; never ask one, nor print notices.
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
    };
  }, 60_000);

  afterAll(async () => {
    for (const { child } of background) {
      if (child.exitCode !== null || child.pid === undefined) continue;
      const exited = new Promise((resolve) => child.on('exit', resolve));
      // The whole terminal: bash, stups and the moto_server it started; Ctrl-C's clean stop
      // first, then the hard one, so that a hung shutdown cannot outlive the test.
      process.kill(-child.pid, 'SIGTERM');
      const pid = child.pid;
      const hard = setTimeout(() => process.kill(-pid, 'SIGKILL'), 20_000);
      await exited;
      clearTimeout(hard);
    }
    await bastion?.stop();
    if (bastion && !jdoeExisted) {
      spawnSync('pkill', ['-KILL', '-u', 'jdoe']);
      spawnSync('userdel', ['-r', 'jdoe']);
    }
    if (home) await rm(home, { recursive: true, force: true });
    if (shims) await rm(shims, { recursive: true, force: true });
  }, 60_000);

  it('runs every sh block in order from a fresh home, with the tools the page installs', async () => {
    const blocks = walkthroughBlocks(await readFile(DOC, 'utf8'));
    const session = new Session();
    // Where the time goes, printed with the result (the run is long; this says which step grew).
    const timings: string[] = [];
    const timed = async <T>(block: Block, run: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const result = await run();
      timings.push(`${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s  line ${block.line}`);
      return result;
    };
    try {
      for (const [n, block] of blocks.entries()) {
        if (block.mode.kind === 'not run') continue;
        if (!bastion && block.text.includes('odd-eu-central-1')) bastion = await startBastion();
        if (block.mode.kind === 'background') {
          if (block.mode.stopping) await stopBackground(block.mode.stopping);
          const b = { ...block, mode: block.mode };
          outputs.push({ block, output: await timed(block, () => startBackground(b)) });
          continue;
        }
        outputs.push({ block, output: await timed(block, () => session.run(block, n)) });
        if (block.text.includes('npm install -g .')) {
          // The tools come from ~/.local, linked to this checkout, not from anywhere else.
          for (const tool of ['stups', 'zign', 'kio', 'pierone', 'senza', 'piu', 'docker-credential-pierone'])
            expect((await lstat(join(home, '.local/bin', tool))).isSymbolicLink(), tool).toBe(true);
          expect(await realpath(join(home, '.local/lib/node_modules/stups'))).toBe(await realpath(ROOT));
          env.PATH = `${join(home, '.local/bin')}:${env.PATH ?? ''}`;
        }
      }
    } finally {
      session.close();
      console.log(`docs/walkthrough.md blocks:\n${timings.join('\n')}`);
    }

    const outputOf = (command: string) => {
      const found = outputs.find((o) => o.block.text.includes(command));
      if (!found) throw new Error(`no block runs ${command}`);
      return found.output;
    };
    expect(outputOf('stups --version')).toMatch(/^0\.1\.0$/m);
    expect(outputOf('kio app show hello-world')).toContain('Hello World');
    // The image carries scm-source.json from the checkout: Pier One shows its origin and revision.
    const revision = spawnSync('git', ['rev-parse', 'HEAD'], {
      cwd: join(home, 'hello-stups/hello-world'),
      encoding: 'utf8',
    }).stdout.trim();
    expect(revision).toMatch(/^[0-9a-f]{40}$/);
    const scm = outputOf('pierone scm-source demo hello-world 1.0');
    expect(scm).toContain('git:https://git.example.org/demo/hello-world.git');
    expect(scm).toContain(revision);
    // senza init proposed the image just pushed, and the definition runs it.
    const pierone = `localhost:${basePort + SERVICE_NAMES.indexOf('pierone')}`;
    expect(outputOf('senza init')).toContain(
      `Docker image ${pierone}/demo/hello-world from Pier One (latest tag: 1.0)`,
    );
    const definition = await readFile(join(home, 'hello-stups/hello-world.yaml'), 'utf8');
    expect(definition).toContain(`source: "${pierone}/demo/hello-world:{{Arguments.ImageVersion}}"`);
    expect(outputOf('senza create')).toContain('OK: Stack(s) hello-world-1 created successfully.');
    expect(outputOf('senza list hello-world')).toMatch(/hello-world 1\s+CREATE_COMPLETE/);
    expect(outputOf('senza traffic hello-world 1 100')).toMatch(
      /hello-world 1\s+hello-world-1\s+0\s+100\s+100/,
    );
    // The second version took the traffic, and deleting the first left its weighted record alone
    // (moto without the emulator's Route53 fix deletes every record of the name).
    const switched = outputOf('senza delete hello-world 1');
    expect(outputOf('senza create hello-world.yaml 2 1.0')).toContain(
      'OK: Stack(s) hello-world-2 created successfully.',
    );
    expect(switched).toMatch(/hello-world 2\s+hello-world-2\s+0\s+100\s+100/);
    const afterDelete = switched.split('Deleting Cloud Formation stack hello-world-1.. OK\n')[1] ?? '';
    expect(afterDelete.trim().split('\n')).toEqual([
      expect.stringMatching(/^Stack Name\s+Version\s+Identifier\s+Weight%$/),
      expect.stringMatching(/^hello-world 2\s+hello-world-2\s+100$/),
    ]);
    // Step 7: even granted the access through the bastion's odd, and the login worked.
    const access = outputOf('piu odd-eu-central-1.demo.example.org');
    expect(access).toMatch(/for user jdoe was granted/);
    expect(access).toContain('logged in to the bastion as jdoe');
    expect(await bastion?.oddLog()).toMatch(/jdoe/);
  }, 480_000);

  it('wrote nothing into the repository; the platform keeps its data in ~/hello-stups', async () => {
    expect(outputs.length).toBeGreaterThan(0);
    expect(gitStatus()).toBe(statusBefore);
    expect(presentInRepository()).toEqual(presentBefore);
    const own = await readdir(join(home, 'hello-stups'));
    expect(own).toEqual(
      expect.arrayContaining(['.stups', 'hello-world', 'hello-world.yaml', 'image', 'bundle']),
    );
    expect(existsSync(join(home, 'hello-stups/hello-world/scm-source.json'))).toBe(true);
  });
});
