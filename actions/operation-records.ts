/**
 * Small store-facing pieces of the engine: the audited decision wrapper and the `/op show` report.
 * Every decision is audited before the dispatcher can post about it in Slack.
 */
import { isChatOpsError } from '../core/errors.js';
import type { Requester } from '../core/types.js';
import type { ApprovalRecord, AuditRecord, JournalEntry, JsonObject, OperationRecord, Store } from '../store/store.js';

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
  const [journal, approvals, audit] = await Promise.all([store.listJournal(opId), store.listApprovals({ operationId: opId }), store.listAudit({ operationId: opId, limit: 1000 })]);
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
    await store.appendAudit({ actor: who(actor), kind: 'approval.refused', operationId: opId, payload: { approvalId, what, code: isChatOpsError(e) ? e.code : 'INTERNAL', message: (e as Error).message } });
    throw e;
  }
  await store.appendAudit({ actor: who(actor), kind: `approval.${what}`, operationId: a.operationId, payload: { approvalId, state: a.state, purpose: a.purpose, votes: a.approvers.length, required: a.required, ...extra } });
  return a;
}
