import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CliError } from '../platform/cli/cli-error.js';

/** Clipboard programs Più knows, per platform, in order of preference. */
const TOOLS: Record<string, { command: string; args: string[] }[]> = {
  darwin: [{ command: 'pbcopy', args: [] }],
  win32: [{ command: 'clip', args: [] }],
  default: [
    { command: 'wl-copy', args: [] },
    { command: 'xclip', args: ['-selection', 'clipboard'] },
    { command: 'xsel', args: ['--clipboard', '--input'] },
  ],
};

export interface Clipboard {
  command: string;
  args: string[];
}

/** The first clipboard program on PATH, or a clear error naming what to install. */
export function findClipboard(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): Clipboard {
  const tools = TOOLS[platform] ?? TOOLS.default!;
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const tool of tools) {
    if (dirs.some((dir) => existsSync(join(dir, tool.command)))) return tool;
  }
  throw new CliError(
    `--clip needs a clipboard program, and none of ${tools.map((t) => t.command).join(', ')} is installed` +
      (platform === 'linux' ? ' (e.g. apt-get install xclip)' : ''),
  );
}

/** Pipes text into the clipboard program. */
export function copyToClipboard(tool: Clipboard, text: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool.command, tool.args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => reject(new CliError(`cannot run ${tool.command}: ${error.message}`)));
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new CliError(`${tool.command} failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`),
          ),
    );
    child.stdin.end(text);
  });
}
