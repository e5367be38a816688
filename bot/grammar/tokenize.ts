/**
 * Splits command text into words and `key=value` options.
 *
 * - Words are separated by whitespace (any Unicode white space, including no-break space).
 * - `key=value` is an option when `key` is a letter followed by letters, digits, `_` or `-`; the key
 *   is lower-cased. Anything else containing `=` is a plain word.
 * - A word, or an option's value, may be quoted when it *starts* with a quote: `"…"`, `'…'`, or the
 *   typographic quotes Slack clients put in (`“…”`, `‘…’`). Any double quote closes a double-quoted
 *   text and any single quote a single-quoted one, since clients mix them. Inside double quotes,
 *   `\"` and `\\` are escapes (also `\“` and `\”`); every other backslash is literal. Single quotes
 *   have no escapes. A closing quote must end the word. Quotes inside a word are literal
 *   characters (and then refused by the value's schema).
 * - An unterminated quote is an error naming its column.
 *
 * Pure: no Slack decoding here (see slack-text.ts), no validation of values.
 */
import type { Problem } from '../../core/errors.js';

/** A plain word (verb, positional argument, flag). `quoted` words are never verbs or flags. */
export interface WordToken {
  kind: 'word';
  text: string;
  quoted: boolean;
  /** 1-based column in the tokenized text. */
  column: number;
}

/** A `key=value` option; `key` is lower-case. */
export interface OptionToken {
  kind: 'option';
  key: string;
  value: string;
  quoted: boolean;
  column: number;
}

export type Token = WordToken | OptionToken;

export type TokenizeResult = { ok: true; tokens: Token[] } | { ok: false; problem: Problem };

const DOUBLE_QUOTES = '"\u201c\u201d';
const SINGLE_QUOTES = "'\u2018\u2019";
const QUOTES = DOUBLE_QUOTES + SINGLE_QUOTES;
const SPACE = /\s/;
const KEY = /^[A-Za-z][A-Za-z0-9_-]*$/;

interface Scan {
  text: string;
  end: number;
}
type ScanResult = Scan | { problem: Problem };

/** Reads a quoted text whose opening quote is at `start`; `end` is just past the closing quote. */
function scanQuoted(s: string, start: number): ScanResult {
  const open = s[start]!;
  const closers = DOUBLE_QUOTES.includes(open) ? DOUBLE_QUOTES : SINGLE_QUOTES;
  const escapes = closers === DOUBLE_QUOTES;
  let out = '';
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i]!;
    if (escapes && c === '\\' && i + 1 < s.length && (s[i + 1] === '\\' || DOUBLE_QUOTES.includes(s[i + 1]!))) {
      out += s[i + 1];
      i++;
    } else if (closers.includes(c)) {
      if (i + 1 < s.length && !SPACE.test(s[i + 1]!)) {
        return { problem: { path: 'text', message: `text right after the closing quote at column ${i + 1}: put a space after a quoted value` } };
      }
      return { text: out, end: i + 1 };
    } else {
      out += c;
    }
  }
  return {
    problem: {
      path: 'text',
      message: `unterminated quote: the ${open} at column ${start + 1} is never closed (expected a closing ${escapes ? '"' : "'"})`,
    },
  };
}

function scanBare(s: string, start: number): Scan {
  let i = start;
  while (i < s.length && !SPACE.test(s[i]!)) i++;
  return { text: s.slice(start, i), end: i };
}

/** Splits `text` into tokens, or says where its quoting is broken. */
export function tokenize(text: string): TokenizeResult {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    if (SPACE.test(text[i]!)) {
      i++;
      continue;
    }
    const column = i + 1;
    if (QUOTES.includes(text[i]!)) {
      const r = scanQuoted(text, i);
      if ('problem' in r) return { ok: false, problem: r.problem };
      tokens.push({ kind: 'word', text: r.text, quoted: true, column });
      i = r.end;
      continue;
    }
    const bare = scanBare(text, i);
    const eq = bare.text.indexOf('=');
    const key = eq > 0 ? bare.text.slice(0, eq) : '';
    if (!KEY.test(key)) {
      tokens.push({ kind: 'word', text: bare.text, quoted: false, column });
      i = bare.end;
      continue;
    }
    const valueStart = i + eq + 1;
    if (valueStart < text.length && QUOTES.includes(text[valueStart]!)) {
      const r = scanQuoted(text, valueStart);
      if ('problem' in r) return { ok: false, problem: r.problem };
      tokens.push({ kind: 'option', key: key.toLowerCase(), value: r.text, quoted: true, column });
      i = r.end;
    } else {
      tokens.push({ kind: 'option', key: key.toLowerCase(), value: bare.text.slice(eq + 1), quoted: false, column });
      i = bare.end;
    }
  }
  return { ok: true, tokens };
}

function needsQuotes(v: string): boolean {
  return v === '' || SPACE.test(v) || QUOTES.includes(v[0]!);
}

function doubleQuote(v: string): string {
  return `"${v.replace(/[\\"\u201c\u201d]/g, (c) => `\\${c}`)}"`;
}

/** How to write `v` as an option value so that `tokenize` reads back exactly `v`. */
export function quoteValue(v: string): string {
  return needsQuotes(v) ? doubleQuote(v) : v;
}

/** How to write `v` as a word (positional) so that `tokenize` reads back exactly `v`, never as an option. */
export function quoteWord(v: string): string {
  const eq = v.indexOf('=');
  return needsQuotes(v) || (eq > 0 && KEY.test(v.slice(0, eq))) ? doubleQuote(v) : v;
}
