/**
 * The engine: the one façade the dispatcher (bot/) calls. Command → plan → approval → run → journal,
 * plus resume/abort and start-up reconciliation. It holds no state of its own beyond the runs in
 * flight: everything that matters is in the store, so any replica can pick an operation up.
 */
import { ChatOpsError, InputError, isChatOpsError, NotAuthorizedError } from '../core/errors.js';
import type { Command, Plan, Requester } from '../core/types.js';
import { LockHeldError } from '../store/lock-held-error.js';
import type { ApprovalRecord, JsonObject, OperationRecord, OperationState, ScheduleRecord, ScheduleState, Store } from '../store/store.js';
import { auditedDecision, recordCard, showOperation, voidForDrift, who, type OperationReport } from './operation-records.js';
import type { ApprovalsPort } from './approvals-port.js';
import type { CrashPoints } from './crash-points.js';
import type { Reporter, RunEnd } from './reporter.js';
import { finalizePlan, type Runbook } from './runbook.js';
import { lastRunOf, Runner } from './runner.js';
import { ScheduledRuns } from './scheduled-runs.js';
import { isUndoRunbook, UNDO_SUFFIX, undoRunbook } from './undo-runbook.js';

export interface EngineOptions<D> {
  store: Store;
  approvals: ApprovalsPort;
  runbooks: readonly Runbook<never, D>[];
  deps: D;
  /** This replica's id: unique per replica, stable across its restarts. */
  owner: string;
  /** The reporter of an operation's thread (bot/thread-reporter.ts); called once per run. */
  reporterFor(op: OperationRecord): Reporter;
  leaseMs?: number;
  stepTimeoutMs?: number;
  crash?: CrashPoints;
  /** A scheduled run found this late still starts; later it is missed (default 15 min). */
  scheduleGraceMs?: number;
}

export type { SubmitResult, StartResult, DecisionResult } from './results.js';
import type { SubmitResult, StartResult, DecisionResult } from './results.js';
export type { OperationReport } from './operation-records.js';

export class Engine<D> {
  readonly runner: Runner<D>;
  /** Runs planned and approved now, started at their time (`at=`/`in=`). */
  readonly schedules: ScheduledRuns;
  private readonly registry: Map<string, Runbook<never, D>>;
  /** Operations a start() of this process is between its checks and the runner (reconcile keeps off). */
  private readonly starting = new Set<string>();

  constructor(private readonly o: EngineOptions<D>) {
    this.registry = new Map(o.runbooks.map((r) => [r.name, r]));
    this.runner = new Runner<D>({
      store: o.store,
      deps: o.deps,
      owner: o.owner,
      ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
      ...(o.stepTimeoutMs !== undefined ? { stepTimeoutMs: o.stepTimeoutMs } : {}),
      ...(o.crash ? { crash: o.crash } : {}),
    });
    this.schedules = new ScheduledRuns({
      store: o.store,
      approvals: o.approvals,
      owner: o.owner,
      ...(o.scheduleGraceMs !== undefined ? { graceMs: o.scheduleGraceMs } : {}),
      start: (opId) => this.start(opId),
      startUnapproved: (op) => this.startUnapproved(op),
    });
  }

  /**
   * Plan a command (read-only look-ups) and either ask for approval or, when none is needed, run it.
   * With `runAt` (`at=`/`in=`) the plan is shown and approved now and the run starts at its time.
   */
  async submit(command: Command, where: { threadTs?: string; cardTs?: string } = {}, when: { runAt?: number } = {}): Promise<SubmitResult> {
    const runbook = this.runbook(command.name);
    const parsed = runbook.input.safeParse(command.args);
    if (!parsed.success) {
      throw new InputError(
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        runbook.usage,
      );
    }
    const plan = await this.plan(runbook, parsed.data, command.requester);
    return this.open(runbook, plan, { requester: command.requester, channelId: command.channelId, raw: command.raw, ...where, ...when });
  }

