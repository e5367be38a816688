/**
 * The one call the Slack dispatcher needs: slash command + text + who and where → a core `Command`,
 * rendered help, or a rendered InputError. Pure and fast, so it runs before the acknowledgement.
 * The shape fits bot/handlers.ts `ParseOutcome` (extra fields aside).
 */
import { InputError } from '../../core/errors.js';
import type { Command, Requester } from '../../core/types.js';
import { type HelpRequest, type ParseOptions, parseCommand } from './parse-command.js';
import { renderHelp } from './render-help.js';
import { renderInputError } from './render-input-error.js';

export type Interpretation =
  | { kind: 'command'; command: Command }
  | { kind: 'help'; help: HelpRequest; text: string; mrkdwn: string }
  | { kind: 'error'; error: InputError; text: string; mrkdwn: string };

export interface SlashInput {
  /** The slash command as Slack sends it, e.g. "/node". */
  command: string;
  /** Its text, as Slack sends it (entities and links still encoded). */
  text: string;
  requester: Requester;
  channelId: string;
}

/**
 * Parses and validates. Throws only ChatOpsError UNKNOWN_COMMAND (a slash command that is not ours:
 * a wiring fault, not a typing mistake); every typing mistake comes back as `kind: 'error'`.
 */
export function interpretCommand(input: SlashInput, options: ParseOptions = {}): Interpretation {
  try {
    const r = parseCommand(input.command, input.text, options);
    if (r.kind === 'help') return { kind: 'help', help: r.help, ...renderHelp(r.help, options.names) };
    const raw = `${input.command} ${input.text}`.trim();
    return { kind: 'command', command: { ...r.command, raw, requester: input.requester, channelId: input.channelId } };
  } catch (e) {
    if (e instanceof InputError) return { kind: 'error', error: e, ...renderInputError(e) };
    throw e;
  }
}
