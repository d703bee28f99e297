import { parseString } from '@fast-csv/parse';
import { NONE, type ReportAccount } from '../report.js';

/** Ten accounts over three cost centres and two OUs; one has no cost centre. */
export function tenAccounts(): ReportAccount[] {
  return Array.from({ length: 10 }, (_, i) => ({
    id: String(100000000001 + i),
    name: `sandbox-${i + 1}`,
    organizationalUnit: i < 6 ? 'Engineering' : 'Data',
    costCenter: i === 9 ? NONE : ['cc-100', 'cc-200', "cc-3'00"][i % 3]!,
    holder: `user${i + 1}`,
    state: ['assigned', 'released', 'assigned', 'purged', 'assigned'][i % 5]!,
    tags: {},
  }));
}

export async function parseCsv(text: string): Promise<Record<string, string>[]> {
  return new Promise((resolve, reject) => {
    const out: Record<string, string>[] = [];
    parseString<Record<string, string>, Record<string, string>>(text, { headers: true })
      .on('data', (r: Record<string, string>) => out.push(r))
      .on('error', reject)
      .on('end', () => resolve(out));
  });
}
