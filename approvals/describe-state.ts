import type { ApprovalRecord } from '../store/store.js';
import type { ResolvedPolicy } from './resolve-policy.js';
import type { Effect } from '../core/types.js';

/** The policy snapshot stored with a request. */
export type PolicySnapshot = ResolvedPolicy & { risk: Effect; requestReason?: string | null };

export function snapshotOf(a: ApprovalRecord): PolicySnapshot {
  return a.policy as unknown as PolicySnapshot;
}

const at = (ms: number | null): string => (ms === null ? '?' : new Date(ms).toISOString().replace('.000Z', 'Z'));
const who = (u: { userId: string } | null): string => (u ? `<@${u.userId}>` : 'someone');

/** One sentence for an operator: why nothing more can be decided on this request. */
export function describeState(a: ApprovalRecord): string {
  switch (a.state) {
    case 'pending':
      return `approval ${a.id} is still pending (${a.approvers.length} of ${a.required} approvals)`;
    case 'approved':
      if (a.consumedAt !== null) return `approval ${a.id} was already used: the run started at ${at(a.consumedAt)}`;
      return `approval ${a.id} was already approved by ${a.approvers.map(who).join(', ') || 'break-glass'} at ${at(a.decidedAt)}`;
    case 'rejected':
      return `approval ${a.id} was rejected by ${who(a.decidedBy)}: ${a.reason ?? 'no reason given'}`;
    case 'expired':
      return a.decidedAt !== null && a.startBy !== null
        ? `approval ${a.id} expired: the run did not start by ${at(a.startBy)}; ask again`
        : `approval ${a.id} expired at ${at(a.expiresAt)} without a decision; ask again`;
    case 'cancelled':
      return `approval ${a.id} was cancelled by ${who(a.decidedBy)}`;
    case 'void':
      return `approval ${a.id} is void: ${a.reason ?? 'the plan changed'}`;
  }
}
