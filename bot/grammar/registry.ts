/**
 * Look-ups over the command table, the slash commands for the Slack manifest, and usage lines.
 *
 * Slash command names can be configured (generic names such as /node may clash with other apps in a
 * shared workspace): every function that shows or maps a slash command takes an optional
 * `CommandNames` map from family to the configured name; the defaults are /node, /instance, …
 */
import type { CommandFamily } from '../../core/types.js';
import type { CommandSpec, SlashCommandSpec } from '../../engine/spec/command-spec.js';
import { type CommandNames, slashOf, usageOf } from '../../engine/spec/usage.js';
import { COMMANDS } from './commands.js';

export { type CommandNames, slashOf, usageOf };

/** The slash commands, one per family, for the Slack manifest (description ≤ 100, usage hint ≤ 1000 chars). */
export const SLASH_COMMANDS: readonly SlashCommandSpec[] = [
  {
    family: 'node',
    command: '/node',
    description: 'Compute node maintenance: drain, undrain, check, evacuate, status',
    usageHint: 'drain|undrain|check|evacuate|copy-instances|status|list|help …',
  },
  {
    family: 'instance',
    command: '/instance',
    description: "Inspect a failed instance's disk (read-only, approved)",
    usageHint: 'inspect <uuid> reason="…" [path=…] | help',
  },
  {
    family: 'volume',
    command: '/volume',
    description: 'Re-attach the volumes of a node after a reboot',
    usageHint: 'reattach <host> [instance=<uuid>] | help',
  },
  {
    family: 'ip',
    command: '/ip',
    description: 'Public IPs: create ports, detach, check, recover lost addresses',
    usageHint: 'port create|detach|check|recover … | help',
  },
  {
    family: 'op',
    command: '/op',
    description: 'Operations: list, show, export, resume, abort, undo',
    usageHint: 'list|show|export|resume|abort|undo <op-id> | help',
  },
  { family: 'schedule', command: '/schedule', description: 'Scheduled runs: list, cancel', usageHint: 'list|cancel <schedule-id> | help' },
];

/** Every family, in manifest order. */
export const FAMILIES: readonly CommandFamily[] = SLASH_COMMANDS.map((s) => s.family);

const BY_NAME = new Map(COMMANDS.map((c) => [c.name, c]));

/** Every command of the registry. */
export function allCommands(): readonly CommandSpec[] {
  return COMMANDS;
}

/** The commands of one family, in table order. */
export function commandsOf(family: CommandFamily): CommandSpec[] {
  return COMMANDS.filter((c) => c.family === family);
}

/** A command by registry name ("node.drain"), or undefined. */
export function getCommand(name: string): CommandSpec | undefined {
  return BY_NAME.get(name);
}

/** The family a slash command belongs to ("/node" or "node"; configured names honoured), or undefined. */
export function familyOfSlash(command: string, names: CommandNames = {}): CommandFamily | undefined {
  const c = command.startsWith('/') ? command : `/${command}`;
  return FAMILIES.find((f) => slashOf(f, names) === c);
}

/** One usage line per command of the family, for errors that can't name a command. */
export function familyUsage(family: CommandFamily, names: CommandNames = {}): string {
  return [...commandsOf(family).map((c) => usageOf(c, names)), `${slashOf(family, names)} help [<command>]`].join('\n');
}
