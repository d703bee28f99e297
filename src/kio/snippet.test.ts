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

  it('answers the start of the text without a match, and nothing for no text', () => {
    expect(highlightSnippet('one two three', ['zzz'], { maxWords: 2 })).toBe('one two');
    expect(highlightSnippet(null, ['a'])).toBe('');
  });
});