  /**
   * Undo a finished operation: a new operation whose steps call each completed step's `undo` with
   * what it saved, newest first. Planned, approved and journaled like any other.
   */
  async undo(opId: string, actor: Requester, where: { channelId?: string; threadTs?: string; cardTs?: string } = {}): Promise<SubmitResult> {
    const op = await this.o.store.getOperation(opId);
    if (!op) throw new ChatOpsError('OPERATION_NOT_FOUND', `no operation ${opId}`, { details: { opId } });
    const runbook = this.runbook(`${op.runbook}${UNDO_SUFFIX}`);
    const plan = await this.plan(runbook, { of: opId }, actor);
    return this.open(runbook, plan, { requester: actor, channelId: where.channelId ?? op.channelId, raw: `/op undo ${opId}`, ...where });
  }

  private async open(
    runbook: Runbook<never, D>,
    plan: Plan,
    o: { requester: Requester; channelId: string; raw: string; threadTs?: string; cardTs?: string; runAt?: number },
  ): Promise<SubmitResult> {
    const { store } = this.o;
    let operation = await store.createOperation({
      runbook: runbook.name,
      target: plan.target,
      plan: plan as unknown as JsonObject,
      planHash: plan.hash,
      requester: o.requester,
      channelId: o.channelId,
      threadTs: o.threadTs ?? null,
      cardTs: o.cardTs ?? null,
      detail: { raw: o.raw },
    });
    await store.appendAudit({
      actor: who(o.requester),
      kind: 'operation.requested',
      operationId: operation.id,
      payload: { command: o.raw, planHash: plan.hash, risk: plan.risk },
    });
    let schedule: ScheduleRecord | undefined;
    if (o.runAt !== undefined) ({ schedule, op: operation } = await this.schedules.create(operation, o.runAt, o.raw));
    const approval = await this.o.approvals.request({ operation, plan, purpose: 'start', requester: o.requester });
    if (approval) return { kind: 'needs-approval', operation, plan, approval, ...(schedule ? { schedule } : {}) };
    if (plan.risk !== 'read') {
      // Invariant 4 (reliability.md): no side effect without the approval the policy requires.
      throw new ChatOpsError('INTERNAL', `approvals returned no request for a plan that changes things (${plan.risk})`, { details: { opId: operation.id } });
    }
    if (schedule) return { kind: 'scheduled', operation, plan, schedule };
    const started = await this.startUnapproved(operation);
    if (started.kind !== 'started')
      throw started.kind === 'refused' ? started.error : new ChatOpsError('INTERNAL', `read-only operation ${operation.id} drifted`);
    const running = (await store.getOperation(operation.id)) ?? operation;
    return { kind: 'started', operation: running, plan, done: started.done };
  }

  /** A read-only plan needs no approval: claim the operation and run it (now, or at its scheduled time). */
  private async startUnapproved(op: OperationRecord): Promise<StartResult> {
    this.starting.add(op.id);
    try {
      return await this.startUnapprovedChecked(op);
    } finally {
      this.starting.delete(op.id);
    }
  }

  private async startUnapprovedChecked(op: OperationRecord): Promise<StartResult> {
    const { store } = this.o;
    const runbook = this.runbook(op.runbook);
    const claimed = await store.claimOperation(op.id, this.o.owner, this.leaseMs(), ['pending_approval']);
    const running = claimed && (await store.updateOperation(op.id, { state: 'running' }, { owner: this.o.owner, state: 'pending_approval' }));
    if (!running)
      return {
        kind: 'refused',
        opId: op.id,
        error: new ChatOpsError('OPERATION_CHANGED', `operation ${op.id} changed while starting`, { details: { opId: op.id } }),
      };
    await store.appendAudit({ actor: who(op.requester), kind: 'operation.started', operationId: op.id, payload: { approval: 'not required (read-only)' } });
    return { kind: 'started', opId: op.id, done: this.runner.run(running, runbook, this.o.reporterFor(running)) };
  }

