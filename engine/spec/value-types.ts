/**
 * The kinds of values commands take: the schemas of core/values.ts, plus how each reads in a usage
 * line and in an error. Closed sets (yes/no, modes, states) are lower-cased before they are checked.
 * `value` is the schema of what `schema` outputs (string-valued types are idempotent: the same schema).
 */
import { z } from 'zod';
import {
  absolutePath,
  boundedInt,
  duration,
  hostName,
  ipAddress,
  networkName,
  operationId,
  port,
  reason,
  scheduleId,
  utcTime,
  uuid,
} from '../../core/values.js';
import type { ValueType } from './command-spec.js';
import { OPERATION_STATES, SCHEDULE_STATES } from '../../store/store.js';

/** A closed set of words; the value is the word, lower-cased (or what `map` makes of it). */
export function choice(choices: readonly [string, ...string[]], expected?: string, map?: (s: string) => string): ValueType {
  const normalise = map ?? ((s: string) => s);
  return {
    schema: z
      .string()
      .transform((s) => normalise(s.toLowerCase()))
      .pipe(z.enum(choices, { error: () => `expected ${expected ?? `one of ${choices.join(', ')}`}` })),
    value: z.enum(choices),
    placeholder: choices.join('|'),
    expected: expected ?? `one of ${choices.join(', ')}`,
    choices,
  };
}

export const HOST: ValueType = {
  schema: hostName,
  value: hostName,
  placeholder: '<host>',
  expected: 'a host name such as c01 or c01.example.com (letters, digits, "-" and ".", not starting with "-")',
};

export const UUID: ValueType = {
  schema: uuid,
  value: uuid,
  placeholder: '<uuid>',
  expected: 'a UUID in canonical lower-case form, e.g. 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
};

export const IP: ValueType = {
  schema: ipAddress,
  value: ipAddress,
  placeholder: '<ip>',
  expected: 'an IPv4 address such as 96.118.182.107 or an IPv6 address such as 2001:db8::7',
};

export const PORT: ValueType = { schema: port, value: z.number().int().min(1).max(65535), placeholder: '<port>', expected: 'a TCP port number 1-65535' };

export const REASON: ValueType = {
  schema: reason,
  value: reason,
  placeholder: '<text>',
  expected: 'a reason of 3-255 letters, digits, spaces and . , : _ / @ + = - (quote it when it has spaces)',
};

export const NETWORK: ValueType = {
  schema: networkName,
  value: networkName,
  placeholder: '<network>',
  expected: 'a network name of letters, digits, "_", "." and "-", e.g. Public_AGILE',
};

export const PATH: ValueType = {
  schema: absolutePath,
  value: absolutePath,
  placeholder: '<absolute path>',
  expected: 'an absolute path such as /etc/fstab (letters, digits and . _ - + @ between "/", no "..")',
};

export const DURATION: ValueType = {
  schema: duration,
  value: z.number().int().positive(),
  placeholder: '<duration>',
  expected: 'a duration such as 90s, 15m, 2h, 1d or 1h30m (at most 366 days)',
};

export const UTC_TIME: ValueType = {
  schema: utcTime,
  value: z.number().int(),
  placeholder: '<utc time>',
  expected: 'a UTC time such as 2026-12-01T02:00Z',
};

export const OP_ID: ValueType = { schema: operationId, value: operationId, placeholder: '<op-id>', expected: 'an operation id such as op-abcdefgh2345' };

export const SCHEDULE_ID: ValueType = {
  schema: scheduleId,
  value: scheduleId,
  placeholder: '<schedule-id>',
  expected: 'a schedule id such as sc-abcdefgh2345',
};

/** `yes`/`no` → true/false. */
export const YES_NO: ValueType = {
  schema: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['yes', 'no'], { error: () => 'expected yes or no' }))
    .transform((s) => s === 'yes'),
  value: z.boolean(),
  placeholder: 'yes|no',
  expected: 'yes or no',
  choices: ['yes', 'no'],
};

/** A whole number in [min, max]. */
export function intRange(min: number, max: number): ValueType {
  return {
    schema: boundedInt(min, max),
    value: z.number().int().min(min).max(max),
    placeholder: `${min}-${max}`,
    expected: `a whole number from ${min} to ${max}`,
  };
}

/**
 * Operation states as the store names them (store/store.ts OPERATION_STATES), plus the filters
 * `active` (unfinished), `finished` and `all`. Typed with "-" or "_".
 */
export { OPERATION_STATES };
export const OP_STATE_FILTER: ValueType = {
  ...choice(['active', 'finished', 'all', ...OPERATION_STATES], `active, finished, all, or a state: ${OPERATION_STATES.join(', ')}`, (s) =>
    s.replace(/-/g, '_'),
  ),
  placeholder: '<state>',
};

/** Schedule states as the store names them (store/store.ts SCHEDULE_STATES), plus `all`. */
export { SCHEDULE_STATES };
export const SCHEDULE_STATE_FILTER: ValueType = choice(['all', ...SCHEDULE_STATES]);
