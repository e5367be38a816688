/**
 * The shape of a command: what it is made of, as data that the parser, the help renderer, the Slack
 * manifest, the dispatcher and the runbook's own input (input-of.ts) all read. Each runbook or query
 * declares its spec beside it in actions/<family>/; bot/grammar collects them.
 */
import type { z } from 'zod';
import type { Problem } from '../../core/errors.js';
import type { CommandFamily, Effect } from '../../core/types.js';

/** A kind of value: its zod schema (string in, normalised value out) and how to talk about it. */
export interface ValueType {
  schema: z.ZodType<unknown, string>;
  /** The schema of the normalised value (what `schema` outputs), for a runbook's input (input-of.ts). */
  value: z.ZodType;
  /** As shown in a usage line, e.g. "<host>" or "live|block|auto". */
  placeholder: string;
  /** What is expected, for help and errors, e.g. "a host name such as c01.example.com". */
  expected: string;
  /** The allowed values when the type is a closed set (after lower-casing). */
  choices?: readonly string[];
}

/** A positional argument. Every positional is required (optional things are options or flags). */
export interface PositionalSpec {
  /** Name shown in usage and errors, e.g. "host" (shown as <host>). */
  name: string;
  /** Key in `args`, e.g. "host". */
  key: string;
  type: ValueType;
  description: string;
}

/** A `name=value` option. */
export interface OptionSpec {
  /** As typed, e.g. "stop-service". */
  name: string;
  /** Key in `args`, e.g. "stopService". */
  key: string;
  type: ValueType;
  required: boolean;
  /** Normalised value put in `args` when the option is absent (absent key when undefined). */
  default?: unknown;
  /** How the default reads in help, e.g. "yes" or "the cloud's public network". */
  defaultText?: string;
  description: string;
}

/** A bare word that switches something on, e.g. `migrate-back`. `args[key]` is true or false. */
export interface FlagSpec {
  name: string;
  key: string;
  description: string;
}

/**
 * How the bot treats a command:
 * - `runbook`: built into a Plan by a runbook of actions/, shown, approved per policy, then run;
 * - `query`: read-only answer, no plan;
 * - `control`: acts on the bot's own operations and schedules.
 */
export type CommandKind = 'runbook' | 'query' | 'control';

/** Whether approval is needed: `always` (the chapter says so), `policy` (approvals/ decides), `never`. */
export type ApprovalNeed = 'always' | 'policy' | 'never';

/** One command of the registry. */
export interface CommandSpec {
  family: CommandFamily;
  /** One word; multi-word commands join their words with "-" ("port-create"). */
  verb: string;
  /** Registry key: `${family}.${verb}`, e.g. "node.drain". */
  name: string;
  /** The words an operator types after the slash command, e.g. ["port", "create"]. */
  words: readonly string[];
  /** Other accepted spellings of `words`, each a word list (e.g. [["port-create"]]). */
  aliases: readonly (readonly string[])[];
  /** One line, for lists and the manifest. */
  summary: string;
  /** A few sentences for `help <verb>`. */
  description: string;
  positionals: readonly PositionalSpec[];
  options: readonly OptionSpec[];
  flags: readonly FlagSpec[];
  /** Groups of option names of which at most one may be given (e.g. [["at", "in"]]). */
  exclusive: readonly (readonly string[])[];
  /** True when `at=`/`in=` (SCHEDULE_KEYS) make it a scheduled run; they are not part of the runbook's input. */
  schedulable: boolean;
  kind: CommandKind;
  /** The strongest effect the command can have. */
  effect: Effect;
  /** The effect for these particular args, when it depends on them (e.g. a flag); else `effect`. */
  effectFor?: (args: Readonly<Record<string, unknown>>) => Effect;
  approval: ApprovalNeed;
  /** Cross-field checks on valid values (e.g. source ≠ destination). Run only when all values are valid. */
  check?: (args: Readonly<Record<string, unknown>>) => Problem[];
  /** Example texts after the slash command, each of which parses (a test holds this). */
  examples: readonly string[];
  /** Marked as an unsupported/undocumented procedure upstream (shown in help). */
  unsupported?: string;
}

/** A slash command (one per family) as the Slack manifest lists it. */
export interface SlashCommandSpec {
  family: CommandFamily;
  /** Default slash command, e.g. "/node". */
  command: string;
  description: string;
  usageHint: string;
}