  /** One approval click. When the request becomes approved, the operation is marked approved and started. */
  async approve(approvalId: string, actor: Requester, stepUp?: { totp?: string }): Promise<DecisionResult> {
    const approval = await auditedDecision(this.o.store, approvalId, actor, 'approve', () => this.o.approvals.approve(approvalId, actor, stepUp));
    if (approval.state !== 'approved') return { approval };
    const op = await this.o.store.updateOperation(approval.operationId, { state: 'approved' }, { state: 'pending_approval' });
    if (!op) return { approval }; // someone else moved it on (another click, a cancel); nothing to start here
    const scheduled = approval.purpose === 'start' ? await this.schedules.afterApproval(approval, op) : ({ kind: 'not-scheduled' } as const);
    if (scheduled.kind === 'hold') return { approval, scheduledFor: scheduled.runAt };
    if (scheduled.kind === 'claimed-elsewhere') return { approval };
    const start = await this.start(op.id, actor);
    if (scheduled.kind === 'start-now') await this.schedules.settle(scheduled.schedule, start);
    return { approval, start };
  }

  /** Whether approving needs a TOTP code first (the dialog); refuses someone who may not approve at all. */
  async stepUpFor(approvalId: string, actor: Requester): Promise<boolean> {
    return (await this.o.approvals.stepUpFor?.(approvalId, actor)) ?? false;
  }

  async reject(approvalId: string, actor: Requester, reason: string): Promise<DecisionResult> {
    const approval = await auditedDecision(this.o.store, approvalId, actor, 'reject', () => this.o.approvals.reject(approvalId, actor, reason), { reason });
    if (approval.state === 'rejected') await this.approvalEnded(approval);
    return { approval };
  }

  async cancel(approvalId: string, actor: Requester): Promise<DecisionResult> {
    const approval = await auditedDecision(this.o.store, approvalId, actor, 'cancel', () => this.o.approvals.cancel(approvalId, actor));
    if (approval.state === 'cancelled') await this.approvalEnded(approval);
    return { approval };
  }

  /**
   * A request that will not be approved. For a first start the operation ends with it; a refused
   * Resume leaves the operation in doubt (its host stays locked) until someone resumes or aborts it.
   * The expiry sweep calls this for every request it expired.
   */
  async approvalEnded(approval: ApprovalRecord): Promise<void> {
    if (approval.state !== 'rejected' && approval.state !== 'cancelled' && approval.state !== 'expired') return;
    const next = approval.purpose === 'resume' ? 'in_doubt' : approval.state;
    const op = await this.o.store.updateOperation(approval.operationId, { state: next }, { state: ['pending_approval', 'approved'] });
    if (op && approval.purpose === 'start') await this.schedules.operationEnded(op);
  }

  /**
   * Start an approved operation: re-plan and compare hashes (a fresh start), check the host locks,
   * consume the approval with one compare-and-set (exactly one caller wins), take the locks, claim
   * the operation and run it. Every refusal says why.
   */
  async start(opId: string, actor?: Requester): Promise<StartResult> {
    this.starting.add(opId);
    try {
      return await this.startChecked(opId, actor);
    } finally {
      this.starting.delete(opId);
    }
  }

