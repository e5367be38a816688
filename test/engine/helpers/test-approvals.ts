/**
 * A minimal ApprovalsPort over the store, for the engine's tests until approvals/ is wired in:
 * one approval from anyone of the requester's team but the requester (user id + team id), pending TTL 30 min, start window
 * 10 min, decisions as one compare-and-set. The real policy lives in approvals/.
 */
import { ChatOpsError, NotAuthorizedError } from '../../../core/errors.js';
import type { Requester } from '../../../core/types.js';
import type { ApprovalsPort } from '../../../engine/approvals-port.js';
import type { ApprovalRecord, Store } from '../../../store/store.js';

export function testApprovals(store: Store, o: { ttlMs?: number; startWindowMs?: number } = {}): ApprovalsPort {
  const ttl = o.ttlMs ?? 30 * 60_000;
  const window = o.startWindowMs ?? 10 * 60_000;
  const get = async (id: string): Promise<ApprovalRecord> => {
    const a = await store.getApproval(id);
    if (!a) throw new ChatOpsError('APPROVAL_NOT_FOUND', `no approval ${id}`);
    return a;
  };
  const decide = async (id: string, actor: Requester, f: (a: ApprovalRecord) => Parameters<Store['updateApproval']>[1]): Promise<ApprovalRecord> => {
    const a = await get(id);
    if (a.state !== 'pending') return a;
    if (store.clock.now() > a.expiresAt) {
      return (await store.updateApproval(id, { state: 'expired' }, { version: a.version, state: 'pending' })) ?? get(id);
    }
    return (await store.updateApproval(id, f(a), { version: a.version, state: 'pending' })) ?? get(id);
  };
  return {
    async request({ operation, plan, purpose, requester }) {
      if (plan.risk === 'read') return null;
      return store.createApproval({
        operationId: operation.id,
        planHash: operation.planHash,
        kind: 'change',
        purpose,
        policy: { required: 1 },
        required: 1,
        requester,
        expiresAt: store.clock.now() + ttl,
      });
    },
    async approve(id, actor) {
      const a = await get(id);
      if (a.requester.userId === actor.userId && a.requester.teamId === actor.teamId)
        throw new NotAuthorizedError('you asked for this; someone else must approve it');
      const now = store.clock.now();
      return decide(id, actor, () => ({
        state: 'approved',
        approvers: [{ userId: actor.userId, teamId: actor.teamId, at: now }],
        decidedAt: now,
        startBy: now + window,
      }));
    },
    async mayApprove(id, actor) {
      const a = await get(id);
      return a.requester.teamId === actor.teamId && a.requester.userId !== actor.userId;
    },
    reject: (id, actor, reason) => decide(id, actor, () => ({ state: 'rejected', decidedBy: actor, reason, decidedAt: store.clock.now() })),
    cancel: (id, actor) => decide(id, actor, () => ({ state: 'cancelled', decidedBy: actor, decidedAt: store.clock.now() })),
  };
}
