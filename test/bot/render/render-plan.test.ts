import { describe, expect, it } from 'vitest';
import type { Plan } from '../../../core/types.js';
import { parseApprovalButtonValue, renderPlanPreview } from '../../../bot/render/render-plan.js';
import { checkBlocks } from '../../../slack-standin/block-check.js';

function plan(n: number, cmdLen = 80): Plan {
  return {
    runbook: 'node.drain',
    target: 'c01',
    args: { host: 'c01', reason: 'maintenance' },
    resolved: {},
    steps: Array.from({ length: n }, (_, i) => ({
      id: `migrate:${i}`,
      title: `Live-migrate instance ${i} <off> c01 & verify`,
      equivalent: [`openstack server migrate ${'x'.repeat(cmdLen)} --live-migration`],
      effect: i === 0 ? 'change' : 'destructive',
    })),
    risk: 'destructive',
    summary: 'Drain c01',
    warnings: ['instance 3 is SHUTOFF: cold migration'],
    hash: 'a'.repeat(64),
  };
}

const base = {
  operationId: 'op-abcdefgh2345',
  requester: { userId: 'U0ALICE', teamId: 'T1' },
  commandText: '/node drain c01 reason=maintenance',
  approval: { requestId: 'ap-1', needed: 1, approversText: 'one of <!subteam^S1>', expiresAt: Date.UTC(2026, 0, 1) },
};

describe('renderPlanPreview', () => {
  it.each([1, 20, 500, 5000])('stays within Slack limits with %i steps', (n) => {
    const r = renderPlanPreview({ ...base, plan: plan(n, 1500) });
    expect(checkBlocks(r.blocks)).toEqual([]);
    const all = JSON.stringify(r.blocks);
    if (n > 20) expect(all).toMatch(/more steps/);
  });

  it('shows every step with its equivalent command and escapes mrkdwn', () => {
    const r = renderPlanPreview({ ...base, plan: plan(3) });
    const all = JSON.stringify(r.blocks);
    expect(all).toContain('openstack server migrate');
    expect(all).toContain('&lt;off&gt; c01 &amp; verify');
    expect(all).not.toContain('<off>');
    expect(all).toContain('approval.approve');
  });

  it('binds the buttons to the request and the exact plan hash', () => {
    const r = renderPlanPreview({ ...base, plan: plan(2) });
    const actions = r.blocks.find((b) => b.type === 'actions') as { elements: { value: string }[] };
    expect(parseApprovalButtonValue(actions.elements[0]!.value)).toEqual({ requestId: 'ap-1', planHash: 'a'.repeat(64) });
    expect(parseApprovalButtonValue('ap-1|zzz')).toBeUndefined();
  });

  it('renders no buttons for a read-only plan', () => {
    const { approval: _a, ...noApproval } = base;
    const r = renderPlanPreview({ ...noApproval, plan: { ...plan(1), risk: 'read' } });
    expect(r.blocks.some((b) => b.type === 'actions')).toBe(false);
  });
});
