/** Approval rules with an injected clock, on a real (in-memory SQLite) store. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import { InputError, NotAuthorizedError } from '../../core/errors.js';
import type { ApprovalsPort } from '../../engine/approvals-port.js';
import { ApprovalStateError, PlanDriftError } from '../../approvals/approval-errors.js';
import { Approvals } from '../../approvals/approvals.js';
import { approvalsConfigSchema } from '../../approvals/approvals-config.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { approvalsOn, baseConfig, CHANNEL, groupTable, lead, newOperation, oncall, ops, privacy, resolverOver, start, stranger } from './fixtures.js';

let clock: ManualClock;
let store: Store;
let approvals: Approvals;
const MIN = 60_000;

beforeEach(async () => {
  clock = start();
  store = await openStore({ kind: 'sqlite', path: ':memory:' }, clock);
  approvals = approvalsOn(store);
});
afterEach(() => store.close());

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a refusal').toBeDefined();
  return e as Error;
};
const kinds = async (opId: string) => (await store.listAudit({ operationId: opId })).map((e) => e.kind);

describe('who may ask', () => {
  it('a read-only plan needs no approval, but the requester rules still apply', async () => {
    const { operation, plan } = await newOperation(store, 'node.check', 'read');
    expect(await approvals.request({ operation, plan, purpose: 'start', requester: ops.alice })).toBeNull();
    const e = await refusal(approvals.request({ operation, plan, purpose: 'start', requester: stranger }));
    expect(e).toBeInstanceOf(NotAuthorizedError);
    expect(e.message).toBe('<@USTRANGER> may not ask for node.check; allowed: <!subteam^S0OPS>');
    expect(await kinds(operation.id)).toEqual(['approval.refused']);
  });

  it('with no requesters configured, read-only plans are open and changes are refused', async () => {
    const a = approvalsOn(store, { runbooks: {} });
    const r = await newOperation(store, 'node.check', 'read');
    expect(await a.request({ ...r, purpose: 'start', requester: stranger })).toBeNull();
    const c = await newOperation(store, 'node.drain', 'change');
    expect((await refusal(a.request({ ...c, purpose: 'start', requester: ops.alice }))).message).toMatch(/nobody is configured to ask for node.drain/);
  });

  it('channels restrict where; groups say who; both must hold', async () => {
    const { operation, plan } = await newOperation(store, 'node.drain');
    const elsewhere = { ...operation, channelId: 'C0RANDOM1' };
    expect((await refusal(approvals.request({ operation: elsewhere, plan, purpose: 'start', requester: ops.alice }))).message).toBe(
      `node.drain may only be asked for in <#${CHANNEL}>`,
    );
    expect(await refusal(approvals.request({ operation, plan, purpose: 'start', requester: stranger }))).toBeInstanceOf(NotAuthorizedError);
    const ap = await approvals.request({ operation, plan, purpose: 'start', requester: ops.alice });
    expect(ap).toMatchObject({
      state: 'pending',
      kind: 'change',
      required: 1,
      planHash: operation.planHash,
      expiresAt: clock.now() + 30 * MIN,
      requester: ops.alice,
    });
    expect(ap?.policy).toMatchObject({ approvers: { users: [], groups: ['S0LEADS'] }, pendingTtlMs: 30 * MIN, startWindowMs: 10 * MIN });
  });

  it('teams: only people of the configured workspaces', async () => {
    const a = approvalsOn(store, { ...baseConfig, teams: ['T0000001'] });
    const { operation, plan } = await newOperation(store, 'node.drain');
    const foreign = { ...ops.alice, teamId: 'T0OTHER01' };
    expect((await refusal(a.request({ operation, plan, purpose: 'start', requester: foreign }))).message).toMatch(/only people of T0000001 may ask/);
  });

  it('refuses when nobody is configured to approve a change', async () => {
    const a = approvalsOn(store, { default: { requesters: { groups: ['S0OPS'] } } });
    const { operation, plan } = await newOperation(store);
    expect((await refusal(a.request({ operation, plan, purpose: 'start', requester: ops.alice }))).message).toMatch(
      /nobody is configured to approve node.drain/,
    );
  });

  it('the config schema names bad keys', () => {
    const r = approvalsConfigSchema.safeParse({ default: { approvals: 0, approvers: { users: ['alice'] }, pendingTtl: 'soon' }, extra: 1 });
    expect(r.success).toBe(false);
    const paths = r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['default.approvals', 'default.approvers.users.0', 'default.pendingTtl', '']));
  });
});

describe('deciding', () => {
  const ask = async (runbook = 'node.drain', requester = ops.alice) => {
    const { operation, plan } = await newOperation(store, runbook, 'change', requester);
    const ap = await approvals.request({ operation, plan, purpose: 'start', requester });
    if (!ap) throw new Error('expected a request');
    return ap;
  };

  it('the requester never approves: same user and team, or the same user seen from another workspace', async () => {
    const ap = await ask('node.drain', ops.bob); // bob is also an approver
    for (const self of [ops.bob, { ...ops.bob, teamId: 'T0OTHER01' }]) {
      const e = await refusal(approvals.approve(ap.id, self));
      expect(e).toBeInstanceOf(NotAuthorizedError);
      expect(e.message).toBe('<@UBOB> asked for this; someone else must decide on it');
    }
    expect((await store.getApproval(ap.id))?.state).toBe('pending');
    expect(await kinds(ap.operationId)).toEqual(['approval.requested', 'approval.refused', 'approval.refused']);
  });

  it('an ineligible person is refused; an eligible one approves and opens the start window', async () => {
    const ap = await ask();
    expect((await refusal(approvals.approve(ap.id, stranger))).message).toBe('<@USTRANGER> may not approve node.drain; approvers: <!subteam^S0LEADS>');
    clock.advance(5 * MIN);
    const done = await approvals.approve(ap.id, lead);
    expect(done).toMatchObject({
      state: 'approved',
      approvers: [{ userId: lead.userId, teamId: lead.teamId, at: clock.now() }],
      startBy: clock.now() + 10 * MIN,
    });
    const again = await refusal(approvals.approve(ap.id, ops.bob));
    expect(again).toBeInstanceOf(ApprovalStateError);
    expect(again.message).toMatch(/already approved by <@ULEAD>/);
    expect(await kinds(ap.operationId)).toEqual(['approval.requested', 'approval.refused', 'approval.approved']);
  });

  it('group membership is read again at click time; a group that cannot be read refuses', async () => {
    const table = groupTable();
    const a = approvalsOn(store, baseConfig, table);
    const { operation, plan } = await newOperation(store);
    const ap = (await a.request({ operation, plan, purpose: 'start', requester: ops.alice }))!;
    table.S0LEADS = table.S0LEADS!.filter((u) => u !== lead.userId);
    expect(await refusal(a.approve(ap.id, lead))).toBeInstanceOf(NotAuthorizedError);
    delete table.S0LEADS;
    expect((await refusal(a.approve(ap.id, ops.bob))).message).toMatch(/could not check membership of user group S0LEADS/);
    table.S0LEADS = [ops.bob.userId];
    expect((await a.approve(ap.id, ops.bob)).state).toBe('approved');
  });

  it('a person removed from the config since the request can no longer approve', async () => {
    const ap = await ask();
    const now = new Approvals({
      store,
      config: approvalsConfigSchema.parse({ ...baseConfig, default: { ...baseConfig.default, approvers: { users: ['UBOB'] } } }),
      groups: resolverOver(groupTable()),
    });
    expect(await refusal(now.approve(ap.id, lead))).toBeInstanceOf(NotAuthorizedError);
    expect((await now.approve(ap.id, ops.bob)).state).toBe('approved');
  });

  it('N of M: two distinct approvers; the same person counts once', async () => {
    const ap = await ask('node.evacuate');
    expect(ap).toMatchObject({ required: 2, expiresAt: clock.now() + 60 * MIN });
    const one = await approvals.approve(ap.id, ops.bob);
    expect(one).toMatchObject({ state: 'pending', startBy: null });
    expect(one.approvers.map((v) => v.userId)).toEqual(['UBOB']);
    expect((await refusal(approvals.approve(ap.id, ops.bob))).message).toMatch(/you already approved this; 1 more approval/);
    const two = await approvals.approve(ap.id, ops.carol);
    expect(two).toMatchObject({ state: 'approved', startBy: clock.now() + 15 * MIN });
    expect(two.approvers.map((v) => v.userId)).toEqual(['UBOB', 'UCAROL']);
    expect(await kinds(ap.operationId)).toEqual(['approval.requested', 'approval.vote', 'approval.approved']);
  });

  it('pending requests expire after the TTL, by the store clock', async () => {
    const ap = await ask();
    const other = await ask();
    clock.advance(30 * MIN - 1);
    expect(await approvals.expireDue()).toEqual([]);
    clock.advance(1);
    const e = await refusal(approvals.approve(ap.id, lead));
    expect(e).toBeInstanceOf(ApprovalStateError);
    expect(e.message).toMatch(/expired at 2026-11-25T09:30:00Z without a decision/);
    expect((await approvals.expireDue()).map((x) => x.id)).toEqual([other.id]);
    expect(await approvals.expireDue()).toEqual([]);
    expect((await store.getApproval(ap.id))?.state).toBe('expired');
  });

  it('an approved plan must start within the window; an approval is used once', async () => {
    const late = await ask();
    await approvals.approve(late.id, lead);
    clock.advance(10 * MIN + 1);
    expect((await refusal(approvals.consume(late.id, late.planHash))).message).toMatch(/did not start by 2026-11-25T09:10:00Z/);
    expect((await store.getApproval(late.id))?.state).toBe('expired');

    const ok = await ask();
    await approvals.approve(ok.id, lead);
    clock.advance(10 * MIN);
    expect(await approvals.consume(ok.id, ok.planHash)).toMatchObject({ state: 'approved', consumedAt: clock.now() });
    expect((await refusal(approvals.consume(ok.id, ok.planHash))).message).toMatch(/already used/);
    expect(await refusal(approvals.cancel(ok.id, ops.alice))).toBeInstanceOf(ApprovalStateError);
  });

  it('expireDue also ends approvals whose start window passed unused', async () => {
    const ap = await ask();
    await approvals.approve(ap.id, lead);
    clock.advance(10 * MIN);
    expect(await approvals.expireDue()).toEqual([]);
    clock.advance(1);
    expect((await approvals.expireDue()).map((x) => x.id)).toEqual([ap.id]);
  });

  it('a different plan hash voids the approval', async () => {
    const ap = await ask();
    await approvals.approve(ap.id, lead);
    expect(await approvals.voidOnDrift(ap.id, ap.planHash)).toBe(false);
    const e = await refusal(approvals.consume(ap.id, 'another-hash'));
    expect(e).toBeInstanceOf(PlanDriftError);
    expect((e as PlanDriftError).details).toMatchObject({ approvedHash: ap.planHash, currentHash: 'another-hash' });
    expect(await store.getApproval(ap.id)).toMatchObject({ state: 'void', consumedAt: null });
    expect(await approvals.voidOnDrift(ap.id, 'yet-another')).toBe(false); // already void
    expect(await kinds(ap.operationId)).toContain('approval.void');
  });

  it('reject takes a reason; afterwards nobody can approve', async () => {
    const ap = await ask();
    expect(await refusal(approvals.reject(ap.id, lead, ''))).toBeInstanceOf(InputError);
    expect(await refusal(approvals.reject(ap.id, ops.alice, 'changed my mind'))).toBeInstanceOf(NotAuthorizedError);
    const r = await approvals.reject(ap.id, lead, 'not during the freeze');
    expect(r).toMatchObject({ state: 'rejected', reason: 'not during the freeze', decidedBy: lead });
    expect((await refusal(approvals.approve(ap.id, ops.bob))).message).toBe(`approval ${ap.id} was rejected by <@ULEAD>: not during the freeze`);
  });

  it('only the requester cancels, while pending or approved and not started', async () => {
    const ap = await ask();
    expect((await refusal(approvals.cancel(ap.id, lead))).message).toMatch(/only <@UALICE>, who asked, can cancel/);
    expect(await approvals.cancel(ap.id, ops.alice)).toMatchObject({ state: 'cancelled', decidedBy: ops.alice });
    const ap2 = await ask();
    await approvals.approve(ap2.id, lead);
    expect((await approvals.cancel(ap2.id, ops.alice)).state).toBe('cancelled');
    expect(await refusal(approvals.consume(ap2.id, ap2.planHash))).toBeInstanceOf(ApprovalStateError);
  });
});

describe('user-data access', () => {
  it('needs approval even for a read-only plan, a reason, and its own approver group', async () => {
    const { operation, plan } = await newOperation(store, 'instance.inspect', 'read');
    expect(await refusal(approvals.request({ operation, plan, purpose: 'start', requester: ops.alice }))).toBeInstanceOf(InputError);
    const ap = (await approvals.request({
      operation,
      plan: { ...plan, args: { reason: 'ticket 4711: customer asked' } },
      purpose: 'start',
      requester: ops.alice,
    }))!;
    expect(ap).toMatchObject({ kind: 'user_data', required: 1, expiresAt: clock.now() + 15 * MIN });
    expect(ap.policy).toMatchObject({ requestReason: 'ticket 4711: customer asked', approvers: { groups: ['S0PRIVACY'] } });
    expect(await refusal(approvals.approve(ap.id, lead))).toBeInstanceOf(NotAuthorizedError); // change approvers do not count
    expect(await approvals.approve(ap.id, privacy.pia)).toMatchObject({ state: 'approved', startBy: clock.now() + 5 * MIN });
  });

  it('stays user data where no userData class is configured: refused, never approved by the change approvers', async () => {
    const { userData: _, ...noUserData } = baseConfig;
    const a = approvalsOn(store, noUserData);
    expect(a.policyFor('instance.inspect', 'read')).toMatchObject({ kind: 'user_data', needed: true, approvers: { users: [], groups: [] } });
    const { operation, plan } = await newOperation(store, 'instance.inspect', 'read');
    const e = await refusal(a.request({ operation, plan: { ...plan, args: { reason: 'ticket 4711' } }, purpose: 'start', requester: ops.alice }));
    expect(e).toBeInstanceOf(NotAuthorizedError);
    expect(e.message).toMatch(/instance\.inspect is user-data access: it needs its own approvers under approvals\.userData/);
    expect(await store.listApprovals({ operationId: operation.id })).toEqual([]);
    // and a userData class that lists other runbooks does not take it out of its class
    const other = approvalsOn(store, { ...baseConfig, userData: { runbooks: ['console.read'], approvers: { groups: ['S0PRIVACY'] } } });
    expect(other.policyFor('instance.inspect', 'read')).toMatchObject({ kind: 'user_data', approvers: { groups: ['S0PRIVACY'] } });
  });

  it('break-glass cannot bypass it unless configured', async () => {
    const { operation, plan } = await newOperation(store, 'instance.inspect', 'read', oncall);
    const e = await refusal(approvals.breakGlass({ operation, plan, purpose: 'start', requester: oncall, reason: 'incident 99' }));
    expect(e.message).toMatch(/break-glass may not bypass the user_data approval/);
    const a = approvalsOn(store, { ...baseConfig, userData: { approvers: { groups: ['S0PRIVACY'] }, allowBreakGlass: true } });
    expect((await a.breakGlass({ operation, plan, purpose: 'start', requester: oncall, reason: 'incident 99' })).announce).toBe(true);
  });
});

describe('break-glass', () => {
  it('a member of the configured group starts alone; audited, announced, other requests voided', async () => {
    const { operation, plan } = await newOperation(store, 'node.drain', 'change', oncall);
    const pending = (await approvals.request({ operation, plan, purpose: 'start', requester: oncall }))!;
    const r = await approvals.breakGlass({ operation, plan, purpose: 'start', requester: oncall, reason: 'incident 1234: host on fire' });
    expect(r.announce).toBe(true);
    expect(r.approval).toMatchObject({
      kind: 'break_glass',
      state: 'approved',
      required: 0,
      reason: 'incident 1234: host on fire',
      startBy: clock.now() + 10 * MIN,
    });
    expect((await store.getApproval(pending.id))?.state).toBe('void');
    const audit = await store.listAudit({ operationId: operation.id });
    expect(audit.at(-1)).toMatchObject({
      kind: 'approval.break_glass',
      actor: 'UONCALL@T0000001',
      payload: { reason: 'incident 1234: host on fire', announce: true },
    });
    expect(await approvals.consume(r.approval.id, operation.planHash)).toMatchObject({ consumedAt: clock.now() });
  });

  it('anyone else is refused, and the refusal is audited', async () => {
    const { operation, plan } = await newOperation(store, 'node.drain', 'change', ops.alice);
    expect((await refusal(approvals.breakGlass({ operation, plan, purpose: 'start', requester: ops.alice, reason: 'in a hurry' }))).message).toBe(
      '<@UALICE> is not in the break-glass group',
    );
    expect(await kinds(operation.id)).toEqual(['approval.refused']);
    expect(await store.listApprovals({ operationId: operation.id })).toEqual([]);
  });
});

it('satisfies the engine’s ApprovalsPort', () => {
  const port: ApprovalsPort = approvals;
  expect(typeof port.approve).toBe('function');
});
