import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { patchUserData } from '../senza/cli/maintenance-commands.js';
import { renderUserData, TAUPAGE_HEADER } from './user-data.js';

/**
 * Strings that a YAML 1.1 parser (Taupage's PyYAML) resolves to another type when written plain:
 * booleans, integers (underscores, base 60, hex, octal, binary), floats, dates and timestamps,
 * null, and PyYAML's own `=` (value) and `<<` (merge) tags.
 */
const AMBIGUOUS = [
  ...['yes', 'Yes', 'YES', 'no', 'No', 'on', 'On', 'off', 'OFF', 'true', 'False', 'y', 'n'],
  ...['1_000', '12:30', '190:20:30', '0x1F', '0o17', '017', '0b101', '+12', '-3', '0'],
  ...['1e3', '1.5e3', '6.8523015e+5', '1.0', '.5', '190:20:30.15', '.inf', '-.Inf', '.NaN'],
  ...['2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5'],
  ...['~', 'null', 'Null', 'NULL', '', '=', '<<'],
];
/** Strings that must stay strings whether quoted or not. */
const PLAIN = ['aws:kms:AQICAH==', 'stups/hello:1', '1,000', 'a: b', '#x', ' lead', '-', 'x'.repeat(300)];
const OTHER_SCALARS = [true, false, 0, 42, -7, 1.5, null];

function config(): Record<string, unknown> {
  const values = [...AMBIGUOUS, ...PLAIN, ...OTHER_SCALARS];
  return {
    application_id: 'my-app',
    application_version: '1.0',
    runtime: 'Docker',
    source: 'stups/hello:1',
    ports: { 80: 80, '8301/udp': 8301 },
    environment: Object.fromEntries(values.map((v, i) => [`V${i}`, v])),
    // Keys are resolved too: `yes: x` is `{true: x}` in YAML 1.1.
    cloudwatch_logs: Object.fromEntries([...AMBIGUOUS, ...PLAIN].map((k) => [k, k])),
    ssh_ports: [22, '2222'],
  };
}

/** PyYAML's safe_load, as JSON (Python's dates become `date:…`, floats stay floats). */
function pyyaml(text: string): unknown {
  const script = `
import sys, json, yaml, datetime, math
def conv(o):
    if isinstance(o, dict): return {('key:' + repr(k) if not isinstance(k, str) else k): conv(v) for k, v in o.items()}
    if isinstance(o, list): return [conv(v) for v in o]
    if isinstance(o, (datetime.date, datetime.datetime)): return 'date:' + o.isoformat()
    if isinstance(o, float) and (math.isinf(o) or math.isnan(o)): return 'float:' + repr(o)
    if isinstance(o, float): return {'float': o}
    return o
print(json.dumps(conv(yaml.safe_load(sys.stdin.read()))))
`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: text, encoding: 'utf8' }));
}

/** What PyYAML gives for a plain JS value: floats are marked so 1.0 and 1 stay apart. */
function asPyyaml(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asPyyaml);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asPyyaml(v)]));
  if (typeof value === 'number' && !Number.isInteger(value)) return { float: value };
  return value;
}

const hasPyyaml = (() => {
  try {
    execFileSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('user data reads back the same in YAML 1.1 (what Taupage parses)', () => {
  const text = renderUserData(config()) as string;
  const body = text.slice(TAUPAGE_HEADER.length + 1);

  it('quotes every string a YAML 1.1 parser would turn into a boolean, number, date or null', () => {
    expect(text.startsWith(`${TAUPAGE_HEADER}\n`)).toBe(true);
    // The yaml package's own YAML 1.1 schema (timestamps, sexagesimal numbers, yes/no/on/off).
    expect(parse(body, { version: '1.1' })).toEqual(config());
    // A YAML 1.2 reader agrees as well.
    expect(parse(body)).toEqual(config());
    expect(body).toContain('\n  80: 80\n');
  });

  it.skipIf(!hasPyyaml)('PyYAML (the parser Taupage runs) reads back exactly the same values', () => {
    const expected = asPyyaml(config()) as Record<string, unknown>;
    // Numeric port keys are integers for Taupage.
    expected.ports = { 'key:80': 80, '8301/udp': 8301 };
    expect(pyyaml(body)).toEqual(expected);
  });

  it('senza patch --user-data writes YAML 1.1 that keeps the old and the new values', () => {
    const patched = patchUserData(text, { environment: { A: 'yes', B: '12:30', C: '2001-12-14', D: true } });
    expect(patched.split('\n')[0]).toBe(TAUPAGE_HEADER);
    const patchedBody = patched.slice(TAUPAGE_HEADER.length + 1);
    const expected = { ...config(), environment: { A: 'yes', B: '12:30', C: '2001-12-14', D: true } };
    expect(parse(patchedBody, { version: '1.1' })).toEqual(expected);
    if (hasPyyaml) {
      const py = asPyyaml(expected) as Record<string, unknown>;
      py.ports = { 'key:80': 80, '8301/udp': 8301 };
      expect(pyyaml(patchedBody)).toEqual(py);
    }
  });
});
