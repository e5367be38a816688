/**
 * An InputError as the person who typed the command sees it: every problem, the usage line and
 * where to get help. Plain text and Slack mrkdwn; the mrkdwn escapes `&`, `<`, `>` because problem
 * messages quote what was typed, which must not become a mention, a link or `<!channel>`.
 */
import type { InputError } from '../../core/errors.js';
import { escapeSlackText } from './slack-text.js';
import type { RenderedText } from './render-help.js';

/** `/node help drain` for a one-command usage line, `/node help` for a family's usage lines. */
function helpCommand(usage: string): string | undefined {
  const [slash, ...words] = usage.split(/\s+/);
  if (!slash?.startsWith('/')) return undefined;
  if (usage.includes('\n')) return `${slash} help`;
  const verb = [];
  for (const w of words) {
    if (/^[a-z][a-z-]*$/.test(w)) verb.push(w);
    else break;
  }
  return [slash, 'help', ...verb].join(' ');
}

/** Renders an InputError from `parseCommand`. */
export function renderInputError(error: InputError): RenderedText {
  const n = error.problems.length;
  const head = n === 1 ? 'That command has a problem:' : `That command has ${n} problems:`;
  const items = error.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
  const usageLines = error.usage.split('\n');
  const help = helpCommand(error.usage);
  const helpLine = help ? `Help: ${help}` : '';
  const text = [head, ...items.map((i) => `  - ${i}`), `Usage: ${usageLines.join('\n       ')}`, helpLine].filter(Boolean).join('\n');
  const mrkdwn = [
    head,
    ...items.map((i) => `• ${escapeSlackText(i)}`),
    `*Usage:*`,
    ...usageLines.map((u) => `\`${escapeSlackText(u)}\``),
    help ? `Help: \`${escapeSlackText(help)}\`` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return { text, mrkdwn };
}
