import { describe, expect, it } from 'vitest';
import { blocksToText, mrkdwnToText, type TextButton } from '../../local-mode/blocks-to-text.js';

describe('blocksToText', () => {
  it('renders headers, sections, context and numbered buttons', () => {
    const buttons: TextButton[] = [];
    const out = blocksToText(
      'fallback',
      [
        { type: 'header', text: { type: 'plain_text', text: 'Plan: /node drain c01' } },
        { type: 'section', text: { type: 'mrkdwn', text: 'Asked by <@U1> &amp; approved by <!subteam^S1|@approvers>' } },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'a' },
            { type: 'mrkdwn', text: 'b' },
          ],
        },
        {
          type: 'actions',
          block_id: 'approval:ap-1',
          elements: [
            { type: 'button', action_id: 'approval.approve', value: 'v1', text: { type: 'plain_text', text: 'Approve' } },
            { type: 'button', action_id: 'approval.reject', value: 'v1', text: { type: 'plain_text', text: 'Reject' } },
          ],
        },
      ],
      (b) => buttons.push({ ...b, n: buttons.length + 1 }),
      (id) => (id === 'U1' ? 'alice' : id),
    );
    expect(out).toBe('== Plan: /node drain c01 ==\nAsked by @alice & approved by @approvers\n  a · b\n  [1] Approve   [2] Reject');
    expect(buttons.map((b) => [b.n, b.actionId, b.blockId])).toEqual([
      [1, 'approval.approve', 'approval:ap-1'],
      [2, 'approval.reject', 'approval:ap-1'],
    ]);
  });

  it('falls back to the text and decodes entities', () => {
    expect(blocksToText('a &lt;b&gt;', undefined, () => 0)).toBe('a <b>');
    expect(mrkdwnToText('<!date^1767225600^{time}|soon>')).toBe('2026-01-01T00:00:00Z');
  });
});
