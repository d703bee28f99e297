import { Document, type DocumentOptions, isPair, isScalar, type SchemaOptions, visit } from 'yaml';

/** The first line Taupage's cloud-init looks for; any other user data is ignored by Taupage. */
export const TAUPAGE_HEADER = '#taupage-ami-config';

export type CfnValue = string | { 'Fn::Join': [string, unknown[]] };

const isCfnFunction = (node: unknown): node is Record<string, unknown> => {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return false;
  const keys = Object.keys(node);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
};

/**
 * Plain strings that PyYAML (Taupage reads user data with it) resolves to something other than a
 * string although the `yaml` package's YAML 1.1 schema keeps them plain: `=` is PyYAML's `value`
 * tag (which its safe loader cannot construct) and `<<` its merge key. `0o17` is an integer in
 * YAML 1.2: quoted as well, so a 1.2 reader of the same user data agrees.
 */
const PYYAML_ONLY = /^(?:=|<<|[-+]?0o[0-7_]+)$/;

/** YAML 1.1 as Taupage's parser reads it; `<<` is a plain string here, never a merge key. */
const YAML_1_1: DocumentOptions & SchemaOptions = {
  version: '1.1',
  customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:merge'),
};

/**
 * The config as YAML 1.1 text. Taupage parses user data with a YAML 1.1 parser, where `yes`,
 * `off`, `1_000`, `12:30`, `2001-12-14`, `~` and the like are booleans, numbers, dates or null:
 * every string that would read back as anything else is quoted, keys included.
 */
export function taupageYaml(config: unknown): string {
  const doc = new Document(config, YAML_1_1);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && PYYAML_ONLY.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
    // Port maps keep numeric keys numeric (`8080: 8080`), as Taupage reads them.
    Pair(_key, pair, path) {
      const owner = path.at(-2);
      if (
        path.length === 4 &&
        isPair(owner) &&
        isScalar(owner.key) &&
        owner.key.value === 'ports' &&
        isScalar(pair.key) &&
        typeof pair.key.value === 'string' &&
        /^\d+$/.test(pair.key.value)
      ) {
        pair.key.value = Number(pair.key.value);
      }
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/**
 * Renders a Taupage config as user data. Values that are CloudFormation functions (`Ref`,
 * `Fn::GetAtt`, …) cannot be YAML text yet, so the result is then an `Fn::Join` of text parts
 * and those functions, resolved by CloudFormation at stack creation. `aws:kms:` values are kept
 * verbatim: Taupage decrypts them on the instance.
 */
export function renderUserData(config: Record<string, unknown>): CfnValue {
  const functions: unknown[] = [];
  const token = (i: number) => `__senza_cfn_function_${i}__`;
  const transform = (node: unknown): unknown => {
    if (isCfnFunction(node)) {
      functions.push(node);
      return token(functions.length - 1);
    }
    if (Array.isArray(node)) return node.map(transform);
    if (typeof node === 'object' && node !== null) {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, transform(v)]));
    }
    return node;
  };
  const text = `${TAUPAGE_HEADER}\n${taupageYaml(transform(config))}`;
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
