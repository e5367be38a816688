/**
 * fast-check generators for the grammar's property tests: valid values of every argument type and
 * the characters that must never get through (shell and SQL metacharacters, white space, control,
 * format and bidi characters, lone surrogates).
 */
import fc from 'fast-check';
import { formatUtcTime } from '../../../core/values.js';

/** Shell metacharacters (POSIX sh, bash, zsh globs and history). */
export const SHELL_META = [';', '|', '&', '$', '`', '(', ')', '<', '>', '*', '?', '[', ']', '{', '}', '!', '~', '#', "'", '"', '\\', '\n', '^', '%'];
/** SQL metacharacters and comment openers. */
export const SQL_META = ["'", '"', ';', '--', '/*', '*/', '#'];
/** Every Unicode white space except U+0020 (see WHITESPACE for all). */
export const OTHER_SPACES = [
  '\t',
  '\n',
  '\v',
  '\f',
  '\r',
  '\u0085',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2001',
  '\u2002',
  '\u2003',
  '\u2004',
  '\u2005',
  '\u2006',
  '\u2007',
  '\u2008',
  '\u2009',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
];
export const WHITESPACE = [' ', ...OTHER_SPACES];
/** Unicode format characters: soft hyphen, zero-width, joiners, bidi marks, overrides and isolates, tags. */
export const FORMAT_CHARS = [
  '\u00ad',
  '\u061c',
  '\u180e',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2060',
  '\u2061',
  '\u2062',
  '\u2063',
  '\u2064',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\ufff9',
  '\ufffa',
  '\ufffb',
  '\u{e0001}',
  '\u{e0041}',
];
export const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];

const codeUnit = (min: number, max: number): fc.Arbitrary<string> => fc.integer({ min, max }).map((n) => String.fromCharCode(n));
/** C0 controls (incl. NUL), DEL, C1 controls. */
export const controlChar: fc.Arbitrary<string> = fc.oneof(codeUnit(0, 0x1f), codeUnit(0x7f, 0x9f));

/** One dangerous character or sequence; `withSpace` false leaves out U+0020 (allowed inside reasons). */
export function dangerous(withSpace = true): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...SHELL_META),
    fc.constantFrom(...SQL_META),
    fc.constantFrom(...(withSpace ? WHITESPACE : OTHER_SPACES)),
    controlChar,
    fc.constantFrom(...FORMAT_CHARS),
    fc.constantFrom(...LONE_SURROGATES),
  );
}

/** Does `s` hold anything `dangerous()` generates (U+0020 only when `withSpace`)? */
export function hasDangerous(s: string, withSpace = true): boolean {
  if ([...SHELL_META, ...SQL_META, ...(withSpace ? WHITESPACE : OTHER_SPACES), ...FORMAT_CHARS].some((c) => s.includes(c))) return true;
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f]/.test(s) || /\p{Cs}/u.test(s);
}

/** `valid` with `bad` inserted at a position picked by `at`. */
export function inject(valid: fc.Arbitrary<string>, bad: fc.Arbitrary<string> = dangerous()): fc.Arbitrary<string> {
  return fc.tuple(valid, fc.nat(), bad).map(([v, at, b]) => {
    const i = at % (v.length + 1);
    return v.slice(0, i) + b + v.slice(i);
  });
}

/** Text made mostly of `alphabet`, with dangerous characters mixed in now and then. */
export function nearly(alphabet: string, maxLength = 40): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom(...alphabet) },
        { weight: 1, arbitrary: dangerous() },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 2 }) },
      ),
      {
        maxLength,
      },
    )
    .map((cs) => cs.join(''));
}

const noDoubleDash = (s: string): boolean => !s.includes('--');
const label = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,12}[A-Za-z0-9])?$/).filter(noDoubleDash);
export const validHost: fc.Arbitrary<string> = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
export const validUuid: fc.Arbitrary<string> = fc.uuid();
export const validIp: fc.Arbitrary<string> = fc.oneof(fc.ipV4(), fc.ipV6());
export const validPort: fc.Arbitrary<string> = fc.integer({ min: 1, max: 65535 }).map(String);
export const validNetwork: fc.Arbitrary<string> = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}$/).filter(noDoubleDash);
const segment = fc.stringMatching(/^[A-Za-z0-9_+@][A-Za-z0-9._+@-]{0,15}$/).filter(noDoubleDash);
export const validPath: fc.Arbitrary<string> = fc
  .tuple(fc.array(segment, { maxLength: 6 }), fc.boolean(), fc.boolean())
  .map(([segs, doubled, trailing]) => `/${segs.join(doubled ? '//' : '/')}${trailing && segs.length ? '/' : ''}`);
const part = (max: number) => fc.option(fc.integer({ min: 0, max }));
export const validDuration: fc.Arbitrary<string> = fc
  .record({ d: part(300), h: part(99), m: part(999), s: part(9999) })
  .filter((r) => (r.d ?? 0) + (r.h ?? 0) + (r.m ?? 0) + (r.s ?? 0) > 0)
  .map((r) =>
    [
      ['d', r.d],
      ['h', r.h],
      ['m', r.m],
      ['s', r.s],
    ]
      .map(([u, n]) => (n === null ? '' : `${n}${u}`))
      .join(''),
  );
export const validUtcTime: fc.Arbitrary<string> = fc
  .integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2099, 11, 31) / 1000 })
  .map((sec) => formatUtcTime(sec * 1000));
export const validOpId: fc.Arbitrary<string> = fc.stringMatching(/^op-[a-z2-7]{12}$/);
export const validScheduleId: fc.Arbitrary<string> = fc.stringMatching(/^sc-[a-z2-7]{12}$/);
const reasonWord = fc
  .array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éüßøçЖжλ日本語٣'), { minLength: 1, maxLength: 8 })
  .map((cs) => cs.join(''));
export const validReason: fc.Arbitrary<string> = fc
  .tuple(reasonWord, fc.array(fc.tuple(fc.constantFrom(' ', '.', ',', ':', '_', '/', '@', '+', '=', '-', ' ', ' '), reasonWord), { maxLength: 12 }))
  .map(([w, rest]) => w + rest.map(([sep, x]) => sep + x).join(''))
  .filter((s) => s.length >= 3 && s.length <= 255);

/**
 * A valid value after up to three random edits: a dangerous character inserted, a character of
 * `alphabet` inserted or substituted, or a character deleted. Some results stay valid, most don't.
 */
export function mutated(valid: fc.Arbitrary<string>, alphabet: string): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.constantFrom('danger', 'insert', 'replace', 'delete'), fc.nat(), dangerous(), fc.constantFrom(...alphabet));
  return fc.tuple(valid, fc.array(edit, { maxLength: 3 })).map(([v, edits]) => {
    let s = v;
    for (const [kind, at, bad, c] of edits) {
      const i = at % (s.length + 1);
      if (kind === 'danger') s = s.slice(0, i) + bad + s.slice(i);
      else if (kind === 'insert') s = s.slice(0, i) + c + s.slice(i);
      else if (kind === 'replace') s = s.slice(0, i) + c + s.slice(i + 1);
      else s = s.slice(0, i) + s.slice(i + 1);
    }
    return s;
  });
}
