/**
 * Renders a Slack message (text + Block Kit) as terminal text for local mode. Buttons get numbers
 * from the caller so that a person can "press" them by typing the number.
 */
export interface TextButton {
  n: number;
  actionId: string;
  value: string;
  blockId?: string;
  label: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

/** Slack mrkdwn to plain terminal text: entities decoded, mentions and dates made readable. */
export function mrkdwnToText(s: string, names: (id: string) => string = (id) => id): string {
  return s
    .replace(/<@([A-Z0-9]+)>/g, (_m, id: string) => `@${names(id)}`)
    .replace(/<!subteam\^([A-Z0-9]+)(?:\|([^>]+))?>/g, (_m, id: string, label?: string) => label ?? `@${names(id)}`)
    .replace(/<!date\^(\d+)\^[^|>]*\|[^>]*>/g, (_m, sec: string) => new Date(Number(sec) * 1000).toISOString().replace('.000Z', 'Z'))
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function blocksToText(
  text: string,
  blocks: unknown[] | undefined,
  nextButton: (b: Omit<TextButton, 'n'>) => number,
  names?: (id: string) => string,
): string {
  if (!blocks?.length) return mrkdwnToText(text, names);
  const out: string[] = [];
  for (const b of blocks) {
    if (!isObj(b)) continue;
    const t = isObj(b.text) ? String(b.text.text ?? '') : typeof b.text === 'string' ? b.text : '';
    switch (b.type) {
      case 'header':
        out.push(`== ${t} ==`);
        break;
      case 'section':
        if (t) out.push(mrkdwnToText(t, names));
        if (Array.isArray(b.fields)) out.push(b.fields.map((f) => (isObj(f) ? mrkdwnToText(String(f.text ?? ''), names) : '')).join('  |  '));
        break;
      case 'markdown':
        out.push(mrkdwnToText(t, names));
        break;
      case 'context':
        if (Array.isArray(b.elements)) out.push('  ' + b.elements.map((e) => (isObj(e) ? mrkdwnToText(String(e.text ?? ''), names) : '')).join(' · '));
        break;
      case 'divider':
        out.push('  ----');
        break;
      case 'actions':
        if (Array.isArray(b.elements)) {
          const labels = b.elements.filter(isObj).map((e) => {
            const label = isObj(e.text) ? String(e.text.text ?? '') : String(e.action_id ?? '');
            const n = nextButton({
              actionId: String(e.action_id ?? ''),
              value: String(e.value ?? ''),
              blockId: typeof b.block_id === 'string' ? b.block_id : undefined,
              label,
            });
            return `[${n}] ${label}`;
          });
          out.push('  ' + labels.join('   '));
        }
        break;
      default:
        break;
    }
  }
  return out.join('\n');
}
