import { clearScreenDown, moveCursor } from 'node:readline';
import type { AccountReport } from './contract.js';

/** Where progress goes (stderr); a terminal says so with `isTTY` and its width in `columns`. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressDisplay {
  start(account: string): void;
  finish(report: AccountReport): void;
  /** Removes the live lines and stops redrawing; finished lines stay. */
  close(): void;
}

export interface ProgressOptions {
  total: number;
  mode: 'plan' | 'configure';
  /** Defaults to the stream's own `isTTY`. */
  tty?: boolean;
  now?: () => number;
  /** How often the running accounts' times are redrawn on a terminal. */
  redrawMs?: number;
}

/** At most this many running accounts get a line of their own; the rest are counted. */
const MAX_RUNNING_LINES = 12;

/** One line per finished account: what happened and, for a failure, the one-line reason. */
export function finishedLine(report: AccountReport, mode: 'plan' | 'configure'): string {
  if (report.status === 'failed') return `${report.account}: failed: ${report.reason ?? ''}`;
  if (report.status === 'unchanged') return `${report.account}: unchanged`;
  const n = report.changes.length;
  return `${report.account}: ${mode === 'plan' ? 'changes' : 'changed'} (${n} change${n === 1 ? '' : 's'}${mode === 'plan' ? ' planned' : ''})`;
}

/**
 * Shows accounts converging. On a terminal: finished accounts scroll up one line each, and below
 * them a live block (a count, then one line per running account with its time so far) is redrawn
 * in place. Elsewhere (a pipe, a CI log): only one line per finished account, `[3/20] team-03:
 * changed (4 changes)`, so logs stay readable.
 */
export function progressDisplay(stream: ProgressStream, options: ProgressOptions): ProgressDisplay {
  const tty = options.tty ?? stream.isTTY === true;
  const now = options.now ?? Date.now;
  const running = new Map<string, number>();
  let done = 0;
  let failed = 0;
  let drawnLines = 0;
  let timer: NodeJS.Timeout | undefined;

  // A line wider than the terminal wraps, and the block would no longer be erased line by line.
  const fit = (line: string) => {
    const width = stream.columns ? stream.columns - 1 : Infinity;
    return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
  };
  const erase = () => {
    if (!drawnLines) return;
    moveCursor(stream, 0, -drawnLines);
    clearScreenDown(stream);
    drawnLines = 0;
  };
  const draw = () => {
    const lines = [`[${done}/${options.total}] ${running.size} running${failed ? `, ${failed} failed` : ''}`];
    const shown = [...running].slice(0, MAX_RUNNING_LINES);
    for (const [account, since] of shown) {
      lines.push(`  … ${account}  ${Math.floor((now() - since) / 1000)}s`);
    }
    if (running.size > shown.length) lines.push(`  … and ${running.size - shown.length} more`);
    stream.write(lines.map((l) => `${fit(l)}\n`).join(''));
    drawnLines = lines.length;
  };
  const redraw = () => {
    erase();
    draw();
  };

  return {
    start(account) {
      running.set(account, now());
      if (!tty) return;
      redraw();
      if (!timer && options.redrawMs !== 0) {
        timer = setInterval(redraw, options.redrawMs ?? 1000);
        // Never what keeps the process alive.
        timer.unref();
      }
    },
    finish(report) {
      running.delete(report.account);
      done++;
      if (report.status === 'failed') failed++;
      const line = `[${done}/${options.total}] ${finishedLine(report, options.mode)}`;
      if (!tty) {
        stream.write(`${line}\n`);
        return;
      }
      erase();
      stream.write(`${fit(line)}\n`);
      draw();
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (tty) erase();
    },
  };
}
