/** The status card and thread replies stay within Slack's limits whatever the operation looks like. */
import { describe, expect, it } from 'vitest';
import type { OperationView } from '../../engine/reporter.js';
import { checkBlocks } from '../../slack-standin/index.js';
import {
  escapeMrkdwn,
  progressBar,
  renderFailureReply,
  renderFailuresReply,
  renderFinalSummary,
  renderInDoubtReply,
  renderStatusCard,
  STATUS_CARD_ACTIONS,
} from '../../bot/render/render-status-card.js';
import { applyEvent, initialModel } from '../../bot/render/status-model.js';

function view(n: number, title = (i: number) => `Migrate instance ${i}`): OperationView {
  return {
    opId: 'op-abcdefgh2345',
    runbook: 'node.drain',
    target: 'c01.example.com',
    summary: 'drain c01 <for> maintenance & more',
    requester: { userId: 'U0ALICE', teamId: 'T0' },
    approvers: [{ userId: 'U0BOB', teamId: 'T0' }],
    channelId: 'C0OPS0001',
    steps: Array.from({ length: n }, (_, i) => ({ id: `s${i}`, title: title(i), effect: 'change' as const })),
  };
}

describe('status card rendering', () => {
  it('a drain of 1,000 instances is one card with a bar and counts, within the limits', () => {
    const m = initialModel(view(1000), 0);
    for (let i = 0; i < 400; i++) {
      applyEvent(m, { type: 'step-started', at: i * 1000, stepId: `s${i}` });
      applyEvent(
        m,
        i % 50 === 7
          ? { type: 'step-failed', at: i * 1000 + 900, stepId: `s${i}`, failure: { message: 'x' } }
          : { type: 'step-finished', at: i * 1000 + 900, stepId: `s${i}`, outcome: 'ok' },
      );
    }
    applyEvent(m, { type: 'step-started', at: 400_000, stepId: 's400' });
    applyEvent(m, { type: 'step-progress', at: 400_001, stepId: 's400', done: 3, total: 10, note: 'copying disk' });
    const card = renderStatusCard(m, 401_000);
    expect(checkBlocks(card.blocks)).toEqual([]);
    const text = JSON.stringify(card.blocks);
    expect(text).toContain('400/1000 steps');
    expect(text).toContain('8 failed');
    expect(text).toContain(progressBar(400, 1000));
    expect(text).toContain('Now: *Migrate instance 400* (3/10: copying disk)');
    expect(text).toContain('drain c01 &lt;for&gt; maintenance &amp; more');
    expect(card.blocks.length).toBeLessThan(10);
    const summary = renderFinalSummary(m);
    expect(checkBlocks(summary.blocks)).toEqual([]);
    expect(JSON.stringify(summary.blocks)).toContain('Slowest 10 of 400 steps');
  });

  it('steps side by side (a window, parallel=8): "Now" stays on one still running, with how many more', () => {
    const m = initialModel(view(20), 0);
    for (let i = 0; i < 3; i++) applyEvent(m, { type: 'step-started', at: 10 + i, stepId: `s${i}` });
    expect(JSON.stringify(renderStatusCard(m, 20).blocks)).toContain('Now: *Migrate instance 2* and 2 more at the same time');
    // the latest started ends first: the card names the latest of those still running, not nothing
    applyEvent(m, { type: 'step-finished', at: 30, stepId: 's2', outcome: 'ok' });
    applyEvent(m, { type: 'step-started', at: 31, stepId: 's3' });
    applyEvent(m, { type: 'step-finished', at: 32, stepId: 's3', outcome: 'ok' });
    let text = JSON.stringify(renderStatusCard(m, 40).blocks);
    expect(text).toContain('Now: *Migrate instance 1* and 1 more at the same time');
    expect(text).toContain('2/20 steps');
    applyEvent(m, { type: 'step-failed', at: 41, stepId: 's1', failure: { message: 'x' } });
    text = JSON.stringify(renderStatusCard(m, 42).blocks);
    expect(text).toContain('Now: *Migrate instance 0*"');
    applyEvent(m, { type: 'step-finished', at: 43, stepId: 's0', outcome: 'ok' });
    expect(JSON.stringify(renderStatusCard(m, 44).blocks)).not.toContain('Now:');
  });

  it('an operation in doubt shows which steps and offers Resume / Abort', () => {
    const m = initialModel(view(30), 0);
    for (let i = 0; i < 30; i++) applyEvent(m, { type: 'in-doubt', at: 1, stepId: `s${i}`, detail: 'x'.repeat(400) });
    applyEvent(m, { type: 'finished', at: 2, state: 'needs-operator' });
    const card = renderStatusCard(m, 3);
    expect(checkBlocks(card.blocks)).toEqual([]);
    const actions = card.blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; value: string }[] };
    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([
      [STATUS_CARD_ACTIONS.resume, 'op-abcdefgh2345'],
      [STATUS_CARD_ACTIONS.abort, 'op-abcdefgh2345'],
    ]);
    expect(JSON.stringify(card.blocks)).toContain('…and 25 more');
    expect(checkBlocks(renderInDoubtReply(m, 's0', 'y'.repeat(5000)).blocks)).toEqual([]);
  });

  it('a failure reply keeps the end of a long output, survives code fences and fits a section', () => {
    const m = initialModel(view(1), 0);
    const out = `${'noise\n'.repeat(2000)}\`\`\` fence\nLAST LINE: disk full`;
    const reply = renderFailureReply(m, 's0', {
      message: 'boom <script>',
      code: 'REMOTE_COMMAND_FAILED',
      command: 'ssh c01 systemctl stop nova-compute',
      exitStatus: 1,
      outputTail: out,
    });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    const text = JSON.stringify(reply.blocks);
    expect(text).toContain('LAST LINE: disk full');
    expect(text).toContain('Exit status: 1');
    expect(text).toContain('boom &lt;script&gt;');
    expect(text).not.toContain('``` fence');
    const many = renderFailuresReply(
      m,
      Array.from({ length: 40 }, () => ({ stepId: 's0', failure: { message: 'm', outputTail: out } })),
    );
    expect(checkBlocks(many.blocks)).toEqual([]);
    expect(JSON.stringify(many.blocks).length).toBeLessThan(13_000);
    expect(JSON.stringify(many.blocks)).toContain('…and 30 more failures');
  });

  it('escapes Slack control characters', () => {
    expect(escapeMrkdwn('<@U1> & <!channel>')).toBe('&lt;@U1&gt; &amp; &lt;!channel&gt;');
  });
});
