/**
 * Property tests of the whole parser (Slack decoding, tokenizer, registry, schemas), 10,000 cases
 * each: a dangerous value in any argument slot is refused and named; whatever command text is
 * accepted yields clean args; every valid command, however quoted, parses to its normalised args.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../core/errors.js';
import { absolutePath, duration, hostName, ipAddress, networkName, operationId, port, reason, scheduleId, utcTime, uuid } from '../../../core/values.js';
import type { CommandSpec, ValueType } from '../../../engine/spec/command-spec.js';
import { parseCommand } from '../../../bot/grammar/parse-command.js';
import { allCommands } from '../../../bot/grammar/registry.js';
import { quoteValue, quoteWord } from '../../../bot/grammar/tokenize.js';
import {
  dangerous,
  hasDangerous,
  inject,
  validDuration,
  validHost,
  validIp,
  validNetwork,
  validOpId,
  validPath,
  validPort,
  validReason,
  validScheduleId,
  validUtcTime,
  validUuid,
} from './arbitraries.js';

const RUNS = { numRuns: 10_000 };
const UUID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

function problemPaths(slash: string, text: string): string[] | 'accepted' {
  try {
    parseCommand(slash, text);
    return 'accepted';
  } catch (e) {
    if (e instanceof InputError) return e.problems.map((p) => p.path);
    throw e;
  }
}

describe('a dangerous value in any slot is refused and named', () => {
  const slots: { slot: string; valid: fc.Arbitrary<string>; slash: string; text: (v: string) => string; spaces?: boolean }[] = [
    { slot: 'host', valid: validHost, slash: '/node', text: (v) => `status ${quoteWord(v)}` },
    { slot: 'to', valid: validHost, slash: '/node', text: (v) => `drain c01 reason=abc to=${quoteValue(v)}` },
    { slot: 'uuid', valid: validUuid, slash: '/instance', text: (v) => `inspect ${quoteWord(v)} reason=abc` },
    { slot: 'ip', valid: validIp, slash: '/ip', text: (v) => `detach ${quoteWord(v)}` },
    { slot: 'port', valid: validPort, slash: '/ip', text: (v) => `check 1.2.3.4 port=${quoteValue(v)}` },
    { slot: 'parallel', valid: fc.integer({ min: 1, max: 16 }).map(String), slash: '/node', text: (v) => `drain c01 reason=abc parallel=${quoteValue(v)}` },
    { slot: 'network', valid: validNetwork, slash: '/ip', text: (v) => `recover 1.2.3.4 network=${quoteValue(v)}` },
    { slot: 'path', valid: validPath, slash: '/instance', text: (v) => `inspect ${UUID} reason=abc path=${quoteValue(v)}` },
    { slot: 'in', valid: validDuration, slash: '/node', text: (v) => `drain c01 reason=abc in=${quoteValue(v)}` },
    { slot: 'at', valid: validUtcTime, slash: '/node', text: (v) => `drain c01 reason=abc at=${quoteValue(v)}` },
    { slot: 'op-id', valid: validOpId, slash: '/op', text: (v) => `show ${quoteWord(v)}` },
    { slot: 'schedule-id', valid: validScheduleId, slash: '/schedule', text: (v) => `cancel ${quoteWord(v)}` },
    { slot: 'reason', valid: validReason, slash: '/node', text: (v) => `drain c01 reason=${quoteValue(v)}`, spaces: true },
  ];

  it.each(slots)('$slot', ({ slot, valid, slash, text, spaces }) => {
    fc.assert(
      fc.property(inject(valid, dangerous(!spaces)), (v) => {
        const paths = problemPaths(slash, text(v));
        return paths !== 'accepted' && paths.includes(slot);
      }),
      RUNS,
    );
  });
});

/** A valid value of a type, as text. */
function validText(type: ValueType): fc.Arbitrary<string> {
  if (type.choices) return fc.constantFrom(...type.choices).chain((c) => fc.constantFrom(c, c.toUpperCase()));
  const range = /^(\d+)-(\d+)$/.exec(type.placeholder);
  if (range) return fc.integer({ min: Number(range[1]), max: Number(range[2]) }).map(String);
  const bySchema = new Map<unknown, fc.Arbitrary<string>>([
    [hostName, validHost],
    [uuid, validUuid],
    [ipAddress, validIp],
    [port, validPort],
    [networkName, validNetwork],
    [absolutePath, validPath],
    [duration, validDuration],
    [utcTime, validUtcTime],
    [operationId, validOpId],
    [scheduleId, validScheduleId],
    [reason, validReason],
  ]);
  const arb = bySchema.get(type.schema);
  if (!arb) throw new Error(`no generator for ${type.placeholder}`);
  return arb;
}

