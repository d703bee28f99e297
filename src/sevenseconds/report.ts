import type { AccountReport, Change } from './contract.js';
import type { TrustFinding } from './trust-graph.js';

const MARK: Record<Change['action'], string> = { create: '+', update: '~', delete: '-' };

/** The per-account report as text: one line per account, one indented line per change. */
export function renderReports(reports: readonly AccountReport[], mode: 'plan' | 'configure'): string {
  const width = Math.max(...reports.map((r) => r.account.length), 7);
  const lines: string[] = [];
  for (const r of reports) {
    const status = mode === 'plan' && r.status === 'changed' ? 'changes' : r.status;
    const tail =
      r.status === 'failed'
        ? `  ${r.reason ?? ''}`
        : r.changes.length
          ? `  ${r.changes.length} change${r.changes.length === 1 ? '' : 's'}${mode === 'plan' ? ' planned' : ''}`
          : '';
    lines.push(`${r.account.padEnd(width)}  ${status.padEnd(9)}${tail}`.trimEnd());
    for (const c of r.changes) lines.push(`  ${MARK[c.action]} ${c.resource}: ${c.detail}`);
  }
  const count = (s: AccountReport['status']) => reports.filter((r) => r.status === s).length;
  const changed = mode === 'plan' ? `${count('changed')} with changes` : `${count('changed')} changed`;
  lines.push(
    `${reports.length} account${reports.length === 1 ? '' : 's'}: ${changed}, ${count('unchanged')} unchanged, ${count('failed')} failed${mode === 'plan' ? ' (plan: nothing was changed)' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderFindings(findings: readonly TrustFinding[]): string {
  return findings.map((f) => `${f.message}\n`).join('');
}
