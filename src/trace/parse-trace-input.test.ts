import { describe, expect, it } from 'vitest';
import { parseTraceInput } from './walk.js';

describe('parseTraceInput digests', () => {
  it('takes sha256 and sha512 digests (whole or a prefix of 12+ hex), nothing else', () => {
    const sha256 = `sha256:${'a'.repeat(64)}`;
    const sha512 = `sha512:${'b'.repeat(128)}`;
    expect(parseTraceInput(sha256)).toEqual({ kind: 'digest', digest: sha256 });
    expect(parseTraceInput(sha512)).toEqual({ kind: 'digest', digest: sha512 });
    expect(parseTraceInput(`sha512:${'c'.repeat(12)}`)).toEqual({
      kind: 'digest',
      digest: `sha512:${'c'.repeat(12)}`,
    });
    expect(parseTraceInput(`sha512:${'b'.repeat(129)}`)).toBeUndefined();
    expect(parseTraceInput(`sha256:${'a'.repeat(65)}`)).toBeUndefined();
    expect(parseTraceInput(`blake3:${'a'.repeat(64)}`)).toBeUndefined();
  });
});