  private async startChecked(opId: string, actor?: Requester): Promise<StartResult> {
    const { store } = this.o;
    const refuse = (error: ChatOpsError): StartResult => ({ kind: 'refused', opId, error });
    if (this.runner.isDraining)
      return refuse(new ChatOpsError('SHUTTING_DOWN', 'the bot is shutting down; start the operation again when it is back', { details: { opId } }));
    const op = await store.getOperation(opId);
    if (!op) return refuse(new ChatOpsError('OPERATION_NOT_FOUND', `no operation ${opId}`, { details: { opId } }));
    if (op.state !== 'approved')
      return refuse(
        new ChatOpsError('NOT_APPROVED', `operation ${opId} is ${op.state}, not approved; nothing to start`, { details: { opId, state: op.state } }),
      );
    // A scheduled run starts only through its schedule (claimed by one replica at its time).
    if (await this.schedules.isWaiting(op))
      return refuse(new ChatOpsError('NOT_APPROVED', `operation ${opId} is scheduled; it starts at its time, not before`, { details: { opId } }));
    const runbook = this.runbook(op.runbook);
    const now = store.clock.now();
    const approval = (await store.listApprovals({ operationId: opId, states: ['approved'] })).find((a) => a.consumedAt === null && a.planHash === op.planHash);
    if (!approval) return refuse(new ChatOpsError('NOT_APPROVED', `operation ${opId} has no unused approval for its plan`, { details: { opId } }));
    if (approval.startBy !== null && now > approval.startBy) {
      await store.updateApproval(approval.id, { state: 'expired' }, { version: approval.version, state: 'approved' });
      await store.updateOperation(opId, { state: 'expired' }, { state: 'approved' });
      await store.appendAudit({ actor: 'bot', kind: 'approval.expired', operationId: opId, payload: { approvalId: approval.id, startBy: approval.startBy } });
      return refuse(
        new ChatOpsError('APPROVAL_EXPIRED', `the approval of ${opId} expired: the run had to start by ${new Date(approval.startBy).toISOString()}`, {
          details: { opId },
        }),
      );
    }
    const resume = approval.purpose === 'resume';
    const plan = op.plan as unknown as Plan;
    if (!resume) {
      const fresh = await this.plan(runbook, plan.args, op.requester);
      if (fresh.hash !== op.planHash) return voidForDrift(this.o.store, this.o.approvals, op, approval, plan, fresh);
    }
    const keys = (runbook.locks?.(plan) ?? []).map((h) => `host:${h}`);
    for (const k of keys) {
      const held = await store.getLock(k);
      if (held && held.operationId !== opId) return refuse(new LockHeldError(held));
    }
    const consumed = await store.updateApproval(approval.id, { consumedAt: now }, { version: approval.version, state: 'approved' });
    if (!consumed) return refuse(new ChatOpsError('OPERATION_CHANGED', `operation ${opId} was already started by someone else`, { details: { opId } }));
    for (const k of keys) {
      const r = await store.acquireLock(k, opId, op.requester);
      if (!r.acquired) {
        // Lost a race for the host after consuming: give the approval back (only the consumer can).
        await store.updateApproval(approval.id, { consumedAt: null }, { version: consumed.version });
        if (!resume) await store.releaseLocksOf(opId);
        return refuse(new LockHeldError(r.heldBy));
      }
    }
    const claimed = await store.claimOperation(opId, this.o.owner, this.leaseMs(), ['approved']);
    // The card shows everyone who approved this operation: the start and any Resume.
    const earlier = Array.isArray(op.detail.approvers) ? (op.detail.approvers as Requester[]) : [];
    const voted = approval.approvers.map((v) => ({ userId: v.userId, teamId: v.teamId, ...(v.userName ? { userName: v.userName } : {}) }));
    const approvers = [...earlier, ...voted.filter((v) => !earlier.some((e) => e.userId === v.userId && e.teamId === v.teamId))];
    const detail: JsonObject = { ...op.detail, approvers, approvalId: approval.id };
    const running = claimed && (await store.updateOperation(opId, { state: 'running', detail }, { owner: this.o.owner, state: 'approved' }));
    if (!running) return refuse(new ChatOpsError('OPERATION_CHANGED', `operation ${opId} changed while starting`, { details: { opId } }));
    await store.appendAudit({
      actor: actor ? who(actor) : `bot:${this.o.owner}`,
      kind: resume ? 'operation.resumed' : 'operation.started',
      operationId: opId,
      payload: { approvalId: approval.id, approvers: approvers.map(who) },
    });
    const choice = op.detail.resumeChoice;
    const mode = resume
      ? { inDoubt: choice === 'mark-done' ? ('mark-done' as const) : ('rerun' as const), actor: String(op.detail.resumeBy ?? 'operator') }
      : {};
    return { kind: 'started', opId, done: this.runner.run(running, runbook, this.o.reporterFor(running), mode) };
  }

