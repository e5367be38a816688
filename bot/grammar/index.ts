/**
 * The command grammar: the registry of every command, the parser (Slack text → validated command,
 * help request, or one InputError), help and error rendering. Pure: no Slack, no I/O.
 */
export type {
  ApprovalNeed,
  CommandKind,
  CommandSpec,
  FlagSpec,
  OptionSpec,
  PositionalSpec,
  SlashCommandSpec,
  ValueType,
} from '../../engine/spec/command-spec.js';
export { COMMANDS } from './commands.js';
export { type CommandNames, FAMILIES, SLASH_COMMANDS, allCommands, commandsOf, familyOfSlash, familyUsage, getCommand, slashOf, usageOf } from './registry.js';
export { type HelpRequest, MAX_TEXT_LENGTH, type ParseOptions, type ParseResult, type ParsedCommand, parseCommand, parseCommandLine } from './parse-command.js';
export { effectOf, scheduledRunAt } from './command-facts.js';
export { type Interpretation, type SlashInput, interpretCommand } from './interpret-command.js';
export { type RenderedText, renderHelp } from './render-help.js';
export { renderInputError } from './render-input-error.js';
export { decodeSlackEntities, escapeSlackText, normalizeSlackText, unwrapSlackMarkup } from './slack-text.js';
export { type Token, type TokenizeResult, quoteValue, quoteWord, tokenize } from './tokenize.js';
