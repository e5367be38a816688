/**
 * The two-person rule over the store. Every decision is one compare-and-set on the approval record
 * (`UPDATE … WHERE id=? AND version=? AND state='pending'`), so under any number of concurrent clicks
 * exactly one caller turns a request into "approved"; every other caller gets an ApprovalStateError
 * saying who decided. Each request, vote, refusal and decision is written to the audit log before
 * this module returns (so before any Slack message about it).
 *
 * This module decides about approval records only; moving the operation's state and starting it is
 * the engine's business (actions/engine.ts). It knows nothing of OpenStack or of Slack rendering.
 */
import { InputError, NotAuthorizedError } from '../core/errors.js';
import type { Effect, Requester } from '../core/types.js';
import { reason as reasonSchema } from '../core/values.js';
import type { ApprovalPatch, ApprovalRecord, JsonObject, Store } from '../store/store.js';
import { ApprovalStateError, PlanDriftError } from './approval-errors.js';
import type { ApprovalsConfig } from './approvals-config.js';
import { checkApprover, checkRequester, isAmong, samePerson } from './eligibility.js';
import { memoGroupResolver } from './cached-group-resolver.js';
import type { GroupResolver } from './group-resolver.js';
import { resolvePolicy, type ResolvedPolicy } from './resolve-policy.js';
import { describeState, snapshotOf } from './describe-state.js';
import { totpStep } from './step-up.js';

export interface ApprovalsOptions {
  store: Store;
  /** The parsed `approvals:` configuration (approvalsConfigSchema). */
  config: ApprovalsConfig;
  groups: GroupResolver;
  /** Approvers' TOTP secrets by Slack user id (step-up of the user-data class; see step-up.ts). */
  totpSecrets?: ReadonlyMap<string, string>;
}

/** What an approver gives besides the click, when the policy asks for it. */
export interface StepUp {
  totp?: string;
}

/** What a request is about: structurally the engine's OperationRecord and Plan. */
export interface RequestInput {
  operation: { id: string; planHash: string; channelId: string };
  plan: { runbook: string; risk: Effect; args?: Readonly<Record<string, unknown>> };
  /** "start", or "resume" for an approved continuation after reconciliation. */
  purpose: string;
  requester: Requester;
  /** Why; mandatory for user-data access. Defaults to the plan's `reason` argument. */
  reason?: string;
}

export interface BreakGlassResult {
  approval: ApprovalRecord;
  /** Always true: the bot must announce a break-glass start in the channel. */
  announce: true;
}

const noSecret = (r: Requester) =>
  new NotAuthorizedError(`<@${r.userId}> has no TOTP secret enrolled; user-data approvals need one (ask an administrator)`, { reason: 'no totp secret' });
const actorOf = (r: Requester): string => `${r.userId}@${r.teamId}`;
const personOf = (r: Requester): Requester => ({ userId: r.userId, teamId: r.teamId, ...(r.userName ? { userName: r.userName } : {}) });

export class Approvals {
  private readonly store: Store;

  constructor(private readonly o: ApprovalsOptions) {
    this.store = o.store;
  }

  /** The rules for a plan (for the preview: who must approve, how many, how long). */
  policyFor(runbook: string, risk: Effect): ResolvedPolicy {
    return resolvePolicy(this.o.config, runbook, risk);
  }

