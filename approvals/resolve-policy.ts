/**
 * Which approval rules apply to a plan: the user-data class for the runbooks listed under
 * `userData.runbooks`, otherwise the runbook's own entry laid over `default`. The result is plain
 * data: it is stored with the request as the policy snapshot.
 */
import type { Effect } from '../core/types.js';
import { DEFAULTS, USER_DATA_RUNBOOKS, type ApprovalsConfig } from './approvals-config.js';

export type ApprovalKind = 'change' | 'user_data';

export interface Principals {
  users: string[];
  groups: string[];
}

export interface ResolvedPolicy {
  runbook: string;
  kind: ApprovalKind;
  /** False for read-only plans outside the user-data class. */
  needed: boolean;
  /** Who may ask; null when nobody configured it (then only read-only plans may be asked for). */
  requesters: (Principals & { channels: string[] }) | null;
  approvers: Principals;
  /** Distinct approvers needed. */
  required: number;
  pendingTtlMs: number;
  startWindowMs: number;
  /** Workspaces whose people may ask and approve; empty = any. */
  teams: string[];
  /** The requester must give a reason (user-data access). */
  reasonRequired: boolean;
  /** Whether the break-glass path may bypass this policy. */
  breakGlassAllowed: boolean;
  /** The approver must also give a TOTP code (user-data class with `totp` configured). */
  stepUp?: 'totp';
}

export function resolvePolicy(config: ApprovalsConfig, runbook: string, risk: Effect): ResolvedPolicy {
  const base = { ...(config.default ?? {}), ...(config.runbooks[runbook] ?? {}) };
  // A user-data runbook stays in its class where no `userData` is configured (or its list leaves it
  // out): with no approvers the request is refused, never approved by the change approvers.
  const ud = config.userData;
  if (USER_DATA_RUNBOOKS.includes(runbook) || ud?.runbooks.includes(runbook)) {
    // Its own approvers only: the runbook's or default approvers never count for user data.
    return {
      runbook,
      kind: 'user_data',
      needed: true,
      requesters: ud?.requesters ?? base.requesters ?? null,
      approvers: ud?.approvers ?? { users: [], groups: [] },
      required: ud?.approvals ?? DEFAULTS.userData.approvals,
      pendingTtlMs: ud?.pendingTtl ?? DEFAULTS.userData.pendingTtlMs,
      startWindowMs: ud?.startWindow ?? DEFAULTS.userData.startWindowMs,
      teams: config.teams,
      reasonRequired: true,
      breakGlassAllowed: ud?.allowBreakGlass ?? false,
      ...(ud?.totp ? { stepUp: 'totp' as const } : {}),
    };
  }
  return {
    runbook,
    kind: 'change',
    needed: risk !== 'read',
    requesters: base.requesters ?? null,
    approvers: base.approvers ?? { users: [], groups: [] },
    required: base.approvals ?? DEFAULTS.change.approvals,
    pendingTtlMs: base.pendingTtl ?? DEFAULTS.change.pendingTtlMs,
    startWindowMs: base.startWindow ?? DEFAULTS.change.startWindowMs,
    teams: config.teams,
    reasonRequired: false,
    breakGlassAllowed: true,
  };
}
