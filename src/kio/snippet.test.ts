import { describe, expect, it } from 'vitest';
import { highlightSnippet, queryTerms } from './snippet.js';

describe('queryTerms', () => {
  it('takes the positive lexemes of a tsquery', () => {
    expect(queryTerms("'servic' & !'photo' | 'quokka' <-> 'api'")).toEqual(['servic', 'quokka', 'api']);
    expect(queryTerms("'o''reilli'")).toEqual(["o'reilli"]);
    expect(queryTerms('')).toEqual([]);
  });
});

describe('highlightSnippet', () => {
  it('marks word forms of the stems and escapes everything else', () => {
    expect(highlightSnippet('Runs <b>services</b> & more service-ish things.', ['servic'])).toBe(
      'Runs &lt;b&gt;<b>services</b>&lt;/b&gt; &amp; more <b>service</b>-ish things.',
    );
    expect(highlightSnippet('A happy library.', ['happi', 'librari'])).toBe('A <b>happy</b> <b>library</b>.');
  });

  it('shows a window around the first match', () => {
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`);
    words[50] = 'quokka';
    const snippet = highlightSnippet(words.join(' '), ['quokka'], { maxWords: 10, wordsBefore: 3 });
    expect(snippet).toBe('w47 w48 w49 <b>quokka</b> w51 w52 w53 w54 w55 w56');
    const plain = Array.from({ length: 99 }, (_, i) => `w${i}`);
    const atEnd = highlightSnippet(`${plain.join(' ')} quokka`, ['quokka'], { maxWords: 5 });
    expect(atEnd).toBe('w95 w96 w97 w98 <b>quokka</b>');
  });

  it('finds matches in any case and in y-forms past a long unmatched start', () => {
    const filler = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
    expect(highlightSnippet(`${filler} SERVICES`, ['servic'], { maxWords: 2 })).toBe('w199 <b>SERVICES</b>');
    expect(highlightSnippet(`${filler} Library`, ['librari'], { maxWords: 2 })).toBe('w199 <b>Library</b>');
    // The term inside a word but not at its start is no match: the window stays at the start.
    expect(highlightSnippet(`${filler} microservice`, ['servic'], { maxWords: 2 })).toBe('w0 w1');
    expect(highlightSnippet('x&services <service> a.b-service', ['servic'])).toBe(
      'x&amp;<b>services</b> &lt;<b>service</b>&gt; a.b-<b>service</b>',
    );
    // Only letters and digits are marked: a term with anything else marks nothing.
    expect(highlightSnippet('c++ and cx foo-bar', ['c+', 'foo-bar', 'bar'])).toBe(
      'c++ and cx foo-<b>bar</b>',
    );
    expect(highlightSnippet('a < b & c', [])).toBe('a &lt; b &amp; c');
  });

  it('answers the start of the text without a match, and nothing for no text', () => {
    expect(highlightSnippet('one two three', ['zzz'], { maxWords: 2 })).toBe('one two');
    expect(highlightSnippet(null, ['a'])).toBe('');
  });
});