  /**
   * Open a request bound to the operation's plan hash, or return null when none is needed (a
   * read-only plan outside the user-data class). Refuses people who may not ask at all.
   */
  async request(input: RequestInput): Promise<ApprovalRecord | null> {
    const { operation, plan, requester } = input;
    const policy = this.policyFor(plan.runbook, plan.risk);
    await this.refusing(operation.id, requester, 'request', () => checkRequester(policy, requester, operation.channelId, this.o.groups));
    if (!policy.needed) return null;
    const why = this.reasonFor(policy, input);
    if (policy.approvers.users.length + policy.approvers.groups.length === 0) {
      throw new NotAuthorizedError(
        policy.kind === 'user_data'
          ? `${plan.runbook} is user-data access: it needs its own approvers under approvals.userData, and none are configured; ask an administrator`
          : `nobody is configured to approve ${plan.runbook}; ask an administrator to set approvers`,
        { runbook: plan.runbook },
      );
    }
    const now = this.store.clock.now();
    const snapshot = { ...policy, risk: plan.risk, requestReason: why } as unknown as JsonObject;
    const approval = await this.store.createApproval({
      operationId: operation.id,
      planHash: operation.planHash,
      kind: policy.kind,
      purpose: input.purpose,
      policy: snapshot,
      required: policy.required,
      requester: personOf(requester),
      expiresAt: now + policy.pendingTtlMs,
    });
    await this.audit(requester, 'approval.requested', approval, {
      kind: policy.kind,
      purpose: input.purpose,
      required: policy.required,
      expiresAt: approval.expiresAt,
      reason: why,
    });
    return approval;
  }

  /**
   * One person's approval. Resolves with the record when this click counted: state "approved" when
   * it was the last vote needed (this caller, and only this one, should start the run), "pending"
   * when more votes are needed. Throws NotAuthorizedError (own request, not an approver) or
   * ApprovalStateError (already decided, expired, already voted).
   */
  async approve(approvalId: string, approver: Requester, stepUp: StepUp = {}): Promise<ApprovalRecord> {
    let a = await this.pending(approvalId);
    await this.refusing(a.operationId, approver, 'approve', async () => {
      await this.checkEligible(a, approver);
      await this.checkStepUp(a, approver, stepUp);
    });
    for (let round = 0; round < a.required + 20; round++) {
      if (a.approvers.some((v) => samePerson(v, approver))) {
        throw new ApprovalStateError(
          'ALREADY_VOTED',
          `you already approved this; ${a.required - a.approvers.length} more approval(s) needed from someone else`,
          { approvalId },
        );
      }
      const now = this.store.clock.now();
      const approvers = [...a.approvers, { ...personOf(approver), at: now }];
      const final = approvers.length >= a.required;
      const startWindowMs = Number(snapshotOf(a).startWindowMs);
      const patch: ApprovalPatch = final ? { state: 'approved', approvers, decidedAt: now, startBy: now + startWindowMs } : { approvers };
      const won = await this.store.updateApproval(a.id, patch, { version: a.version, state: 'pending' });
      if (won) {
        await this.audit(approver, final ? 'approval.approved' : 'approval.vote', won, { votes: approvers.length, required: a.required, startBy: won.startBy });
        return won;
      }
      a = await this.pending(approvalId); // someone else wrote first: look again
    }
    throw new ApprovalStateError('APPROVAL_CHANGED', `approval ${approvalId} kept changing; try again`, { approvalId });
  }

  /** Reject with a reason (required). Only eligible approvers; the requester cancels instead. */
  async reject(approvalId: string, approver: Requester, reason: string): Promise<ApprovalRecord> {
    const why = this.parseReason(reason, 'reject');
    const a = await this.pending(approvalId);
    await this.refusing(a.operationId, approver, 'reject', () => this.checkEligible(a, approver));
    const now = this.store.clock.now();
    const won = await this.store.updateApproval(
      a.id,
      { state: 'rejected', decidedBy: personOf(approver), reason: why, decidedAt: now },
      { version: a.version, state: 'pending' },
    );
    if (!won) throw await this.stateError(approvalId);
    await this.audit(approver, 'approval.rejected', won, { reason: why });
    return won;
  }

