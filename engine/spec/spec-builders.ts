/** Small builders that keep the command specs (beside each runbook in actions/) readable. */
import type { Problem } from '../../core/errors.js';
import type { CommandSpec, FlagSpec, OptionSpec, PositionalSpec, ValueType } from './command-spec.js';
import { DURATION, REASON, UTC_TIME } from './value-types.js';

/** "stop-service" → "stopService": the args key of a typed name. */
export const camel = (s: string): string => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** A positional argument; its args key defaults to the camel-cased name. */
export const pos = (name: string, type: ValueType, description: string, key = camel(name)): PositionalSpec => ({ name, key, type, description });

/** An optional `name=value` option unless `more.required`. */
export function opt(name: string, type: ValueType, description: string, more: Partial<OptionSpec> = {}): OptionSpec {
  return { name, key: camel(name), type, description, required: false, ...more };
}

/** A bare-word flag. */
export const flag = (name: string, description: string): FlagSpec => ({ name, key: camel(name), description });

type Def = Pick<CommandSpec, 'family' | 'words' | 'summary' | 'description' | 'kind' | 'effect' | 'approval' | 'examples'> &
  Partial<Omit<CommandSpec, 'family' | 'words' | 'name' | 'verb'>>;

/** A command: verb and name derive from the words; a multi-word command also answers to its hyphenated verb. */
export function command(d: Def): CommandSpec {
  const verb = d.words.join('-');
  return {
    positionals: [],
    options: [],
    flags: [],
    exclusive: [],
    schedulable: false,
    aliases: d.words.length > 1 ? [[verb]] : [],
    ...d,
    verb,
    name: `${d.family}.${verb}`,
  };
}

/** A cross-field check: two host arguments must not name the same host. */
export const differentHosts =
  (aKey: string, aName: string, bKey: string, bName: string) =>
  (args: Readonly<Record<string, unknown>>): Problem[] =>
    args[aKey] !== undefined && args[aKey] === args[bKey]
      ? [{ path: bName, message: `${bName} must differ from ${aName} (both are ${String(args[aKey])})` }]
      : [];

/** The options that make a schedulable command a scheduled run; they never reach the runbook's input. */
export const SCHEDULE_KEYS = ['at', 'in'] as const;

/** `at=`/`in=`. In args: `at` in epoch ms, `in` in milliseconds (see bot/grammar/command-facts.ts scheduledRunAt). */
export const scheduleOptions = (): OptionSpec[] => [
  opt('at', UTC_TIME, 'Schedule the run for this UTC time instead of running now.'),
  opt('in', DURATION, 'Schedule the run after this delay instead of running now.'),
];

/** The required `reason=` most changing commands take. */
export const reasonOption = (): OptionSpec => opt('reason', REASON, "Why; shown in the plan, the audit log and Nova's disabled reason.", { required: true });
