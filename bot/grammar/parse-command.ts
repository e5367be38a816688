/**
 * Slash command + text → a validated command, a help request, or one InputError naming every
 * problem. Pure and fast: it runs before the acknowledgement, and nothing else runs before it.
 *
 * Steps: Slack markup and entities are undone (slack-text.ts), the text is tokenized
 * (tokenize.ts), the verb is found in the registry, then every argument is checked against its
 * command's spec: each value through its zod schema; unknown, duplicate and missing options, extra
 * and missing positionals, exclusive options; finally the command's cross-field checks.
 */
import { ChatOpsError, InputError, type Problem } from '../../core/errors.js';
import type { Command, CommandFamily } from '../../core/types.js';
import { formatUtcTime } from '../../core/values.js';
import type { CommandSpec } from '../../engine/spec/command-spec.js';
import { type CommandNames, commandsOf, familyOfSlash, familyUsage, usageOf } from './registry.js';
import { normalizeSlackText } from './slack-text.js';
import { closest } from './suggest.js';
import { type Token, tokenize } from './tokenize.js';
import { checkArguments } from './check-arguments.js';

/** A validated command; the caller adds `raw`, `requester` and `channelId` to make a core `Command`. */
export type ParsedCommand = Pick<Command, 'family' | 'verb' | 'name' | 'args'>;

/** Help for a family, or for one command (`command` is its registry name, e.g. "node.drain"). */
export interface HelpRequest {
  family: CommandFamily;
  command?: string;
}

export type ParseResult = { kind: 'command'; command: ParsedCommand } | { kind: 'help'; help: HelpRequest };

export interface ParseOptions {
  /** Configured slash command names (defaults /node, /instance, …). */
  names?: CommandNames;
  /** Now, in epoch ms. When given, `at=` must lie in the future. Without it, times are not compared. */
  now?: number;
}

/** Longest text accepted (Slack's own limit for a message is 4,000 characters). */
export const MAX_TEXT_LENGTH = 4000;
const HELP_WORDS = new Set(['help', '--help', '-h', '?']);

/** Matches the leading unquoted words of `tokens` against a command's words and aliases. */
function matchLength(spec: CommandSpec, tokens: readonly Token[]): number {
  let best = 0;
  for (const words of [spec.words, ...spec.aliases]) {
    const ok = words.every((w, i) => {
      const t = tokens[i];
      return t?.kind === 'word' && !t.quoted && t.text.toLowerCase() === w;
    });
    if (ok && words.length > best) best = words.length;
  }
  return best;
}

type VerbMatch = { spec: CommandSpec; used: number } | { prefixOf: CommandSpec[]; used: number } | undefined;

function findVerb(family: CommandFamily, tokens: readonly Token[]): VerbMatch {
  let found: { spec: CommandSpec; used: number } | undefined;
  for (const spec of commandsOf(family)) {
    const n = matchLength(spec, tokens);
    if (n > 0 && (!found || n > found.used)) found = { spec, used: n };
  }
  if (found) return found;
  // A first word shared by multi-word commands ("port" of "port create") without its second word.
  const first = tokens[0];
  if (first?.kind !== 'word' || first.quoted) return undefined;
  const prefixOf = commandsOf(family).filter((s) => s.words.length > 1 && s.words[0] === first.text.toLowerCase());
  return prefixOf.length ? { prefixOf, used: 1 } : undefined;
}

function verbProblem(family: CommandFamily, tokens: readonly Token[], names: CommandNames, match: VerbMatch): Problem {
  const slash = names[family] ?? `/${family}`;
  const verbs = commandsOf(family).map((s) => s.words.join(' '));
  const first = tokens[0]!;
  if (match && 'prefixOf' in match) {
    const second = tokens[1];
    const typed = second?.kind === 'word' ? second.text : second ? `${second.key}=` : '';
    const options = match.prefixOf.map((s) => s.words.slice(1).join(' '));
    const guess = closest(typed, options);
    return {
      path: 'verb',
      message: `unknown command "${slash} ${first.kind === 'word' ? first.text : ''} ${typed}".${guess ? ` Did you mean "${slash} ${match.prefixOf[0]!.words[0]} ${guess}"?` : ''} Expected ${match.prefixOf.map((s) => `"${slash} ${s.words.join(' ')}"`).join(' or ')}`,
    };
  }
  if (first.kind !== 'word' || first.quoted) {
    return { path: 'verb', message: `expected a command first (${verbs.join(', ')}), e.g. ${slash} ${verbs[0]} …` };
  }
  const guess = closest(first.text, [...verbs.map((v) => v.split(' ')[0]!), ...commandsOf(family).flatMap((s) => s.aliases.map((a) => a.join(' ')))]);
  return {
    path: 'verb',
    message: `unknown command "${slash} ${first.text}".${guess ? ` Did you mean "${slash} ${guess}"?` : ''} ${slash} takes: ${verbs.join(', ')}, help`,
  };
}

