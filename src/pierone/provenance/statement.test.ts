import { describe, expect, it } from 'vitest';
import { digestParts } from './statement.js';

describe('in-toto subject digests', () => {
  it('reads sha256 and sha512 digests as the algorithm and hex a digest set uses; nothing else', () => {
    expect(digestParts(`sha256:${'a'.repeat(64)}`)).toEqual({ algorithm: 'sha256', hex: 'a'.repeat(64) });
    expect(digestParts(`sha512:${'b'.repeat(128)}`)).toEqual({ algorithm: 'sha512', hex: 'b'.repeat(128) });
    expect(digestParts(`sha512:${'b'.repeat(64)}`)).toBeUndefined();
    expect(digestParts(`sha256:${'A'.repeat(64)}`)).toBeUndefined();
    expect(digestParts(`md5:${'c'.repeat(32)}`)).toBeUndefined();
  });
});
