import { ChatOpsError } from '../core/errors.js';

/** The request is not in a state that allows this (already decided, expired, consumed, unknown). */
export class ApprovalStateError extends ChatOpsError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('APPROVAL_STATE', message, { details });
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
