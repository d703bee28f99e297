import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors.js';
import { type CapturedIo, captureIo } from '../test-support/cli-io.js';
import { loadToolConfig, normaliseUrl, saveToolConfig } from './cli-config.js';
import { CliError } from './cli-error.js';
import { renderObject, renderRows } from './output.js';
import { expandAbbreviations, runCli } from './run-cli.js';

let io: CapturedIo;
afterEach(async () => io?.cleanup());

function program(calls: string[]): Command {
  const root = new Command('tool');
  const app = root.command('app');
  app
    .command('list')
    .option('-o, --output <format>')
    .action((o) => void calls.push(`list ${o.output ?? ''}`));
  app
    .command('show')
    .argument('<id>')
    .action((id) => void calls.push(`show ${id}`));
  app.command('search').action(() => void calls.push('search'));
  root.command('fail').action(() => {
    throw new NotFoundError('application x does not exist');
  });
  root.command('boom').action(() => {
    throw new TypeError('cannot read properties of undefined');
  });
  root.command('usage').action(() => {
    throw new CliError('give an id', 2);
  });
  return root;
}

describe('runCli', () => {
  it('expands unambiguous command prefixes and leaves option values alone', () => {
    const calls: string[] = [];
    const p = program(calls);
    expect(expandAbbreviations(p, ['a', 'l', '-o', 'sh'])).toEqual(['app', 'list', '-o', 'sh']);
    expect(expandAbbreviations(p, ['app', 'sh', 'li'])).toEqual(['app', 'show', 'li']);
    // An exact name wins over the longer names it prefixes; a unique prefix resolves.
    expect(expandAbbreviations(p, ['app', 'se'])).toEqual(['app', 'search']);
    // "s" is ambiguous between show and search: a usage error naming both (clickclick's AliasedGroup).
    expect(() => expandAbbreviations(p, ['app', 's'])).toThrow(
      expect.objectContaining({ message: '"s" is ambiguous: search, show', exitCode: 2 }),
    );
  });

  it('prefers an exact name to longer names it prefixes, and refuses an ambiguous prefix in one line', async () => {
    io = await captureIo();
    const calls: string[] = [];
    const root = new Command('mai');
    for (const name of ['request', 'requests', 'require'])
      root.command(name).action(() => void calls.push(name));
    expect(await runCli(root, ['request'], io)).toBe(0);
    expect(await runCli(root, ['requests'], io)).toBe(0);
    expect(await runCli(root, ['requi'], io)).toBe(0);
    expect(calls).toEqual(['request', 'requests', 'require']);
    expect(await runCli(root, ['req'], io)).toBe(2);
    expect(io.err()).toBe('mai: "req" is ambiguous: request, requests, require\n');
  });

  it('runs abbreviated commands and maps failures to exit codes with one line', async () => {
    io = await captureIo();
    const calls: string[] = [];
    expect(await runCli(program(calls), ['a', 'li', '--output', 'json'], io)).toBe(0);
    expect(calls).toEqual(['list json']);
    expect(await runCli(program(calls), ['fail'], io)).toBe(1);
    expect(io.err()).toBe('tool: application x does not exist\n');
    expect(await runCli(program(calls), ['boom'], io)).toBe(1);
    expect(io.err()).toContain('tool: unexpected error: cannot read properties of undefined\n');
    expect(io.err()).not.toContain('    at ');
    expect(await runCli(program(calls), ['usage'], io)).toBe(2);
    expect(await runCli(program(calls), ['nonsense'], io)).toBe(2);
    expect(io.err()).toContain("unknown command 'nonsense'");
    expect(await runCli(program(calls), ['--help'], io)).toBe(0);
    expect(io.out()).toContain('Usage: tool');
  });
});

describe('tool configuration', () => {
  it('reads ~/.config/<tool>/<tool>.yaml with <TOOL>_<KEY> overrides, honouring XDG_CONFIG_HOME', async () => {
    io = await captureIo();
    const dir = join(io.home, '.config', 'kio');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'kio.yaml'), 'url: https://kio.example.org\nteam: demo\n');
    expect(await loadToolConfig('kio', io.env)).toEqual({ url: 'https://kio.example.org', team: 'demo' });
    expect(await loadToolConfig('kio', { ...io.env, KIO_URL: 'http://localhost:8094' })).toMatchObject({
      url: 'http://localhost:8094',
    });
    const xdg = join(io.home, 'xdg');
    const file = await saveToolConfig('kio', { ...io.env, XDG_CONFIG_HOME: xdg }, { url: 'https://x' });
    expect(file).toBe(join(xdg, 'kio', 'kio.yaml'));
    expect(await readFile(file, 'utf8')).toBe('url: https://x\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('reports a broken config file in one line', async () => {
    io = await captureIo();
    const dir = join(io.home, '.config', 'kio');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'kio.yaml'), '- a list\n- not a mapping\n');
    await expect(loadToolConfig('kio', io.env)).rejects.toThrow(/kio\.yaml: expected a mapping/);
  });

  it('normalises URLs as STUPS clients do', () => {
    expect(normaliseUrl('pierone.example.org/')).toBe('https://pierone.example.org');
    expect(normaliseUrl('http://localhost:8096//')).toBe('http://localhost:8096');
  });
});

describe('output', () => {
  const rows = [
    { id: 'kio', team: 'stups', tags: ['a', 'b'] },
    { id: 'pierone', team: 'stups', tags: [] },
  ];
  const columns = [
    { title: 'Id', key: 'id', value: (r: (typeof rows)[number]) => r.id },
    { title: 'Team', key: 'team', value: (r: (typeof rows)[number]) => r.team },
    { title: 'Tags', key: 'tags', value: (r: (typeof rows)[number]) => r.tags },
  ];
  it('renders text, json and tsv', () => {
    expect(renderRows(rows, columns, 'text')).toBe('Id      Team  Tags\nkio     stups a,b\npierone stups\n');
    expect(renderRows(rows, columns, 'tsv')).toBe('id\tteam\ttags\nkio\tstups\ta,b\npierone\tstups\t\n');
    expect(JSON.parse(renderRows(rows, columns, 'json'))).toEqual(rows);
    expect(renderObject({ a: 1, b: 'x' }, 'text')).toBe('a: 1\nb: x\n');
  });
});