  /**
   * An operation stopped in doubt: ask for an approved continuation. `choice` is what happens to a
   * step whose state still cannot be read: run it again, or take the operator's word it is done.
   */
  async resume(opId: string, actor: Requester, choice: 'rerun' | 'mark-done' = 'rerun'): Promise<ApprovalRecord | null> {
    const { store } = this.o;
    const op = await store.getOperation(opId);
    if (!op || op.state !== 'in_doubt')
      throw new ChatOpsError('NOT_RESUMABLE', `operation ${opId} is ${op?.state ?? 'unknown'}; only an operation in doubt can be resumed`, {
        details: { opId },
      });
    const next = await store.updateOperation(
      opId,
      { state: 'pending_approval', detail: { ...op.detail, resumeChoice: choice, resumeBy: who(actor) } },
      { version: op.version, state: 'in_doubt' },
    );
    if (!next) throw new ChatOpsError('OPERATION_CHANGED', `operation ${opId} changed meanwhile; look at it again`, { details: { opId } });
    await store.appendAudit({ actor: who(actor), kind: 'operation.resume_requested', operationId: opId, payload: { choice } });
    return this.o.approvals.request({ operation: next, plan: next.plan as unknown as Plan, purpose: 'resume', requester: actor });
  }

  /**
   * Abort: a run of this process stops after its current step; an operation in doubt (or waiting)
   * runs only its cleanup steps. Steps already done are not undone.
   */
  async abort(opId: string, actor: Requester): Promise<{ kind: 'aborting' | 'aborted'; done?: Promise<RunEnd> }> {
    const { store } = this.o;
    const known = await store.getOperation(opId);
    if (!known) throw new ChatOpsError('OPERATION_NOT_FOUND', `no operation ${opId}`, { details: { opId } });
    await this.mayControl(known, actor, 'abort');
    await store.appendAudit({ actor: who(actor), kind: 'operation.abort_requested', operationId: opId, payload: {} });
    if (this.runner.isActive(opId)) {
      // Written first so that a restart in the middle of the cleanup still knows it is aborting.
      const cur = await store.getOperation(opId);
      if (cur) await store.updateOperation(opId, { detail: { ...cur.detail, aborting: who(actor) } }, { owner: this.o.owner });
      if (this.runner.requestAbort(opId, who(actor))) return { kind: 'aborting' };
    }
    const op = await store.getOperation(opId);
    if (!op) throw new ChatOpsError('OPERATION_NOT_FOUND', `no operation ${opId}`, { details: { opId } });
    if (op.state === 'pending_approval' || op.state === 'approved') {
      if (!(await store.updateOperation(opId, { state: 'aborted' }, { version: op.version })))
        throw new ChatOpsError('OPERATION_CHANGED', `operation ${opId} changed meanwhile`, { details: { opId } });
      for (const a of await store.listApprovals({ operationId: opId, states: ['pending', 'approved'] })) {
        await store.updateApproval(a.id, { state: 'void', decidedBy: actor, reason: 'operation aborted' }, { version: a.version });
      }
      await store.releaseLocksOf(opId);
      return { kind: 'aborted' };
    }
    if (op.state !== 'in_doubt' && op.state !== 'paused' && op.state !== 'running') {
      throw new ChatOpsError('NOT_ABORTABLE', `operation ${opId} is ${op.state}; nothing to abort`, { details: { opId } });
    }
    const claimed = await store.claimOperation(opId, this.o.owner, this.leaseMs(), [op.state]);
    const running =
      claimed && (await store.updateOperation(opId, { state: 'running', detail: { ...claimed.detail, aborting: who(actor) } }, { owner: this.o.owner }));
    if (!running)
      throw new ChatOpsError(
        'OPERATION_RUNNING_ELSEWHERE',
        `operation ${opId} is held by another replica (${op.owner}); abort it there or wait for its lease to end`,
        { details: { opId } },
      );
    return { kind: 'aborting', done: this.runner.run(running, this.runbook(op.runbook), this.o.reporterFor(running), { abort: true, actor: who(actor) }) };
  }