/** The usage to show when the text does not even tokenize: the command's, if its first word is one. */
function guessUsage(family: CommandFamily, text: string, names: CommandNames): string {
  const words = text
    .trim()
    .split(/\s+/)
    .map((w) => w.toLowerCase());
  const spec = commandsOf(family).find((s) => [s.words, ...s.aliases].some((ws) => ws.every((w, i) => words[i] === w)));
  return spec ? usageOf(spec, names) : familyUsage(family, names);
}

/**
 * Parses the text of a slash command. Throws `InputError` (code INPUT_INVALID; `problems` name every
 * offending argument, `usage` is the command's usage line) when anything is wrong, and
 * `ChatOpsError` UNKNOWN_COMMAND when `slash` is not one of ours.
 */
export function parseCommand(slash: string, text: string, options: ParseOptions = {}): ParseResult {
  const names = options.names ?? {};
  const family = familyOfSlash(slash, names);
  if (!family) throw new ChatOpsError('UNKNOWN_COMMAND', `unknown slash command ${slash}`, { details: { command: slash } });
  const input = normalizeSlackText(text);
  if (input.length > MAX_TEXT_LENGTH) {
    throw new InputError(
      [{ path: 'text', message: `the command text has ${input.length} characters; at most ${MAX_TEXT_LENGTH} are accepted` }],
      familyUsage(family, names),
    );
  }
  const tokenized = tokenize(input);
  if (!tokenized.ok) throw new InputError([tokenized.problem], guessUsage(family, input, names));
  const tokens = tokenized.tokens;
  const first = tokens[0];
  if (!first) return { kind: 'help', help: { family } };
  if (first.kind === 'word' && !first.quoted && HELP_WORDS.has(first.text.toLowerCase())) return helpFor(family, tokens.slice(1), names);
  const match = findVerb(family, tokens);
  if (match && 'prefixOf' in match && tokens.length === 1) {
    return { kind: 'help', help: match.prefixOf.length === 1 ? { family, command: match.prefixOf[0]!.name } : { family } };
  }
  if (!match || !('spec' in match)) throw new InputError([verbProblem(family, tokens, names, match)], familyUsage(family, names));
  const { spec } = match;
  const rest = tokens.slice(match.used);
  const only = rest[0];
  if (rest.length === 1 && only?.kind === 'word' && !only.quoted && HELP_WORDS.has(only.text.toLowerCase())) {
    return { kind: 'help', help: { family, command: spec.name } };
  }
  const { args, problems } = checkArguments(spec, rest);
  if (problems.length === 0 && options.now !== undefined && typeof args['at'] === 'number' && args['at'] <= options.now) {
    problems.push({
      path: 'at',
      message: `${formatUtcTime(args['at'])} is not in the future (now is ${formatUtcTime(options.now)}); expected a later UTC time, or in=<duration>`,
    });
  }
  if (problems.length) throw new InputError(problems, usageOf(spec, names));
  return { kind: 'command', command: { family, verb: spec.verb, name: spec.name, args: Object.freeze(args) } };
}

function helpFor(family: CommandFamily, words: readonly Token[], names: CommandNames): ParseResult {
  if (words.length === 0) return { kind: 'help', help: { family } };
  const match = findVerb(family, words);
  if (match && 'spec' in match && match.used === words.length) return { kind: 'help', help: { family, command: match.spec.name } };
  if (match && 'prefixOf' in match && words.length === 1) {
    return { kind: 'help', help: match.prefixOf.length === 1 ? { family, command: match.prefixOf[0]!.name } : { family } };
  }
  const problem = verbProblem(family, words, names, match && 'spec' in match ? undefined : match);
  throw new InputError([{ ...problem, message: `help: ${problem.message}` }], familyUsage(family, names));
}

/**
 * Parses a whole line as typed in local mode or a test, e.g. `/node drain c01 reason=test`: the
 * first word is the slash command, the rest its text.
 */
export function parseCommandLine(line: string, options: ParseOptions = {}): ParseResult {
  const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(line);
  if (!m) throw new ChatOpsError('UNKNOWN_COMMAND', 'empty command line: expected a slash command such as /node', { details: { command: '' } });
  return parseCommand(m[1]!, m[2]!, options);
}
