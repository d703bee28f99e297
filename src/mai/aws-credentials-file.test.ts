import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSection, setSection, writeProfileCredentials } from './aws-credentials-file.js';

const handWritten = `# my credentials — do not lose this comment
[default]
aws_access_key_id = AKIAOLDDEFAULT
aws_secret_access_key = old/secret
; a semicolon comment
region = eu-central-1

[other]
aws_access_key_id=AKIAOTHER
aws_secret_access_key=other
s3 =
    max_concurrent_requests = 20

# trailing comment
`;

describe('AWS credentials file editing', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('replaces keys of an existing section in place and keeps every other line', () => {
    const updated = setSection(handWritten, 'default', {
      aws_access_key_id: 'AKIANEW',
      aws_secret_access_key: 'new/secret',
      aws_session_token: 'token1',
    });
    expect(updated).toBe(
      handWritten
        .replace('AKIAOLDDEFAULT', 'AKIANEW')
        .replace('old/secret', 'new/secret')
        .replace('region = eu-central-1\n', 'region = eu-central-1\naws_session_token = token1\n'),
    );
    expect(readSection(updated, 'other')).toEqual(readSection(handWritten, 'other'));
  });

  it('adds new keys after a key with continuation lines, not inside them', () => {
    const updated = setSection(handWritten, 'other', { aws_session_token: 't' });
    expect(updated).toContain('s3 =\n    max_concurrent_requests = 20\naws_session_token = t\n');
    expect(readSection(updated, 'other')?.aws_session_token).toBe('t');
  });

  it('appends a new section after a blank line, and creates a file from nothing', () => {
    const updated = setSection(handWritten, 'mai', { aws_access_key_id: 'A' });
    expect(updated).toBe(`${handWritten.trimEnd()}\n\n[mai]\naws_access_key_id = A\n`);
    expect(setSection('', 'default', { a: '1' })).toBe('[default]\na = 1\n');
  });

  it('keeps one line for a key written twice, the way SDKs read the last one', () => {
    const twice = '[p]\naws_access_key_id = A\naws_access_key_id = B\n';
    expect(readSection(twice, 'p')?.aws_access_key_id).toBe('B');
    expect(setSection(twice, 'p', { aws_access_key_id: 'C' })).toBe('[p]\naws_access_key_id = C\n');
  });

  it('refuses a section name that would break the file', () => {
    expect(() => setSection('', 'a]b', {})).toThrow(/cannot be a section name/);
    expect(() => setSection('', 'a\nb', {})).toThrow(/cannot be a section name/);
  });

  it('writes temporary credentials with aws_security_token too, owner-only, and round-trips the rest', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mai-credentials-'));
    const file = join(dir, 'credentials');
    await writeFile(file, handWritten, { mode: 0o644 });
    const credentials = { accessKeyId: 'ASIA1', secretAccessKey: 's1', sessionToken: 'tok1' };
    await writeProfileCredentials(file, 'default', credentials);
    await writeProfileCredentials(file, 'default', { ...credentials, sessionToken: 'tok2' });
    const content = await readFile(file, 'utf8');
    expect(readSection(content, 'default')).toEqual({
      aws_access_key_id: 'ASIA1',
      aws_secret_access_key: 's1',
      region: 'eu-central-1',
      aws_session_token: 'tok2',
      aws_security_token: 'tok2',
    });
    expect(content).toContain('# my credentials — do not lose this comment\n');
    expect(content).toContain('; a semicolon comment\n');
    expect(content.endsWith('# trailing comment\n')).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