  /**
   * Who may stop someone's operation: its requester, or a person who may approve its plan (under the
   * policy of its approval requests). Anyone else is refused, and the refusal is audited.
   */
  private async mayControl(op: OperationRecord, actor: Requester, what: 'abort'): Promise<void> {
    const same = op.requester.userId === actor.userId && op.requester.teamId === actor.teamId;
    if (same) return;
    const mayApprove = this.o.approvals.mayApprove?.bind(this.o.approvals);
    if (mayApprove) {
      for (const a of (await this.o.store.listApprovals({ operationId: op.id })).reverse()) if (await mayApprove(a.id, actor)) return;
    }
    await this.o.store.appendAudit({ actor: who(actor), kind: `operation.${what}_refused`, operationId: op.id, payload: {} });
    throw new NotAuthorizedError(`only the requester (<@${op.requester.userId}>) or someone who may approve ${op.runbook} may ${what} ${op.id}`, {
      opId: op.id,
    });
  }

  /**
   * At start-up: every running operation nobody else holds is continued. The runner skips completed
   * steps, reconciles in-doubt ones and stops for an operator when it cannot tell. Safe to call
   * again periodically: it only takes operations whose owner's lease ended (a replica that died) or
   * that this replica owns and is not running. `owner` must be unique per replica.
   */
  async reconcileOnStartup(): Promise<{ opId: string; done: Promise<RunEnd> }[]> {
    const { store } = this.o;
    const out: { opId: string; done: Promise<RunEnd> }[] = [];
    const running = await store.listOperations({ states: ['running'], limit: 1000 });
    // Runbooks that only clean up after a restart (an inspection's guest is paused) go first, and
    // their clean-up is waited for before anything else is taken up.
    const cleanupFirst = (o: OperationRecord) => this.findRunbook(o.runbook)?.afterRestart === 'cleanup';
    const cleanups: Promise<RunEnd>[] = [];
    // Not `claimable: true`: after a kill -9 this replica's own lease may still run, and it may reclaim it.
    for (const op of [...running.filter(cleanupFirst), ...running.filter((o) => !cleanupFirst(o))]) {
      if (cleanups.length > 0 && !cleanupFirst(op)) {
        await Promise.allSettled(cleanups.splice(0));
      }
      if (this.runner.isActive(op.id) || this.starting.has(op.id)) continue;
      const claimed = await store.claimOperation(op.id, this.o.owner, this.leaseMs(), ['running']);
      if (!claimed) continue; // another replica took it first
      await store.appendAudit({ actor: `bot:${this.o.owner}`, kind: 'operation.reconciling', operationId: op.id, payload: { previousOwner: op.owner } });
      const runbook = this.findRunbook(op.runbook);
      if (!runbook) {
        await store.updateOperation(
          op.id,
          { state: 'in_doubt', detail: { ...op.detail, problem: `runbook ${op.runbook} is not known to this bot version` } },
          { owner: this.o.owner },
        );
        await store.releaseOperation(op.id, this.o.owner);
        continue;
      }
      const cleanup = runbook.afterRestart === 'cleanup';
      const done = this.runner.run(claimed, runbook, this.o.reporterFor(claimed), cleanup ? { abort: true, actor: 'the bot (restarted: cleanup only)' } : {});
      if (cleanup) cleanups.push(done);
      out.push({ opId: op.id, done });
    }
    await Promise.allSettled(cleanups);
    return out;
  }

