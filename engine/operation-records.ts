/**
 * Small store-facing pieces of the engine: the audited decision wrapper, the drift path and the
 * `/op show` report.
 * Every decision is audited before the dispatcher can post about it in Slack.
 */
import { ChatOpsError, isChatOpsError } from '../core/errors.js';
import type { Plan, Requester } from '../core/types.js';
import type { ApprovalRecord, AuditRecord, JournalEntry, JsonObject, OperationRecord, Store } from '../store/store.js';
import type { ApprovalsPort } from './approvals-port.js';
import type { StartResult } from './results.js';
import { planDifferences } from './plan-hash.js';

/** Remembers the message that is an operation's thread parent and status card (its plan preview). */
export async function recordCard(store: Pick<Store, 'updateOperation'>, opId: string, ts: string): Promise<void> {
  // Unconditional: the run may already have moved the operation on (a read-only plan starts at once).
  await store.updateOperation(opId, { threadTs: ts, cardTs: ts }, {});
}

/** How a person appears in the audit log. */
export const who = (r: Requester): string => `${r.userId}@${r.teamId}`;

/** Everything `/op show <id>` prints: the operation, its journal, its approvals and its audit trail. */
export interface OperationReport {
  operation: OperationRecord;
  journal: JournalEntry[];
  approvals: ApprovalRecord[];
  audit: AuditRecord[];
}

export async function showOperation(store: Store, opId: string): Promise<OperationReport | undefined> {
  const operation = await store.getOperation(opId);
  if (!operation) return undefined;
  const [journal, approvals, audit] = await Promise.all([
    store.listJournal(opId),
    store.listApprovals({ operationId: opId }),
    store.listAudit({ operationId: opId, limit: 20_000 }), // a 1,000-instance drain writes ~1,300 (/op show summarises)
  ]);
  return { operation, journal, approvals, audit };
}

/**
 * Runs one decision and audits it: the vote and the resulting state, or the refusal (a
 * self-approval, someone not eligible) with its reason, then rethrows.
 */
export async function auditedDecision(
  store: Store,
  approvalId: string,
  actor: Requester,
  what: 'approve' | 'reject' | 'cancel',
  f: () => Promise<ApprovalRecord>,
  extra: JsonObject = {},
): Promise<ApprovalRecord> {
  let a: ApprovalRecord;
  try {
    a = await f();
  } catch (e) {
    const opId = (await store.getApproval(approvalId))?.operationId ?? null;
    await store.appendAudit({
      actor: who(actor),
      kind: 'approval.refused',
      operationId: opId,
      payload: { approvalId, what, code: isChatOpsError(e) ? e.code : 'INTERNAL', message: (e as Error).message },
    });
    throw e;
  }
  await store.appendAudit({
    actor: who(actor),
    kind: `approval.${what}`,
    operationId: a.operationId,
    payload: { approvalId, state: a.state, purpose: a.purpose, votes: a.approvers.length, required: a.required, ...extra },
  });
  return a;
}

/**
 * Re-planning found a different plan: void the approval (one compare-and-set, so a concurrent start
 * cannot also use it), store the new plan, audit the differences and ask for a new approval.
 */
export async function voidForDrift(
  store: Store,
  approvals: ApprovalsPort,
  op: OperationRecord,
  approval: ApprovalRecord,
  before: Plan,
  fresh: Plan,
): Promise<StartResult> {
  const differences = planDifferences(before, fresh);
  const voided = await store.updateApproval(
    approval.id,
    { state: 'void', reason: `plan changed: ${differences.join('; ').slice(0, 500)}` },
    { version: approval.version, state: 'approved' },
  );
  if (!voided)
    return {
      kind: 'refused',
      opId: op.id,
      error: new ChatOpsError('OPERATION_CHANGED', `operation ${op.id} was already started by someone else`, { details: { opId: op.id } }),
    };
  const next = await store.updateOperation(
    op.id,
    { state: 'pending_approval', plan: fresh as unknown as JsonObject, planHash: fresh.hash },
    { state: 'approved' },
  );
  await store.appendAudit({ actor: 'bot', kind: 'plan.drift', operationId: op.id, payload: { before: op.planHash, after: fresh.hash, differences } });
  const again = next ? await approvals.request({ operation: next, plan: fresh, purpose: 'start', requester: op.requester }) : null;
  return { kind: 'drift', opId: op.id, differences, plan: fresh, approval: again };
}
