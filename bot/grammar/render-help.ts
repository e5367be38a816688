/**
 * Help for a family (`/node`, `/node help`) or one command (`/node help drain`), in plain text (local
 * mode, logs, notification text) and in Slack mrkdwn (every `&`, `<`, `>` escaped, so placeholders
 * such as <host> are not read as links). Pure; each rendition stays under Slack's 3,000 characters
 * of a section (a test holds this).
 */
import type { CommandFamily } from '../../core/types.js';
import type { CommandSpec } from '../../engine/spec/command-spec.js';
import type { HelpRequest } from './parse-command.js';
import { type CommandNames, SLASH_COMMANDS, commandsOf, getCommand, slashOf, usageOf } from './registry.js';
import { escapeSlackText } from './slack-text.js';

/** Help in two renditions. */
export interface RenderedText {
  text: string;
  mrkdwn: string;
}

const APPROVAL: Record<CommandSpec['approval'], string> = {
  always: 'always needs approval by a second person',
  policy: 'needs approval when the policy says so',
  never: 'needs no approval',
};
const KIND: Record<CommandSpec['kind'], string> = {
  runbook: 'shows a plan first, then runs it step by step',
  query: 'read-only answer',
  control: "acts on the bot's own operations and schedules",
};

/** Lines of help for one command; `code` marks text that is literal command syntax. */
function commandLines(spec: CommandSpec, names: CommandNames, code: (s: string) => string, bold: (s: string) => string): string[] {
  const lines = [code(usageOf(spec, names)), spec.summary, '', spec.description];
  if (spec.unsupported) lines.push('', `${bold('Unsupported upstream:')} ${spec.unsupported}`);
  if (spec.positionals.length) {
    lines.push('', bold('Arguments'));
    for (const p of spec.positionals) lines.push(`• ${code(`<${p.name}>`)} ${p.description} Expected: ${p.type.expected}.`);
  }
  if (spec.options.length || spec.flags.length) {
    lines.push('', bold('Options'));
    for (const o of spec.options) {
      const req = o.required ? ' (required)' : '';
      const def = o.defaultText !== undefined && !o.required ? ` Default: ${o.defaultText}.` : '';
      const expected = o.type.placeholder === o.type.choices?.join('|') ? '' : ` Expected: ${o.type.expected}.`;
      lines.push(`• ${code(`${o.name}=${o.type.placeholder}`)}${req} ${o.description}${expected}${def}`);
    }
    for (const g of spec.exclusive) lines.push(`• ${g.map((n) => code(`${n}=`)).join(' and ')} exclude each other.`);
    for (const f of spec.flags) lines.push(`• ${code(f.name)} (flag, a word on its own) ${f.description}`);
  }
  lines.push('', `${bold('Effect:')} ${spec.effect}; ${KIND[spec.kind]}; ${APPROVAL[spec.approval]}.`);
  lines.push('', bold(spec.examples.length > 1 ? 'Examples' : 'Example'));
  for (const e of spec.examples) lines.push(code(`${slashOf(spec.family, names)} ${e}`));
  return lines;
}

function familyLines(family: CommandFamily, names: CommandNames, code: (s: string) => string, bold: (s: string) => string): string[] {
  const slash = slashOf(family, names);
  const meta = SLASH_COMMANDS.find((s) => s.family === family);
  const lines = [`${bold(slash)}: ${meta?.description ?? ''}`, ''];
  for (const spec of commandsOf(family)) lines.push(`• ${code(usageOf(spec, names))}`, `  ${spec.summary}`);
  const first = commandsOf(family)[0];
  lines.push('', `Details: ${code(`${slash} help <command>`)}${first ? `, e.g. ${code(`${slash} help ${first.words.join(' ')}`)}` : ''}.`);
  lines.push(`Values with spaces go in quotes: ${code('reason="disk swap in rack 4"')}.`);
  return lines;
}

// Markers for literal syntax and headings, replaced per rendition after escaping (registry text
// never contains these control characters, and no user input reaches help).
const CODE = (s: string): string => `\u0001${s}\u0002`;
const BOLD = (s: string): string => `\u0003${s}\u0004`;

/** Renders a help request from `parseCommand` (family help when the command is unknown). */
export function renderHelp(help: HelpRequest, names: CommandNames = {}): RenderedText {
  const spec = help.command ? getCommand(help.command) : undefined;
  const marked = (spec ? commandLines(spec, names, CODE, BOLD) : familyLines(help.family, names, CODE, BOLD)).join('\n');
  const swap = (s: string, code: string, bold: string): string =>
    s.split('\u0001').join(code).split('\u0002').join(code).split('\u0003').join(bold).split('\u0004').join(bold);
  return { text: swap(marked, '', ''), mrkdwn: swap(escapeSlackText(marked), '`', '*') };
}