  /**
   * At start-up, after `reconcileOnStartup`: operations a previous process left `approved` but never
   * running (killed between the approval and the start). Nothing of them ran (the runner only starts
   * on `running`), so the start is finished now, through `start()` with all its checks: a fresh
   * re-plan (drift asks again), the start window, the host locks, the one-time consumption of the
   * approval and the owner/state compare-and-set that lets exactly one replica run it. An approval
   * consumed by the process that died is handed back first, once this replica holds the operation.
   */
  async startLeftApproved(o: { olderThanMs?: number } = {}): Promise<StartResult[]> {
    const { store } = this.o;
    const out: StartResult[] = [];
    for (const op of await store.listOperations({ states: ['approved'], limit: 1000 })) {
      if (this.runner.isActive(op.id) || this.starting.has(op.id)) continue;
      // Periodically (lease reconciliation), only what has been left alone for a while: an approval
      // another replica is starting right now is that replica's to start.
      if (o.olderThanMs !== undefined && store.clock.now() - op.updatedAt < o.olderThanMs) continue;
      if ((await store.listJournal(op.id)).length > 0) continue; // started somewhere: not this method's case
      if (await this.schedules.isWaiting(op)) continue; // approved ahead of its time: the schedule starts it
      const consumed = (await store.listApprovals({ operationId: op.id, states: ['approved'] })).find(
        (a) => a.consumedAt !== null && a.planHash === op.planHash,
      );
      if (consumed) {
        // Claim before handing the approval back: a replica in the middle of its own start of this
        // operation then fails its claim instead of running it beside us.
        if (!(await store.claimOperation(op.id, this.o.owner, this.leaseMs(), ['approved']))) continue;
        await store.updateApproval(consumed.id, { consumedAt: null }, { version: consumed.version, state: 'approved' });
      }
      await store.appendAudit({
        actor: `bot:${this.o.owner}`,
        kind: 'operation.start_resumed',
        operationId: op.id,
        payload: { approvalHandedBack: consumed ? consumed.id : null },
      });
      out.push(await this.start(op.id));
    }
    return out;
  }

  /**
   * At start-up, after `reconcileOnStartup`: operations that ended (their end state written) in a
   * process killed before the thread said so — the card would show them running for ever. Their end
   * is told again from the store (`Runner.replayEnd`); nothing runs. Only runs that ended within
   * `withinMs` (default a day) and whose delivery was never recorded (`markReported`).
   */
  async reportUnreported(withinMs = 24 * 3600_000): Promise<string[]> {
    const { store } = this.o;
    const since = store.clock.now() - withinMs;
    const out: string[] = [];
    const ended = await store.listOperations({ states: ['succeeded', 'failed', 'aborted', 'in_doubt'], limit: 200 });
    for (const op of ended) {
      const run = lastRunOf(op);
      if (!run || run.endedAt < since || op.detail.reportedAt === run.endedAt || this.runner.isActive(op.id)) continue;
      await this.runner.replayEnd(op, this.o.reporterFor(op));
      out.push(op.id);
    }
    return out;
  }

  /**
   * The thread now shows how the run that ended at `endedAt` ended (the reporter delivered its last
   * message): a later start-up does not tell it again. A newer run or a concurrent change wins.
   */
  async markReported(opId: string, endedAt: number): Promise<void> {
    const op = await this.o.store.getOperation(opId);
    if (!op || lastRunOf(op)?.endedAt !== endedAt || op.detail.reportedAt === endedAt) return;
    await this.o.store.updateOperation(opId, { detail: { ...op.detail, reportedAt: endedAt } }, { version: op.version });
  }

  /** The message that is the operation's thread parent and status card, once Slack posted it. */
  attachCard(opId: string, ts: string): Promise<void> {
    return recordCard(this.o.store, opId, ts);
  }

