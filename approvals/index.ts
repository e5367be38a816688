/** The two-person rule: policy, requests, decisions, expiry, break-glass (see docs/approvals.md). */
export { Approvals, type ApprovalsOptions, type BreakGlassResult, type RequestInput } from './approvals.js';
export {
  approvalPolicySchema,
  approvalsConfigSchema,
  userDataPolicySchema,
  type ApprovalPolicyConfig,
  type ApprovalsConfig,
  type ApprovalsConfigInput,
} from './approvals-config.js';
export { ApprovalStateError, PlanDriftError } from './approval-errors.js';
export { staticGroupResolver, type GroupResolver } from './group-resolver.js';
export { cachedGroupResolver } from './cached-group-resolver.js';
export { resolvePolicy, type ApprovalKind, type ResolvedPolicy } from './resolve-policy.js';
export { samePerson } from './eligibility.js';
export { describeState } from './describe-state.js';
