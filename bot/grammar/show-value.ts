/**
 * A typed value as an error message may quote it: in double quotes, at most 40 characters, with
 * control, format, private-use and unassigned characters and every white space but the plain space
 * written as \u{…}, so a bidi override or a zero-width space shows as what it is.
 * Slack markup characters (& < >) stay as they are; renderers escape them (slack-text.ts).
 */
export function showValue(v: string, max = 40): string {
  const chars = [...v];
  const cut = chars.length > max ? `${chars.slice(0, max).join('')}…` : v;
  const visible = cut.replace(/[\p{C}\p{Z}"\\]/gu, (c) => {
    if (c === ' ') return c;
    if (c === '"' || c === '\\') return `\\${c}`;
    return `\\u{${c.codePointAt(0)!.toString(16)}}`;
  });
  return `"${visible}"`;
}