  /** The requester withdraws a request that is pending, or approved but not started. */
  async cancel(approvalId: string, actor: Requester): Promise<ApprovalRecord> {
    const a = await this.get(approvalId);
    if (!samePerson(a.requester, actor)) {
      await this.audit(actor, 'approval.refused', a, { action: 'cancel', reason: 'not the requester' });
      throw new NotAuthorizedError(`only <@${a.requester.userId}>, who asked, can cancel this request; approvers can reject it`, { approvalId });
    }
    const open = a.state === 'pending' || (a.state === 'approved' && a.consumedAt === null);
    if (!open) throw await this.stateError(approvalId);
    const won = await this.store.updateApproval(
      a.id,
      { state: 'cancelled', decidedBy: personOf(actor), decidedAt: this.store.clock.now() },
      { version: a.version, state: a.state },
    );
    if (!won) throw await this.stateError(approvalId);
    await this.audit(actor, 'approval.cancelled', won, {});
    return won;
  }

  /**
   * Just before running: the plan was made again and hashed. Consumes the approval once (one
   * compare-and-set), or voids it when the hash differs (PlanDriftError), or expires it when the
   * start window has passed (ApprovalStateError).
   */
  async consume(approvalId: string, currentHash: string): Promise<ApprovalRecord> {
    const a = await this.get(approvalId);
    if (a.state !== 'approved' || a.consumedAt !== null) throw await this.stateError(approvalId);
    if (a.planHash !== currentHash) {
      await this.voidOnDrift(approvalId, currentHash);
      throw new PlanDriftError(approvalId, a.planHash, currentHash);
    }
    const now = this.store.clock.now();
    if (a.startBy !== null && now > a.startBy) {
      const exp = await this.store.updateApproval(a.id, { state: 'expired' }, { version: a.version, state: 'approved' });
      if (exp) await this.audit(null, 'approval.expired', exp, { why: 'start window passed', startBy: a.startBy });
      throw await this.stateError(approvalId);
    }
    const won = await this.store.updateApproval(a.id, { consumedAt: now }, { version: a.version, state: 'approved' });
    if (!won) throw await this.stateError(approvalId);
    await this.audit(null, 'approval.consumed', won, { planHash: currentHash });
    return won;
  }

  /** Void an open (pending, or approved and not started) request whose plan hash is no longer `newHash`. True when this call voided it. */
  async voidOnDrift(approvalId: string, newHash: string): Promise<boolean> {
    const a = await this.get(approvalId);
    if (a.planHash === newHash) return false;
    const open = a.state === 'pending' || (a.state === 'approved' && a.consumedAt === null);
    if (!open) return false;
    const reason = `plan changed (${a.planHash.slice(0, 12)} → ${newHash.slice(0, 12)}); a new approval is needed`;
    const won = await this.store.updateApproval(a.id, { state: 'void', reason, decidedAt: this.store.clock.now() }, { version: a.version, state: a.state });
    if (won) await this.audit(null, 'approval.void', won, { approvedHash: a.planHash, currentHash: newHash });
    return won !== null;
  }

  /** Expire pending requests past their TTL and approved ones past their start window. Returns those this call expired. */
  async expireDue(): Promise<ApprovalRecord[]> {
    const now = this.store.clock.now();
    const out: ApprovalRecord[] = [];
    const due = [
      ...(await this.store.listApprovals({ states: ['pending'], expiresBefore: now })),
      ...(await this.store.listApprovals({ states: ['approved'], startByBefore: now - 1 })).filter((a) => a.consumedAt === null),
    ];
    for (const a of due) {
      const won = await this.store.updateApproval(a.id, { state: 'expired' }, { version: a.version, state: a.state });
      if (!won) continue; // decided or expired by someone else meanwhile
      await this.audit(null, 'approval.expired', won, { why: a.state === 'pending' ? 'not decided in time' : 'start window passed' });
      out.push(won);
    }
    return out;
  }

