/** Small builders that keep the command table (commands.ts) readable. */
import type { Problem } from '../../core/errors.js';
import type { CommandSpec, FlagSpec, OptionSpec, PositionalSpec, ValueType } from './command-spec.js';

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
    args[aKey] !== undefined && args[aKey] === args[bKey] ? [{ path: bName, message: `${bName} must differ from ${aName} (both are ${String(args[aKey])})` }] : [];
