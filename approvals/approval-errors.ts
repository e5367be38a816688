import { ChatOpsError, type ErrorCode } from '../core/errors.js';

/** Why a request refuses a decision: unknown, already decided (or used, cancelled, void), expired, already voted, changing. */
export type ApprovalStateCode = Extract<ErrorCode, 'APPROVAL_NOT_FOUND' | 'APPROVAL_DECIDED' | 'APPROVAL_EXPIRED' | 'ALREADY_VOTED' | 'APPROVAL_CHANGED'>;

/** The request is not in a state that allows this; the code names which situation. */
export class ApprovalStateError extends ChatOpsError {
  constructor(code: ApprovalStateCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { details });
  }
}

/** The plan changed between approval and start: the approval is void and a new one is needed. */
export class PlanDriftError extends ChatOpsError {
  constructor(approvalId: string, approvedHash: string, currentHash: string) {
    super('PLAN_DRIFT', `the plan changed since it was approved (approval ${approvalId} is void); a new approval is needed`, {
      details: { approvalId, approvedHash, currentHash },
    });
  }
}