  /**
   * Break-glass: a member of the configured group starts without a second person. Audited, and the
   * result tells the bot to announce it in the channel. Other open requests of the operation are voided.
   */
  async breakGlass(input: RequestInput & { reason: string }): Promise<BreakGlassResult> {
    const { operation, plan, requester } = input;
    const policy = this.policyFor(plan.runbook, plan.risk);
    const bg = this.o.config.breakGlass;
    await this.refusing(operation.id, requester, 'break-glass', async () => {
      await checkRequester(policy, requester, operation.channelId, this.o.groups);
      if (!bg || bg.users.length + bg.groups.length === 0) throw new NotAuthorizedError('break-glass is not configured (approvals.breakGlass)');
      if (!policy.breakGlassAllowed)
        throw new NotAuthorizedError(`break-glass may not bypass the ${policy.kind} approval of ${plan.runbook}`, { runbook: plan.runbook });
      if (!(await isAmong(requester.userId, bg, this.o.groups)))
        throw new NotAuthorizedError(`<@${requester.userId}> is not in the break-glass group`, { userId: requester.userId });
    });
    const why = this.parseReason(input.reason, 'break glass');
    const now = this.store.clock.now();
    for (const open of await this.store.listApprovals({ operationId: operation.id, states: ['pending', 'approved'] })) {
      if (open.consumedAt !== null) continue;
      const v = await this.store.updateApproval(
        open.id,
        { state: 'void', reason: 'superseded by break-glass', decidedAt: now },
        { version: open.version, state: open.state },
      );
      if (v) await this.audit(requester, 'approval.void', v, { why: 'superseded by break-glass' });
    }
    const approval = await this.store.createApproval({
      operationId: operation.id,
      planHash: operation.planHash,
      kind: 'break_glass',
      purpose: input.purpose,
      policy: { ...policy, risk: plan.risk, bypassed: policy.kind } as unknown as JsonObject,
      required: 0,
      requester: personOf(requester),
      reason: why,
      state: 'approved',
      approvers: [{ ...personOf(requester), at: now }],
      decidedAt: now,
      startBy: now + policy.startWindowMs,
      expiresAt: now + policy.startWindowMs,
    });
    await this.audit(requester, 'approval.break_glass', approval, { reason: why, runbook: plan.runbook, bypassed: policy.kind, announce: true });
    return { approval, announce: true };
  }

  /**
   * Before the bot asks `approver` for a TOTP code: refuses (audited) someone who may not approve
   * this request at all, or who has no secret enrolled, so that only a person whose code could
   * count is shown the modal; then says whether a code is needed.
   */
  async stepUpFor(approvalId: string, approver: Requester): Promise<boolean> {
    const a = await this.pending(approvalId);
    if (!this.needsStepUp(a)) return false;
    await this.refusing(a.operationId, approver, 'approve', async () => {
      await this.checkEligible(a, approver);
      if (!this.o.totpSecrets?.has(approver.userId)) throw noSecret(approver);
    });
    return true;
  }

  /** Whether approving this request also needs a TOTP code (the bot then asks for it in a modal). */
  needsStepUp(a: ApprovalRecord): boolean {
    // As asked when the request was made, or as configured now (step-up switched on meanwhile).
    return snapshotOf(a).stepUp === 'totp' || (a.kind === 'user_data' && this.o.config.userData?.totp !== undefined);
  }

  /**
   * Whether `actor` may approve this request under its policy (the requester never may). Read-only:
   * used where an approver's say counts beyond a vote, e.g. aborting an operation or cancelling a
   * scheduled run.
   */
  async mayApprove(approvalId: string, actor: Requester): Promise<boolean> {
    try {
      await this.checkEligible(await this.get(approvalId), actor);
      return true;
    } catch (e) {
      if (e instanceof NotAuthorizedError) return false;
      throw e;
    }
  }

  // ───────────── helpers ─────────────

