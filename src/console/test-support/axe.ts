import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const AXE = fileURLToPath(new URL('../../../node_modules/axe-core/axe.min.js', import.meta.url));
let source: Promise<string> | undefined;

/** The WCAG 2.1 A and AA rules: what the console promises. */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface AxeViolation {
  id: string;
  help: string;
  nodes: { target: unknown[] }[];
}

declare global {
  interface Window {
    axe?: { run(context: Document, options: unknown): Promise<{ violations: AxeViolation[] }> };
  }
}

/**
 * Runs axe-core in the page and returns its WCAG 2.1 A/AA violations as `rule: help @ selectors`
 * lines (empty when clean). The script is evaluated through the debugging protocol, which the
 * console's CSP (`script-src 'self'`) does not govern, so the page under test stays as shipped.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  source ??= readFile(AXE, 'utf8');
  if (!(await page.evaluate(() => window.axe !== undefined))) await page.evaluate(await source);
  const violations = await page.evaluate(async (tags) => {
    const axe = window.axe;
    if (!axe) throw new Error('axe-core did not load into the page');
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  }, TAGS);
  return violations.map((v) => `${v.id}: ${v.help} @ ${v.targets.join(', ')}`);
}

/** WCAG contrast ratio of two computed colours (`rgb(…)`/`rgba(…)`, alpha ignored). */
export function contrastRatio(a: string, b: string): number {
  const luminance = (color: string) => {
    const [r = 0, g = 0, bl = 0] = (color.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
    const channel = (c: number) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(bl);
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
}
