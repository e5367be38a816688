/**
 * Property tests (fast-check, 10,000 cases per property and argument type): no value carrying a
 * shell or SQL metacharacter, white space, a control/format/bidi character or a leading "-" is ever
 * accepted; whatever is accepted is clean; valid values are accepted and normalised idempotently.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, formatUtcTime } from '../../../core/values.js';
import type { ValueType } from '../../../engine/spec/command-spec.js';
import { allCommands } from '../../../bot/grammar/registry.js';
import { DURATION, HOST, IP, NETWORK, OP_ID, PATH, PORT, REASON, SCHEDULE_ID, UTC_TIME, UUID, intRange } from '../../../engine/spec/value-types.js';
import {
  dangerous,
  hasDangerous,
  inject,
  mutated,
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
} from '../../bot/grammar/arbitraries.js';

const RUNS = { numRuns: 10_000 };

interface Case {
  name: string;
  type: ValueType;
  valid: fc.Arbitrary<string>;
  /** Characters its valid values are made of, for mutations. */
  alphabet: string;
  /** Writes a normalised value back as text (identity for strings). */
  format: (v: unknown) => string;
  /** Free text: U+0020 is allowed inside. */
  spaces?: boolean;
}

const asText = (v: unknown): string => String(v);
const CASES: Case[] = [
  { name: 'host name', type: HOST, valid: validHost, alphabet: 'abcXYZ019-.', format: asText },
  { name: 'UUID', type: UUID, valid: validUuid, alphabet: '0123456789abcdefABCDEF-', format: asText },
  { name: 'IP address', type: IP, valid: validIp, alphabet: '0123456789abcdefABCDEF:.', format: asText },
  { name: 'port', type: PORT, valid: validPort, alphabet: '0123456789', format: asText },
  { name: 'whole number (parallel)', type: intRange(1, 16), valid: fc.integer({ min: 1, max: 16 }).map(String), alphabet: '0123456789', format: asText },
  { name: 'network name', type: NETWORK, valid: validNetwork, alphabet: 'abcXYZ019_.-', format: asText },
  { name: 'absolute path', type: PATH, valid: validPath, alphabet: 'abc019/._-+@', format: asText },
  { name: 'duration', type: DURATION, valid: validDuration, alphabet: '0123456789dhms', format: (v) => formatDuration(v as number) },
  { name: 'UTC time', type: UTC_TIME, valid: validUtcTime, alphabet: '0123456789-:TZ', format: (v) => formatUtcTime(v as number) },
  { name: 'operation id', type: OP_ID, valid: validOpId, alphabet: 'abcxyz234567op-', format: asText },
  { name: 'schedule id', type: SCHEDULE_ID, valid: validScheduleId, alphabet: 'abcxyz234567sc-', format: asText },
  { name: 'reason', type: REASON, valid: validReason, alphabet: 'abcXYZ019 .,:_/@+=-éЖ', format: asText, spaces: true },
];

const accepts = (t: ValueType, v: string): boolean => t.schema.safeParse(v).success;

describe.each(CASES)('$name', ({ type, valid, alphabet, format, spaces }) => {
  it('refuses every valid value with a dangerous character or sequence inserted', () => {
    fc.assert(
      fc.property(inject(valid, dangerous(!spaces)), (v) => !accepts(type, v)),
      RUNS,
    );
  });

  it('refuses option-like values (leading "-" or "--")', () => {
    fc.assert(
      fc.property(valid, fc.constantFrom('-', '--'), (v, dash) => !accepts(type, dash + v)),
      RUNS,
    );
  });

  it('accepts only text free of dangerous characters, whatever it is given', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: mutated(valid, alphabet) }, fc.string({ unit: 'binary', maxLength: 40 })), (v) => {
        if (!accepts(type, v)) return true;
        accepted++;
        return !hasDangerous(v, !spaces) && !v.startsWith('-') && !v.includes('--');
      }),
      RUNS,
    );
    expect(accepted).toBeGreaterThan(100); // the generator reaches the accepting side too
  });

  it('accepts every valid value and normalises it idempotently', () => {
    fc.assert(
      fc.property(valid, (v) => {
        const first = type.schema.parse(v);
        expect(type.schema.parse(format(first))).toEqual(first);
      }),
      RUNS,
    );
  });
});

describe('closed sets (yes/no, modes, states)', () => {
  const choiceTypes = allCommands()
    .flatMap((c) => c.options.map((o) => o.type))
    .filter((t): t is ValueType & { choices: readonly string[] } => t.choices !== undefined);

  it('accept exactly their listed words, in any letter case', () => {
    expect(choiceTypes.length).toBeGreaterThan(5);
    const words = [...new Set(choiceTypes.flatMap((t) => [...t.choices]))].join('');
    fc.assert(
      fc.property(fc.constantFrom(...choiceTypes), mutated(fc.constantFrom(...choiceTypes.flatMap((t) => [...t.choices])), words + 'ABC_-'), (t, v) => {
        const ok = accepts(t, v);
        const listed = t.choices.includes(v.toLowerCase()) || t.choices.includes(v.toLowerCase().replace(/-/g, '_'));
        return ok === listed && (!ok || !hasDangerous(v));
      }),
      RUNS,
    );
  });
});