  private async checkStepUp(a: ApprovalRecord, approver: Requester, stepUp: StepUp): Promise<void> {
    if (!this.needsStepUp(a)) return;
    const secret = this.o.totpSecrets?.get(approver.userId);
    if (!secret) throw noSecret(approver);
    if (stepUp.totp === undefined) throw new NotAuthorizedError('approving user-data access needs your TOTP code as well', { reason: 'totp missing' });
    const window = this.o.config.userData?.totp?.window ?? 1;
    const now = this.store.clock.now();
    const step = totpStep(secret, stepUp.totp.trim(), now, window);
    if (step === null) throw new NotAuthorizedError('that TOTP code is not valid now; nothing was approved', { reason: 'totp wrong' });
    // One use per code (RFC 6238 §5.2), kept in the store so that a restart or a second bot process
    // does not forget it: a code seen by someone else, or a replayed submission, approves nothing.
    // The key outlives the code's acceptance window ((2·window + 1) steps) with a step to spare.
    if (!(await this.store.firstSeen(`totp:${approver.userId}:${step}`, (2 * window + 2) * 30_000))) {
      throw new NotAuthorizedError('that TOTP code was already used; wait for the next code of your authenticator app. Nothing was approved', {
        reason: 'totp replayed',
      });
    }
  }

  private async checkEligible(a: ApprovalRecord, approver: Requester): Promise<void> {
    const snap = snapshotOf(a);
    const groups = memoGroupResolver(this.o.groups);
    // Eligible under the policy shown when the request was made AND under the policy in force now.
    await checkApprover(snap, a.requester, approver, groups);
    const now = resolvePolicy(this.o.config, snap.runbook, snap.risk);
    if (now.kind === snap.kind) await checkApprover(now, a.requester, approver, groups);
  }

  private reasonFor(policy: ResolvedPolicy, input: RequestInput): string | null {
    const given = input.reason ?? (typeof input.plan.args?.reason === 'string' ? input.plan.args.reason : undefined);
    if (given === undefined) {
      if (policy.reasonRequired)
        throw new InputError(
          [{ path: 'reason', message: `a reason is required to access user data (${input.plan.runbook})` }],
          'add reason="…" to the command',
        );
      return null;
    }
    return this.parseReason(given, 'request');
  }

  private parseReason(text: string, what: string): string {
    const r = reasonSchema.safeParse(text);
    if (!r.success)
      throw new InputError(
        r.error.issues.map((i) => ({ path: 'reason', message: i.message })),
        `a ${what} needs a reason`,
      );
    return r.data;
  }

  private async get(id: string): Promise<ApprovalRecord> {
    const a = await this.store.getApproval(id);
    if (!a) throw new ApprovalStateError('APPROVAL_NOT_FOUND', `there is no approval request ${id}`, { approvalId: id });
    return a;
  }

  /** The record if it is still pending and not past its TTL (expiring it on the way); else the state error. */
  private async pending(id: string): Promise<ApprovalRecord> {
    const a = await this.get(id);
    if (a.state === 'pending' && this.store.clock.now() >= a.expiresAt) {
      const exp = await this.store.updateApproval(a.id, { state: 'expired' }, { version: a.version, state: 'pending' });
      if (exp) await this.audit(null, 'approval.expired', exp, { why: 'not decided in time' });
      throw await this.stateError(id);
    }
    if (a.state !== 'pending') throw await this.stateError(id);
    return a;
  }

  private async stateError(id: string): Promise<ApprovalStateError> {
    const a = await this.get(id);
    return new ApprovalStateError(a.state === 'expired' ? 'APPROVAL_EXPIRED' : 'APPROVAL_DECIDED', describeState(a), {
      approvalId: id,
      state: a.state,
      decidedBy: a.decidedBy,
      approvers: a.approvers,
    });
  }

  /** Run a check; when it refuses, audit the refusal, then rethrow. */
  private async refusing(operationId: string, actor: Requester, action: string, check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (e) {
      if (e instanceof NotAuthorizedError) {
        await this.store.appendAudit({ actor: actorOf(actor), kind: 'approval.refused', operationId, payload: { action, message: e.message, ...e.details } });
      }
      throw e;
    }
  }

  private async audit(actor: Requester | null, kind: string, a: ApprovalRecord, payload: JsonObject): Promise<void> {
    await this.store.appendAudit({
      actor: actor ? actorOf(actor) : 'bot',
      kind,
      operationId: a.operationId,
      payload: { approvalId: a.id, planHash: a.planHash, ...payload },
    });
  }
}
