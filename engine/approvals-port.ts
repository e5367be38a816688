/**
 * What the engine needs of approvals/ (the two-person rule). approvals/ owns policy: who may ask,
 * who may approve, how many, expiry; the engine owns what happens to the operation. Consuming an
 * approved request (once) and voiding it on plan drift are single compare-and-sets on the store,
 * done by the engine so that "exactly one execution" does not depend on this port.
 */
import type { Plan, Requester } from '../core/types.js';
import type { ApprovalRecord, OperationRecord } from '../store/store.js';

/** Why an approval is asked: the first start, or an approved continuation after reconciliation. */
export type ApprovalPurpose = 'start' | 'resume';

export interface ApprovalsPort {
  /**
   * Open a request for this operation and plan hash, or return null when the policy requires no
   * approval (read-only plans only). Throws NotAuthorizedError when the requester may not ask.
   */
  request(input: { operation: OperationRecord; plan: Plan; purpose: ApprovalPurpose; requester: Requester }): Promise<ApprovalRecord | null>;
  /** One person's approval; the result is 'approved' once enough eligible people approved. */
  approve(approvalId: string, actor: Requester, stepUp?: { totp?: string }): Promise<ApprovalRecord>;
  /**
   * Before an approval that needs a step-up (a TOTP code typed in a dialog): throws
   * NotAuthorizedError when `actor` may not approve it at all, else says whether a code is needed.
   * Absent when the approvals module has no step-up.
   */
  stepUpFor?(approvalId: string, actor: Requester): Promise<boolean>;
  /** Reject with a reason (required). */
  reject(approvalId: string, actor: Requester, reason: string): Promise<ApprovalRecord>;
  /** The requester withdraws the request. */
  cancel(approvalId: string, actor: Requester): Promise<ApprovalRecord>;
  /**
   * Whether `actor` may approve this request under its policy (read-only; the requester never may).
   * An approver may abort an operation or cancel a scheduled run, not only its requester.
   */
  mayApprove?(approvalId: string, actor: Requester): Promise<boolean>;
  /**
   * Break glass: the requester starts without a second person, with a reason; audited and announced.
   * Absent when the approvals module offers no such path. Throws NotAuthorizedError when refused.
   */
  breakGlass?(input: {
    operation: { id: string; planHash: string; channelId: string };
    plan: { runbook: string; risk: Plan['risk']; args?: Readonly<Record<string, unknown>> };
    purpose: ApprovalPurpose;
    requester: Requester;
    reason: string;
  }): Promise<{ approval: ApprovalRecord }>;
}
