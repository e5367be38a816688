/**
 * `/op show` of a long operation (issue 15: a 1,000-instance drain has 129 journal entries and over
 * 2,000 audit entries): readable — counts, what was not plainly ok, who asked and approved — within
 * Slack's limits, and it names `/op export`, which has every line.
 */
import { describe, expect, it } from 'vitest';
import { renderOpShow } from '../../../bot/render/render-op-report.js';
import type { OperationReport } from '../../../engine/operation-records.js';
import { checkBlocks } from '../../../slack-standin/index.js';
import type { AuditRecord, JournalEntry } from '../../../store/store.js';

const T = Date.UTC(2026, 11, 3, 11);
const OP = 'op-abcdefgh2345';

function report(steps: number, moves: number, failAt?: number): OperationReport {
  const journal: JournalEntry[] = Array.from({ length: steps }, (_, k) => ({
    seq: k + 1,
    operationId: OP,
    stepId: k === 0 ? 'disable-service' : `migrate-batch:${k}`,
    attempt: 1,
    intent: {},
    intentAt: T + k * 1000,
    status: k === failAt ? 'failed' : 'ok',
    output: null,
    saved: null,
    reconciled: false,
    resultAt: T + k * 1000 + 900,
  }));
  let seq = 0;
  const audit = (kind: string, payload: Record<string, string | number>, actor = 'bot:b1'): AuditRecord => ({
    seq: ++seq,
    at: T + seq,
    actor,
    kind,
    operationId: OP,
    payload,
  });
  const entries: AuditRecord[] = [
    audit('operation.requested', { command: '/node drain c01 reason=x parallel=8' }, 'U0ALICE01@T0'),
    audit('approval.approved', { votes: 1 }, 'U0BOB0001@T0'),
    ...journal.flatMap((j) => [audit('step.start', { stepId: j.stepId }), audit(j.status === 'failed' ? 'step.failed' : 'step.end', { stepId: j.stepId })]),
    ...Array.from({ length: moves }, (_, k) => audit('api.call', { op: 'live-migrate', server: `s-${k}` })),
  ];
  return {
    operation: {
      id: OP,
      runbook: 'node.drain',
      target: 'c01',
      plan: {},
      planHash: 'f'.repeat(64),
      state: failAt === undefined ? 'succeeded' : 'failed',
      requester: { userId: 'U0ALICE01', teamId: 'T0' },
      channelId: 'C0OPS0001',
      threadTs: null,
      cardTs: null,
      detail: {},
      createdAt: T,
      updatedAt: T,
      owner: null,
      leaseUntil: null,
    } as unknown as OperationReport['operation'],
    journal,
    approvals: [],
    audit: entries,
  };
}

describe('/op show of a long operation', () => {
  it('summarises a 1,000-instance drain: counts, the failure in full, who asked, /op export for every line', () => {
    const shown = renderOpShow(report(129, 1000, 77));
    expect(checkBlocks(shown.blocks)).toEqual([]);
    const text = JSON.stringify(shown.blocks);
    expect(text).toContain('129 journal entries: ok ×128, failed ×1');
    expect(text).toContain('`migrate-batch:77` #1: failed');
    expect(text).toContain('… 118 more ok …');
    expect(text).toContain('*operation.requested*');
    expect(text).toContain('*approval.approved*');
    expect(text).toContain('*step.failed*');
    expect(text).toContain('api.call live-migrate ×1,000');
    expect(text).toContain('step.start ×129');
    expect(text).toContain(`/op export ${OP}`);
    expect(text).not.toContain('s-999'); // routine entries are counted, not listed
    expect(shown.blocks.length).toBeLessThanOrEqual(6);
    expect(text.length).toBeLessThan(8_000);
  });

  it('lists a short operation in full, as before', () => {
    const text = JSON.stringify(renderOpShow(report(9, 8)).blocks);
    expect(text).toContain('`migrate-batch:8` #1: ok');
    expect(text).toContain('s-7');
    expect(text).not.toContain('/op export');
  });
});