  /**
   * Break glass on a plan waiting for approval: the audited approvals path, then the operation is
   * approved; the caller announces it and calls `start`. `planHash` is the plan the person saw.
   */
  async breakGlass(approvalId: string, planHash: string, actor: Requester, reason: string): Promise<OperationRecord> {
    const { store, approvals } = this.o;
    if (!approvals.breakGlass) throw new NotAuthorizedError('break-glass is not configured (approvals.breakGlass)');
    const pending = await store.getApproval(approvalId);
    const op = pending && (await store.getOperation(pending.operationId));
    if (!op || op.planHash !== planHash || op.state !== 'pending_approval') {
      throw new ChatOpsError('NOT_APPROVED', 'this plan is no longer waiting for approval; look at the newest card in the channel', {
        details: { approvalId },
      });
    }
    if (await this.schedules.isWaiting(op))
      throw new NotAuthorizedError(
        `break glass starts a run now, and \`${op.id}\` is scheduled for later; cancel the schedule and ask again without at=/in= to run it now`,
        { opId: op.id },
      );
    const plan = op.plan as unknown as Plan;
    await approvals.breakGlass({ operation: { id: op.id, planHash: op.planHash, channelId: op.channelId }, plan, purpose: 'start', requester: actor, reason });
    const approved = await store.updateOperation(op.id, { state: 'approved' }, { state: 'pending_approval' });
    if (!approved) throw new ChatOpsError('OPERATION_CHANGED', `operation ${op.id} changed meanwhile; nothing was started`, { details: { opId: op.id } });
    return approved;
  }

  /** `/schedule list`: newest first. */
  listSchedules(filter: { states?: readonly ScheduleState[]; limit?: number } = {}): Promise<ScheduleRecord[]> {
    return this.o.store.listSchedules({ ...(filter.states ? { states: filter.states } : {}), limit: filter.limit ?? 50 });
  }

  /**
   * `/schedule cancel`: the requester or an approver of its plan, before its time (one
   * compare-and-set); the waiting operation and its approvals end with it. Audited either way.
   */
  cancelSchedule(id: string, actor: Requester): Promise<{ schedule: ScheduleRecord; op: OperationRecord | undefined }> {
    return this.schedules.cancel(id, actor);
  }

  /** `/op show <id>`: read-only. */
  show(opId: string): Promise<OperationReport | undefined> {
    return showOperation(this.o.store, opId);
  }

  /** `/op list`: newest first. */
  list(filter: { states?: readonly OperationState[]; limit?: number } = {}): Promise<OperationRecord[]> {
    return this.o.store.listOperations({ ...(filter.states ? { states: filter.states } : {}), limit: filter.limit ?? 20 });
  }

  /** From now on no new step or operation starts (the first thing SIGTERM does). */
  drain(): void {
    this.runner.drain();
  }

  /** No new step or operation starts; resolves when runs stopped (true) or after `timeoutMs`. */
  shutdown(timeoutMs = 25_000): Promise<boolean> {
    return this.runner.shutdown(timeoutMs);
  }

  private async plan(runbook: Runbook<never, D>, args: unknown, requester: Requester): Promise<Plan> {
    try {
      const draft = await runbook.plan(args as never, this.o.deps, { requester, now: this.o.store.clock.now() });
      return finalizePlan(runbook.name, draft);
    } catch (e) {
      if (isChatOpsError(e)) throw e;
      throw new ChatOpsError('INTERNAL', `planning ${runbook.name} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  private findRunbook(name: string): Runbook<never, D> | undefined {
    try {
      return this.runbook(name);
    } catch {
      return undefined;
    }
  }

  private runbook(name: string): Runbook<never, D> {
    const base = isUndoRunbook(name) ? this.registry.get(name.slice(0, -UNDO_SUFFIX.length)) : undefined;
    if (base) return undoRunbook(base, this.o.store);
    const r = this.registry.get(name);
    if (!r) throw new ChatOpsError('UNKNOWN_COMMAND', `no runbook named ${name}; known: ${[...this.registry.keys()].join(', ')}`, { details: { name } });
    return r;
  }

  private leaseMs(): number {
    return this.o.leaseMs ?? 60_000;
  }
}
