/**
 * Small pure helpers for Block Kit: escaping, truncation and packing lines into sections so that
 * every message stays within Slack's limits (bot/slack-limits.ts) however long the input is.
 */
import type { KnownBlock } from '@slack/types';
import { SLACK_LIMITS as L } from './slack-limits.js';

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Inline code that cannot be broken out of by a backtick inside. */
export function code(s: string): string {
  return '`' + escapeMrkdwn(s).replace(/`/g, 'ˋ') + '`';
}

/** Cuts to `max` characters, marking the cut; keeps the end instead when `keep` is 'tail'. */
export function clip(s: string, max: number, keep: 'head' | 'tail' = 'head'): string {
  if (s.length <= max) return s;
  if (max <= 1) return s.slice(0, max);
  return keep === 'head' ? `${s.slice(0, max - 1)}…` : `…${s.slice(s.length - max + 1)}`;
}

export function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, L.sectionText) } };
}

export function context(...texts: string[]): KnownBlock {
  return { type: 'context', elements: texts.slice(0, L.contextElements).map((t) => ({ type: 'mrkdwn', text: clip(t, L.sectionFieldText) })) };
}

export function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: clip(text, L.headerText), emoji: true } };
}

/**
 * Packs lines into at most `maxSections` section blocks of ≤ 3,000 characters each. Lines that do
 * not fit are counted and summarised in a last line ("… and 180 more"), so nothing is silently lost.
 */
export function packLines(lines: string[], maxSections: number, more: (n: number) => string): KnownBlock[] {
  const budget = L.sectionText - 100; // room for the "more" line
  const chunks: string[][] = [[]];
  let size = 0;
  let used = 0;
  for (const raw of lines) {
    const line = clip(raw, budget);
    if (size + line.length + 1 > budget) {
      if (chunks.length >= maxSections) break;
      chunks.push([]);
      size = 0;
    }
    chunks[chunks.length - 1]!.push(line);
    size += line.length + 1;
    used++;
  }
  if (used < lines.length) chunks[chunks.length - 1]!.push(more(lines.length - used));
  return chunks.filter((c) => c.length).map((c) => section(c.join('\n')));
}
