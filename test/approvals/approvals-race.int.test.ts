/**
 * Exactly one execution under 100 concurrent Approve clicks, on SQLite and on MariaDB. On MariaDB two
 * store instances (two bot replicas, each with its own connection pool) share the database, and the
 * clicks run as 100 promises in flight at once across both pools.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { Requester } from '../../core/types.js';
import { ApprovalStateError } from '../../approvals/approval-errors.js';
import type { Approvals } from '../../approvals/approvals.js';
import type { ApprovalsConfigInput } from '../../approvals/approvals-config.js';
import type { Store } from '../../store/store.js';
import { backends } from '../store/backends.js';
import { approvalsOn, newOperation, ops } from './fixtures.js';

const CLICKS = 100;
const approvers: Requester[] = Array.from({ length: CLICKS }, (_, i) => ({ userId: `UAPP${String(i).padStart(3, '0')}`, teamId: 'T0000001' }));
const config: ApprovalsConfigInput = {
  default: { requesters: { users: [ops.alice.userId] }, approvers: { users: approvers.map((a) => a.userId) } },
  runbooks: { 'node.evacuate': { approvals: 3 } },
};

describe.each(backends().map((b) => [b.name, b] as const))('100 concurrent approvals: %s', (_name, backend) => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 9));
  let stores: Store[] = [];
  let replicas: Approvals[] = [];

  beforeAll(async () => {
    await backend.setup();
    stores = [await backend.open(clock, { connectionLimit: 25 }), await backend.open(clock, { connectionLimit: 25 })];
    replicas = stores.map((s) => approvalsOn(s, config));
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await backend.teardown();
  });

  const settle = <T>(ps: Promise<T>[]) => Promise.allSettled(ps);

  it.each([
    ['100 different eligible people', (i: number) => approvers[i]!],
    ['the same person clicking 100 times', () => approvers[0]!],
  ])('1 of N, %s: exactly one click approves', async (_label, who) => {
    const { operation, plan } = await newOperation(stores[0]!);
    const ap = (await replicas[0]!.request({ operation, plan, purpose: 'start', requester: ops.alice }))!;
    const results = await settle(Array.from({ length: CLICKS }, (_, i) => replicas[i % 2]!.approve(ap.id, who(i))));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ApprovalStateError);
    const final = await stores[1]!.getApproval(ap.id);
    expect(final).toMatchObject({ state: 'approved', version: 2 });
    expect(final?.approvers).toHaveLength(1);
    expect((await stores[0]!.listAudit({ operationId: operation.id })).filter((e) => e.kind === 'approval.approved')).toHaveLength(1);

    // Then 100 concurrent starts: the approval is consumed exactly once.
    const starts = await settle(Array.from({ length: CLICKS }, (_, i) => replicas[i % 2]!.consume(ap.id, operation.planHash)));
    expect(starts.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('3 of N: exactly three distinct votes and one final approval', async () => {
    const { operation, plan } = await newOperation(stores[0]!, 'node.evacuate');
    const ap = (await replicas[0]!.request({ operation, plan, purpose: 'start', requester: ops.alice }))!;
    const results = await settle(Array.from({ length: CLICKS }, (_, i) => replicas[i % 2]!.approve(ap.id, approvers[i]!)));
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(won).toHaveLength(3);
    expect(won.filter((a) => a.state === 'approved')).toHaveLength(1);
    const final = await stores[0]!.getApproval(ap.id);
    expect(final?.state).toBe('approved');
    expect(new Set(final?.approvers.map((v) => v.userId)).size).toBe(3);
  });

  it('approve, reject and cancel racing: exactly one decision', async () => {
    const { operation, plan } = await newOperation(stores[0]!);
    const ap = (await replicas[0]!.request({ operation, plan, purpose: 'start', requester: ops.alice }))!;
    const results = await settle(
      Array.from({ length: CLICKS }, (_, i) => {
        const r = replicas[i % 2]!;
        if (i % 3 === 0) return r.approve(ap.id, approvers[i]!);
        if (i % 3 === 1) return r.reject(ap.id, approvers[i]!, 'not now please');
        return r.cancel(ap.id, ops.alice);
      }),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const final = await stores[0]!.getApproval(ap.id);
    expect(['approved', 'rejected', 'cancelled']).toContain(final?.state);
    expect(final?.version).toBe(2);
  });
});
