import { describe, expect, it } from 'vitest';
import { commitLink, repositoryLink, safeHref } from './scm.js';
import {
  allowedScopeKinds,
  applicationIdProblem,
  parseResourceOwners,
  resourceTypeIdProblem,
  scopeIdProblem,
  urlProblem,
} from './rules.js';
import { parseSnippet } from './snippet.js';

describe('application id rules', () => {
  it('accepts Kio ids', () => {
    for (const id of ['hello-world', 'kio', 'a1', 'x-2-y'])
      expect(applicationIdProblem(id), id).toBeUndefined();
  });

  it('says in plain words what is wrong', () => {
    expect(applicationIdProblem('')).toBe('Enter an id.');
    expect(applicationIdProblem('Hello')).toBe('Use lowercase letters only.');
    expect(applicationIdProblem('1app')).toBe('The id must start with a letter.');
    expect(applicationIdProblem('hello_world')).toBe('Use only lowercase letters, digits and dashes.');
    expect(applicationIdProblem('hello-')).toBe('The id must end with a letter or a digit.');
    expect(applicationIdProblem('a')).toBe('The id must end with a letter or a digit.');
    expect(applicationIdProblem('a'.repeat(101))).toBe('An id has at most 100 characters.');
  });
});

describe('resource type and scope id rules', () => {
  it('allows one dot in resource type ids', () => {
    expect(resourceTypeIdProblem('sales_order')).toBeUndefined();
    expect(resourceTypeIdProblem('hello-world.orders')).toBeUndefined();
    expect(resourceTypeIdProblem('a.b.c')).toBe('The id may contain at most one dot.');
    expect(resourceTypeIdProblem('Sales')).toBe('The id must start with a lowercase letter.');
    expect(resourceTypeIdProblem('sales order')).toBe(
      'Use only lowercase letters, digits, dashes, underscores and one dot.',
    );
  });

  it('allows single letters and underscores in scope ids, but no dots', () => {
    expect(scopeIdProblem('r')).toBeUndefined();
    expect(scopeIdProblem('read_all')).toBeUndefined();
    expect(scopeIdProblem('read.all')).toBe('Use only lowercase letters, digits, dashes and underscores.');
    expect(scopeIdProblem('read_')).toBe('The id must end with a letter or a digit.');
  });
});

describe('scope rules', () => {
  it('offers resource-owner scopes only on types with owners', () => {
    expect(allowedScopeKinds([])).toEqual(['application']);
    expect(allowedScopeKinds(['employees'])).toEqual(['resource-owner', 'application']);
  });

  it('parses owner lists and names the bad entries', () => {
    expect(parseResourceOwners(' employees, customers employees ')).toEqual({
      owners: ['employees', 'customers'],
    });
    expect(parseResourceOwners('')).toEqual({ owners: [] });
    expect(parseResourceOwners('employees, Big Boss').problem).toBe(
      'Not a valid owner name: Big, Boss (lowercase, e.g. employees).',
    );
  });
});

describe('links', () => {
  it('accepts only http(s) URLs for Kio link fields', () => {
    expect(urlProblem('')).toBeUndefined();
    expect(urlProblem('https://example.org/x')).toBeUndefined();
    expect(urlProblem('javascript:alert(1)')).toBe('Enter a full address starting with https:// or http://.');
    expect(urlProblem('example.org')).toBe('Enter a full address starting with https:// or http://.');
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('https://example.org')).toBe('https://example.org/');
  });

  it('turns scm-source URLs of the usual shapes into commit links', () => {
    const commit = 'https://github.com/zalando/kio/commit/abc123';
    expect(commitLink('https://github.com/zalando/kio', 'abc123')).toBe(commit);
    expect(commitLink('https://github.com/zalando/kio.git', 'abc123')).toBe(commit);
    expect(commitLink('git:git@github.com:zalando/kio.git', 'abc123')).toBe(commit);
    expect(commitLink('git@github.com:zalando/kio.git', 'abc123')).toBe(commit);
    expect(commitLink('ssh://git@github.com/zalando/kio.git', 'abc123')).toBe(commit);
    expect(commitLink('git://github.com/zalando/kio', 'abc123')).toBe(commit);
    expect(commitLink('javascript:alert(1)//', 'abc')).toBeUndefined();
    expect(commitLink('https://github.com/zalando/kio', 'abc/../../x')).toBeUndefined();
    expect(commitLink('https://github.com', 'abc')).toBeUndefined();
    expect(repositoryLink('git@git.example.org:demo/hello-world.git')).toBe(
      'https://git.example.org/demo/hello-world',
    );
  });
});

describe('search snippets', () => {
  it('splits Kio snippets into text and marks without interpreting HTML', () => {
    expect(parseSnippet('says <b>hello</b> &lt;script&gt; &amp; <b>bye</b>')).toEqual([
      { text: 'says ', marked: false },
      { text: 'hello', marked: true },
      { text: ' <script> & ', marked: false },
      { text: 'bye', marked: true },
    ]);
  });
});
