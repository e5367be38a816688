import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Token, quoteValue, quoteWord, tokenize } from '../../../bot/grammar/tokenize.js';

function tokens(text: string): Token[] {
  const r = tokenize(text);
  if (!r.ok) throw new Error(`did not tokenize: ${r.problem.message}`);
  return r.tokens;
}
const words = (text: string): string[] => tokens(text).map((t) => (t.kind === 'word' ? t.text : `${t.key}=${t.value}`));

describe('tokenize', () => {
  it('splits on any white space and reads key=value options', () => {
    expect(tokens('drain  c01\treason=maintenance\u00a0to=c02')).toEqual([
      { kind: 'word', text: 'drain', quoted: false, column: 1 },
      { kind: 'word', text: 'c01', quoted: false, column: 8 },
      { kind: 'option', key: 'reason', value: 'maintenance', quoted: false, column: 12 },
      { kind: 'option', key: 'to', value: 'c02', quoted: false, column: 31 },
    ]);
    expect(tokens('')).toEqual([]);
    expect(tokens(' \n ')).toEqual([]);
  });

  it('lower-cases option keys and keeps values as typed', () => {
    expect(tokens('Reason=Maintenance')).toEqual([{ kind: 'option', key: 'reason', value: 'Maintenance', quoted: false, column: 1 }]);
  });

  it('treats words with "=" but no key before it as plain words', () => {
    expect(tokens('=x 1=2 a.b=c')).toEqual([
      { kind: 'word', text: '=x', quoted: false, column: 1 },
      { kind: 'word', text: '1=2', quoted: false, column: 4 },
      { kind: 'word', text: 'a.b=c', quoted: false, column: 8 },
    ]);
    expect(tokens('a=b=c')).toEqual([{ kind: 'option', key: 'a', value: 'b=c', quoted: false, column: 1 }]);
    expect(tokens('key=')).toEqual([{ kind: 'option', key: 'key', value: '', quoted: false, column: 1 }]);
  });

  it('reads double, single and typographic quotes around words and values', () => {
    expect(words('reason="disk swap in rack 4"')).toEqual(['reason=disk swap in rack 4']);
    expect(words("reason='disk swap'")).toEqual(['reason=disk swap']);
    expect(words('reason=“disk swap”')).toEqual(['reason=disk swap']);
    expect(words('reason=‘disk swap’')).toEqual(['reason=disk swap']);
    expect(words('reason=”mixed quotes"')).toEqual(['reason=mixed quotes']);
    expect(words('"a b" \'c d\'')).toEqual(['a b', 'c d']);
    expect(tokens('"x=y"')).toEqual([{ kind: 'word', text: 'x=y', quoted: true, column: 1 }]);
    expect(tokens('""')).toEqual([{ kind: 'word', text: '', quoted: true, column: 1 }]);
  });

  it('honours \\" and \\\\ inside double quotes only; other backslashes are literal', () => {
    expect(words(String.raw`r="say \"hi\" \\ now"`)).toEqual([String.raw`r=say "hi" \ now`]);
    expect(words(String.raw`r="a\nb"`)).toEqual([String.raw`r=a\nb`]);
    expect(words("r='a\\'")).toEqual(['r=a\\']);
    expect(words(String.raw`r=a\"b`)).toEqual([String.raw`r=a\"b`]);
  });

  it('keeps quotes inside a word as literal characters', () => {
    expect(words("reason=don't")).toEqual(["reason=don't"]);
    expect(words('c01"x')).toEqual(['c01"x']);
  });

  it('names the column of an unterminated quote', () => {
    const r = tokenize('drain c01 reason="disk swap');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problem.path).toBe('text');
      expect(r.problem.message).toMatch(/unterminated quote: the " at column 18 is never closed/);
    }
    const s = tokenize("x='abc");
    expect(!s.ok && s.problem.message).toMatch(/the ' at column 3/);
    const t = tokenize('x=“abc');
    expect(!t.ok && t.problem.message).toMatch(/the “ at column 3/);
  });

  it('refuses text glued to a closing quote', () => {
    const r = tokenize('reason="disk"swap');
    expect(!r.ok && r.problem.message).toMatch(/put a space after a quoted value/);
  });
});

describe('quoting round-trips through tokenize (10,000 cases each)', () => {
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.array(fc.constantFrom('a', ' ', '"', "'", '“', '”', '‘', '’', '\\', '=', '\t', '\n', 'k', '-'), { maxLength: 12 }).map((cs) => cs.join('')),
  );

  it('words written with quoteWord read back as the same words', () => {
    fc.assert(
      fc.property(fc.array(anyText, { maxLength: 6 }), (ws) => {
        const back = tokens(ws.map(quoteWord).join(' '));
        expect(back.map((t) => (t.kind === 'word' ? t.text : { option: t }))).toEqual(ws);
      }),
      { numRuns: 10_000 },
    );
  });

  it('options written with quoteValue read back as the same keys and values', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(key, anyText), { maxLength: 6 }), (opts) => {
        const back = tokens(opts.map(([k, v]) => `${k}=${quoteValue(v)}`).join(' '));
        expect(back.map((t) => (t.kind === 'option' ? [t.key, t.value] : { word: t }))).toEqual(opts);
      }),
      { numRuns: 10_000 },
    );
  });

  it('leaves plain values unquoted', () => {
    expect(quoteValue('maintenance')).toBe('maintenance');
    expect(quoteValue('disk swap')).toBe('"disk swap"');
    expect(quoteValue('')).toBe('""');
    expect(quoteWord('c01')).toBe('c01');
    expect(quoteWord('a=b')).toBe('"a=b"');
  });
});
