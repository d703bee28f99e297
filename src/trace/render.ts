import type { Fact, Trace, TraceLink } from './chain.js';

const MARK = { ok: '✓', broken: '✗', unknown: '?', warning: '!' } as const;
const WHY = { ok: '', broken: 'BROKEN', unknown: 'UNKNOWN', warning: 'NOTE' } as const;

const showFact = (value: Fact) => (value === null ? '-' : String(value));

/**
 * The chain as a text tree: each link one line (mark, kind, label), its facts indented below,
 * and `why` on a line of its own when it is broken or unknown. The chain is a path, so each
 * link sits one level below the one before; an application's images branch.
 */
export function renderTraceText(trace: Trace): string {
  const lines: string[] = [];
  const walk = (links: readonly TraceLink[], depth: number) => {
    let level = depth;
    for (const link of links) {
      const indent = '  '.repeat(level);
      lines.push(`${indent}${level === 0 ? '' : '└─ '}${MARK[link.status]} ${link.kind}: ${link.label}`);
      const detail = `${indent}${level === 0 ? '   ' : '      '}`;
      if (link.why) lines.push(`${detail}${WHY[link.status]}: ${link.why}`);
      for (const [key, value] of Object.entries(link.facts))
        lines.push(`${detail}${key}: ${showFact(value)}`);
      if (link.children?.length) walk(link.children, level + 1);
      level++;
    }
  };
  walk(trace.links, 0);
  lines.push(trace.whole ? 'chain whole' : `chain broken: ${brokenKinds(trace).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function brokenKinds(trace: Trace): string[] {
  const out: string[] = [];
  const walk = (links: readonly TraceLink[]) => {
    for (const l of links) {
      if (l.status === 'broken') out.push(l.kind);
      walk(l.children ?? []);
    }
  };
  walk(trace.links);
  return out;
}
