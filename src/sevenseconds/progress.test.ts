import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AccountReport } from './contract.js';
import { progressDisplay } from './progress.js';

/**
 * A terminal as far as the display uses one: text, newlines, cursor up (`ESC[nA`) and clear to
 * the end of the screen (`ESC[0J`), which is what node:readline's moveCursor/clearScreenDown send.
 */
const ESC = String.fromCharCode(27);

class Screen extends Writable {
  readonly lines: string[] = [''];
  row = 0;
  isTTY = true;
  columns = 40;
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    const text = chunk.toString();
    const parts = text.split(new RegExp(`(${ESC}\\[\\d*[AJ]|\n)`));
    for (const part of parts) {
      if (!part) continue;
      const escape = new RegExp(`^${ESC}\\[(\\d*)([AJ])$`).exec(part);
      if (escape?.[2] === 'A') this.row = Math.max(0, this.row - Number(escape[1] || 1));
      else if (escape?.[2] === 'J') {
        this.lines.splice(this.row + 1);
        this.lines[this.row] = '';
      } else if (part === '\n') {
        this.row++;
        this.lines[this.row] ??= '';
      } else this.lines[this.row] += part;
    }
    done();
  }
  /** What the screen shows, without the empty line the cursor waits on. */
  shown(): string[] {
    return this.lines.slice(0, this.lines.at(-1) === '' ? -1 : undefined);
  }
}

const report = (account: string, status: AccountReport['status'], n = 0, reason?: string): AccountReport => ({
  account,
  status,
  changes: Array.from({ length: n }, (_, i) => ({
    account,
    resource: `r${i}`,
    action: 'create' as const,
    detail: 'x',
  })),
  ...(reason ? { reason } : {}),
});

describe('progress while accounts converge', () => {
  it('on a terminal: a live block of running accounts, redrawn in place; finished accounts scroll up', () => {
    const screen = new Screen();
    let clock = 0;
    const progress = progressDisplay(screen, {
      total: 3,
      mode: 'configure',
      now: () => clock,
      redrawMs: 0,
    });
    progress.start('team-01');
    clock = 2000;
    progress.start('team-02');
    expect(screen.shown()).toEqual(['[0/3] 2 running', '  … team-01  2s', '  … team-02  0s']);
    clock = 5000;
    progress.finish(report('team-01', 'changed', 4));
    progress.start('team-03');
    expect(screen.shown()).toEqual([
      '[1/3] team-01: changed (4 changes)',
      '[1/3] 2 running',
      '  … team-02  3s',
      '  … team-03  0s',
    ]);
    progress.finish(
      report('team-03', 'failed', 0, 'cannot assume arn:aws:iam::222222222222:role/x: AccessDenied'),
    );
    progress.finish(report('team-02', 'unchanged'));
    progress.close();
    // The live block is gone; each finished account is one line, cut to the width (the report on
    // stdout has the whole reason).
    expect(screen.shown()).toEqual([
      '[1/3] team-01: changed (4 changes)',
      '[2/3] team-03: failed: cannot assume a…',
      '[3/3] team-02: unchanged',
    ]);
  });

  it('elsewhere (a pipe, a CI log): one line per finished account, nothing redrawn', () => {
    const screen = new Screen();
    screen.isTTY = false;
    const progress = progressDisplay(screen, { total: 2, mode: 'plan' });
    progress.start('a');
    progress.start('b');
    expect(screen.shown()).toEqual([]);
    progress.finish(report('b', 'changed', 1));
    progress.finish(report('a', 'failed', 0, 'the alias is myorg-x, not myorg-a'));
    progress.close();
    expect(screen.shown()).toEqual([
      '[1/2] b: changes (1 change planned)',
      '[2/2] a: failed: the alias is myorg-x, not myorg-a',
    ]);
  });

  it('counts the running accounts past twelve instead of listing them', () => {
    const screen = new Screen();
    const progress = progressDisplay(screen, {
      total: 20,
      mode: 'plan',
      now: () => 0,
      redrawMs: 0,
    });
    for (let i = 0; i < 15; i++) progress.start(`t${i}`);
    expect(screen.shown()).toHaveLength(1 + 12 + 1);
    expect(screen.shown().at(-1)).toBe('  … and 3 more');
    progress.close();
    expect(screen.shown()).toEqual([]);
  });
});
