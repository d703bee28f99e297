import { stringify } from 'yaml';

/** The first line Taupage's cloud-init looks for; any other user data is ignored by Taupage. */
export const TAUPAGE_HEADER = '#taupage-ami-config';

export type CfnValue = string | { 'Fn::Join': [string, unknown[]] };

const isCfnFunction = (node: unknown): node is Record<string, unknown> => {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return false;
  const keys = Object.keys(node);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
};

/**
 * Renders a Taupage config as user data. Values that are CloudFormation functions (`Ref`,
 * `Fn::GetAtt`, …) cannot be YAML text yet, so the result is then an `Fn::Join` of text parts
 * and those functions, resolved by CloudFormation at stack creation. `aws:kms:` values are kept
 * verbatim: Taupage decrypts them on the instance.
 */
export function renderUserData(config: Record<string, unknown>): CfnValue {
  const functions: unknown[] = [];
  const token = (i: number) => `__senza_cfn_function_${i}__`;
  const transform = (node: unknown, key?: string): unknown => {
    if (isCfnFunction(node)) {
      functions.push(node);
      return token(functions.length - 1);
    }
    if (Array.isArray(node)) return node.map((n) => transform(n));
    if (typeof node === 'object' && node !== null) {
      // Port maps keep numeric keys numeric (`8080: 8080`), as Taupage reads them.
      if (key === 'ports') {
        return new Map(Object.entries(node).map(([k, v]) => [/^\d+$/.test(k) ? Number(k) : k, transform(v)]));
      }
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, transform(v, k)]));
    }
    return node;
  };
  const text = `${TAUPAGE_HEADER}\n${stringify(transform(config), { lineWidth: 0 })}`;
  if (!functions.length) return text;
  const parts: unknown[] = [];
  let rest = text;
  functions.forEach((fn, i) => {
    const at = rest.indexOf(token(i));
    parts.push(rest.slice(0, at), fn);
    rest = rest.slice(at + token(i).length);
  });
  parts.push(rest);
  return { 'Fn::Join': ['', parts] };
}