/** Writes a value the ways people (and Slack) do: bare, or in any kind of quotes. */
function written(v: string, asWord: boolean): fc.Arbitrary<string> {
  const escaped = v.replace(/[\\"“”]/g, (c) => `\\${c}`);
  const styles = [asWord ? quoteWord(v) : quoteValue(v), `"${escaped}"`, `“${escaped}”`];
  if (!/['‘’]/.test(v)) styles.push(`'${v}'`, `‘${v}’`);
  return fc.constantFrom(...styles);
}

interface Case {
  spec: CommandSpec;
  text: string;
  expected: Record<string, unknown>;
}

function validCommand(spec: CommandSpec): fc.Arbitrary<Case> {
  const positionals = fc.tuple(
    ...spec.positionals.map((p) =>
      validText(p.type).chain((v) => fc.tuple(fc.constant(v), p.type.schema === hostName ? fc.constantFrom(v, `<http://${v}|${v}>`) : written(v, true))),
    ),
  );
  const options = fc.tuple(...spec.options.map((o) => (o.required ? validText(o.type).map((v) => v as string | null) : fc.option(validText(o.type)))));
  const flags = fc.tuple(...spec.flags.map(() => fc.boolean()));
  return fc.tuple(positionals, options, flags, fc.array(fc.boolean(), { minLength: 24, maxLength: 24 })).chain(([pos, opts, fl, merge]) => {
    const expected: Record<string, unknown> = {};
    const words: string[] = [];
    pos.forEach(([v, w], i) => {
      const p = spec.positionals[i]!;
      expected[p.key] = p.type.schema.parse(v);
      words.push(w);
    });
    const given = spec.options
      .map((o, i) => [o, opts[i] ?? null] as const)
      .filter(([o, v]) => v !== null && !spec.exclusive.some((g) => g.indexOf(o.name) > 0));
    for (const o of spec.options) if (o.default !== undefined) expected[o.key] = o.default;
    for (const [o, v] of given) expected[o.key] = o.type.schema.parse(v!);
    spec.flags.forEach((f, i) => (expected[f.key] = fl[i]!));
    const rest = fc.tuple(...given.map(([o, v]) => written(v!, false).map((w) => `${merge[0] ? o.name.toUpperCase() : o.name}=${w}`)));
    return rest.map((optionTokens) => {
      // Interleave options and flags among the positionals, keeping each list's own order.
      const others = [...optionTokens, ...spec.flags.filter((_, i) => fl[i]).map((f) => f.name)];
      const out: string[] = [...spec.words];
      let a = 0;
      let b = 0;
      for (let k = 0; a < words.length || b < others.length; k++) {
        if (b >= others.length || (a < words.length && merge[k % merge.length])) out.push(words[a++]!);
        else out.push(others[b++]!);
      }
      return { spec, text: out.join(merge[1] ? '  ' : ' '), expected };
    });
  });
}

describe('valid commands round-trip', () => {
  it('every valid command, however written, parses to its normalised args (10,000 cases)', () => {
    let parsed = 0;
    fc.assert(
      fc.property(fc.constantFrom(...allCommands()).chain(validCommand), ({ spec, text, expected }) => {
        fc.pre(!spec.check || spec.check(expected).length === 0);
        const r = parseCommand(`/${spec.family}`, text);
        expect(r).toEqual({ kind: 'command', command: { family: spec.family, verb: spec.verb, name: spec.name, args: expected } });
        parsed++;
      }),
      RUNS,
    );
    expect(parsed).toBeGreaterThan(9_000);
  });
});

describe('whatever text is accepted yields clean args', () => {
  const everyOption = [...new Set(allCommands().flatMap((c) => c.options.map((o) => o.name)))];
  const anyValid = fc.oneof(validHost, validUuid, validIp, validReason, validPath, validDuration, validNetwork, fc.constantFrom('yes', 'no', 'live', 'disk'));
  const piece = fc.oneof(
    { weight: 6, arbitrary: anyValid },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...everyOption), anyValid).map(([k, v]) => `${k}=${v}`) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...everyOption), inject(anyValid)).map(([k, v]) => `${k}=${quoteValue(v)}`) },
    { weight: 2, arbitrary: inject(anyValid) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constantFrom('migrate-back', 'reboot-instances', '"', '“', "'", '<http://x|', '&amp;', '&lt;', '&gt;', '|') },
  );
  const line = fc.tuple(fc.constantFrom(...allCommands()), fc.array(piece, { maxLength: 6 }), fc.constantFrom(' ', '  ', '\t', '\u00a0'));

  it('no accepted command carries a dangerous character, a leading "-" or "--" in any value (10,000 cases)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(line, ([spec, pieces, sep]) => {
        const text = [...spec.words, ...pieces].join(sep);
        let r;
        try {
          r = parseCommand(`/${spec.family}`, text);
        } catch (e) {
          if (e instanceof InputError) return;
          throw e;
        }
        if (r.kind !== 'command') return;
        accepted++;
        for (const [key, v] of Object.entries(r.command.args)) {
          if (typeof v === 'number') expect(Number.isSafeInteger(v)).toBe(true);
          else if (typeof v === 'string') {
            expect(hasDangerous(v, key !== 'reason'), `${key}=${JSON.stringify(v)}`).toBe(false);
            expect(v.startsWith('-') || v.includes('--'), `${key}=${JSON.stringify(v)}`).toBe(false);
          } else expect(typeof v).toBe('boolean');
        }
      }),
      RUNS,
    );
    expect(accepted).toBeGreaterThan(200);
  });
});
