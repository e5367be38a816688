/**
 * Slack's encoding of command text, undone before tokenizing.
 *
 * Slack escapes `&`, `<` and `>` typed by a person as `&amp;`, `&lt;` and `&gt;`, and sends its own
 * markup as literal angle brackets: auto-links `<http://c01.example.com|c01.example.com>`,
 * `<mailto:a@b.c|a@b.c>`, and (with "escape channels, users and links" on) mentions such as
 * `<@U024BE7LH|bob>` or `<#C024BE7LH|ops>`. A host name typed as `c01.example.com` may therefore arrive
 * as an auto-link.
 *
 * Order matters: markup is unwrapped first, on the raw text, where every `<` is Slack's own; only
 * then are entities decoded. The other way round, a person typing `&lt;http://x|y&gt;` would have it
 * unwrapped as if Slack had sent a link. Decoding is one pass, so `&amp;lt;` becomes `&lt;`, not `<`.
 * Unwrapping keeps the display text (`label` in `<target|label>`, else `target`); what remains is
 * validated like anything typed, so nothing here can make a value acceptable that would not be.
 */

const MARKUP = /<([^<>|]*)(?:\|([^<>]*))?>/g;
const ENTITIES: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>' };

/** Replaces Slack markup `<target|label>` by `label` and `<target>` by `target`. */
export function unwrapSlackMarkup(text: string): string {
  return text.replace(MARKUP, (_m, target: string, label: string | undefined) => label ?? target);
}

/** Decodes the three entities Slack uses (`&amp;`, `&lt;`, `&gt;`), in one pass. */
export function decodeSlackEntities(text: string): string {
  return text.replace(/&(?:amp|lt|gt);/g, (e) => ENTITIES[e] ?? e);
}

/** Slack command text → the text as the person typed it (markup unwrapped, entities decoded). */
export function normalizeSlackText(text: string): string {
  return decodeSlackEntities(unwrapSlackMarkup(text));
}

/** Escapes `&`, `<`, `>` so text echoed back into Slack can't form a mention, link or `<!channel>`. */
export function escapeSlackText(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}
