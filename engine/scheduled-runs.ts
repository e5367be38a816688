/**
 * Scheduled runs (`at=`/`in=`): the plan is shown and approved now, the run starts at its time on the
 * same path as every run (engine.start: re-plan, drift voids the approval and asks again, host locks,
 * one consumption of the approval). The schedule lives in the store, so whoever is running when it
 * falls due starts it: replicas race for it with one compare-and-set (scheduled → running), never
 * with timers. A schedule whose time passed more than the grace period ago is marked missed and never
 * run late; an approval's start window counts from the scheduled time.
 */
import { ChatOpsError, NotAuthorizedError } from '../core/errors.js';
import { formatDuration } from '../core/values.js';
import type { Requester } from '../core/types.js';
import type { ApprovalRecord, OperationRecord, ScheduleRecord, Store } from '../store/store.js';
import type { ApprovalsPort } from './approvals-port.js';
import { who } from './operation-records.js';
import type { StartResult } from './results.js';

/** Default grace period: a schedule found up to this late still starts; later, it is missed. */
export const DEFAULT_SCHEDULE_GRACE_MS = 15 * 60_000;

/** What became of one look at a schedule. */
export type ScheduleOutcome =
  | { kind: 'not-due'; schedule: ScheduleRecord }
  /** Due, but its plan is not approved yet: nothing runs until it is (within the grace period). */
  | { kind: 'waiting-approval'; schedule: ScheduleRecord }
  /** Another replica claimed it first, or it is no longer scheduled. */
  | { kind: 'not-ours'; schedule: ScheduleRecord }
  | { kind: 'missed'; schedule: ScheduleRecord; op: OperationRecord | undefined }
  /** Its operation ended before its time (rejected, expired, aborted): the schedule is cancelled. */
  | { kind: 'ended'; schedule: ScheduleRecord; op: OperationRecord | undefined }
  | { kind: 'start'; schedule: ScheduleRecord; op: OperationRecord; start: StartResult };

export interface ScheduledRunsOptions {
  store: Store;
  approvals: ApprovalsPort;
  /** This replica's id, written with its claims. */
  owner: string;
  graceMs?: number;
  /** engine.start: the one start path. */
  start(opId: string): Promise<StartResult>;
  /** A read-only plan needs no approval: run it (claim and start) as submit does for an immediate one. */
  startUnapproved(op: OperationRecord): Promise<StartResult>;
}

export class ScheduledRuns {
  readonly graceMs: number;

  constructor(private readonly o: ScheduledRunsOptions) {
    this.graceMs = o.graceMs ?? DEFAULT_SCHEDULE_GRACE_MS;
  }

  /** A new operation is to run at `runAt`: its schedule, linked both ways. */
  async create(op: OperationRecord, runAt: number, raw: string): Promise<{ schedule: ScheduleRecord; op: OperationRecord }> {
    const { store } = this.o;
    const created = await store.createSchedule({
      runbook: op.runbook,
      args: { target: op.target, command: raw },
      runAt,
      requester: op.requester,
      channelId: op.channelId,
    });
    const schedule = (await store.updateSchedule(created.id, { operationId: op.id }, { version: created.version })) ?? created;
    const linked = await store.updateOperation(op.id, { detail: { ...op.detail, scheduleId: schedule.id, runAt } }, { version: op.version });
    if (!linked) throw new ChatOpsError('OPERATION_CHANGED', `operation ${op.id} changed while it was being scheduled`, { details: { opId: op.id } });
    await store.appendAudit({ actor: who(op.requester), kind: 'schedule.created', operationId: op.id, payload: { scheduleId: schedule.id, runAt } });
    return { schedule, op: linked };
  }

  /** The schedule of an operation, when it has one. */
  async of(op: OperationRecord): Promise<ScheduleRecord | undefined> {
    const id = op.detail.scheduleId;
    return typeof id === 'string' ? this.o.store.getSchedule(id) : undefined;
  }

  /** True while the operation waits for its scheduled time (nothing may start it before). */
  async isWaiting(op: OperationRecord): Promise<boolean> {
    return (await this.of(op))?.state === 'scheduled';
  }

  /**
   * An approval of a scheduled operation became final. Before its time: the approval's start window
   * is moved to count from the scheduled time (at least the grace period, so a start within the grace
   * period is not refused as expired), and nothing starts now. At or after its time (approved late,
   * within the grace period): this caller claims the schedule and starts it.
   */
  async afterApproval(
    approval: ApprovalRecord,
    op: OperationRecord,
  ): Promise<{ kind: 'hold'; runAt: number } | { kind: 'start-now'; schedule: ScheduleRecord } | { kind: 'not-scheduled' } | { kind: 'claimed-elsewhere' }> {
    const { store } = this.o;
    const schedule = await this.of(op);
    if (!schedule || schedule.state !== 'scheduled') return { kind: 'not-scheduled' };
    const now = store.clock.now();
    if (schedule.runAt > now) {
      const window = approval.startBy !== null && approval.decidedAt !== null ? approval.startBy - approval.decidedAt : 0;
      const startBy = schedule.runAt + Math.max(window, this.graceMs);
      const moved = await store.updateApproval(approval.id, { startBy }, { version: approval.version, state: 'approved' });
      if (!moved) throw new ChatOpsError('APPROVAL_CHANGED', `approval ${approval.id} changed meanwhile`, { details: { approvalId: approval.id } });
      await store.appendAudit({
        actor: 'bot',
        kind: 'schedule.approved',
        operationId: op.id,
        payload: { scheduleId: schedule.id, runAt: schedule.runAt, startBy },
      });
      return { kind: 'hold', runAt: schedule.runAt };
    }
    const claimed = await this.claim(schedule);
    return claimed ? { kind: 'start-now', schedule: claimed } : { kind: 'claimed-elsewhere' };
  }

  /**
   * One look at one schedule (the sweep calls this for every due one): missed beyond the grace
   * period, still waiting for its approval, ended, or claimed by this caller and started.
   */
  async runDue(scheduleId: string): Promise<ScheduleOutcome> {
    const { store } = this.o;
    const schedule = await store.getSchedule(scheduleId);
    if (!schedule) throw new ChatOpsError('SCHEDULE_NOT_FOUND', `no schedule ${scheduleId}`, { details: { scheduleId } });
    if (schedule.state !== 'scheduled') return { kind: 'not-ours', schedule };
    const now = store.clock.now();
    if (now < schedule.runAt) return { kind: 'not-due', schedule };
    const op = schedule.operationId ? await store.getOperation(schedule.operationId) : undefined;
    const waiting = op && (op.state === 'pending_approval' || op.state === 'approved');
    if (!waiting) {
      const ended = await store.updateSchedule(schedule.id, { state: 'cancelled' }, { version: schedule.version, state: 'scheduled' });
      if (!ended) return { kind: 'not-ours', schedule };
      await store.appendAudit({
        actor: `bot:${this.o.owner}`,
        kind: 'schedule.ended',
        operationId: op?.id ?? null,
        payload: { scheduleId, operationState: op?.state ?? 'missing' },
      });
      return { kind: 'ended', schedule: ended, op };
    }
    if (now > schedule.runAt + this.graceMs) return this.miss(schedule, op);
    const approvals = await store.listApprovals({ operationId: op.id });
    if (op.state === 'pending_approval' && approvals.length > 0) return { kind: 'waiting-approval', schedule };
    const claimed = await this.claim(schedule);
    if (!claimed) return { kind: 'not-ours', schedule };
    const start = op.state === 'approved' ? await this.o.start(op.id) : await this.o.startUnapproved(op);
    await this.settle(claimed, start);
    return { kind: 'start', schedule: claimed, op, start };
  }

  /** After a start that came from a claim: done (it ran, or asked again after drift) or failed (refused). */
  async settle(schedule: ScheduleRecord, start: StartResult): Promise<void> {
    const state = start.kind === 'refused' ? 'failed' : 'done';
    await this.o.store.updateSchedule(schedule.id, { state }, { state: 'running' });
    await this.o.store.appendAudit({
      actor: `bot:${this.o.owner}`,
      kind: `schedule.${state}`,
      operationId: schedule.operationId,
      payload: { scheduleId: schedule.id, start: start.kind, ...(start.kind === 'refused' ? { why: start.error.message } : {}) },
    });
  }

  /**
   * `/schedule cancel`: the requester, or someone who may approve it (the approvals port's
   * `mayApprove`), before its time. The operation and its open approvals end with it; audited either way.
   */
  async cancel(scheduleId: string, actor: Requester): Promise<{ schedule: ScheduleRecord; op: OperationRecord | undefined }> {
    const { store } = this.o;
    const schedule = await store.getSchedule(scheduleId);
    if (!schedule)
      throw new ChatOpsError('SCHEDULE_NOT_FOUND', `there is no schedule ${scheduleId}; \`/schedule list\` lists them`, { details: { scheduleId } });
    const approvals = schedule.operationId ? await store.listApprovals({ operationId: schedule.operationId }) : [];
    const isRequester = schedule.requester.userId === actor.userId && schedule.requester.teamId === actor.teamId;
    let allowed = isRequester;
    for (const a of approvals) if (!allowed) allowed = (await this.o.approvals.mayApprove?.(a.id, actor)) ?? false;
    if (!allowed) {
      await store.appendAudit({ actor: who(actor), kind: 'schedule.cancel_refused', operationId: schedule.operationId, payload: { scheduleId } });
      throw new NotAuthorizedError(`only <@${schedule.requester.userId}>, who asked, or an approver of this plan can cancel schedule ${scheduleId}`, {
        scheduleId,
      });
    }
    const cancelled = await store.updateSchedule(scheduleId, { state: 'cancelled' }, { version: schedule.version, state: 'scheduled' });
    if (!cancelled) {
      const now = await store.getSchedule(scheduleId);
      throw new ChatOpsError(
        'NOT_CANCELLABLE',
        `schedule ${scheduleId} is ${now?.state ?? 'gone'}; only a run that has not started can be cancelled${now?.operationId ? ` (see \`/op show ${now.operationId}\`)` : ''}`,
        { details: { scheduleId } },
      );
    }
    const op = schedule.operationId ? await store.getOperation(schedule.operationId) : undefined;
    if (op) await this.endOperation(op, 'cancelled', actor, 'schedule cancelled');
    await store.appendAudit({
      actor: who(actor),
      kind: 'schedule.cancelled',
      operationId: schedule.operationId,
      payload: { scheduleId, runAt: schedule.runAt, as: isRequester ? 'requester' : 'approver' },
    });
    return { schedule: cancelled, op: op && (await store.getOperation(op.id)) };
  }

  /** A request of a scheduled operation ended (rejected, cancelled, expired): so does its schedule. */
  async operationEnded(op: OperationRecord): Promise<void> {
    const s = await this.of(op);
    if (s?.state !== 'scheduled') return;
    if (await this.o.store.updateSchedule(s.id, { state: 'cancelled' }, { version: s.version, state: 'scheduled' })) {
      await this.o.store.appendAudit({ actor: 'bot', kind: 'schedule.ended', operationId: op.id, payload: { scheduleId: s.id, operationState: op.state } });
    }
  }

  private async claim(schedule: ScheduleRecord): Promise<ScheduleRecord | null> {
    const won = await this.o.store.updateSchedule(schedule.id, { state: 'running' }, { version: schedule.version, state: 'scheduled' });
    if (won)
      await this.o.store.appendAudit({
        actor: `bot:${this.o.owner}`,
        kind: 'schedule.claimed',
        operationId: schedule.operationId,
        payload: { scheduleId: schedule.id, runAt: schedule.runAt, late: this.o.store.clock.now() - schedule.runAt },
      });
    return won;
  }

  private async miss(schedule: ScheduleRecord, op: OperationRecord): Promise<ScheduleOutcome> {
    const missed = await this.o.store.updateSchedule(schedule.id, { state: 'missed' }, { version: schedule.version, state: 'scheduled' });
    if (!missed) return { kind: 'not-ours', schedule };
    await this.endOperation(op, 'expired', null, `missed its time by more than the grace period (${formatDuration(this.graceMs)})`);
    await this.o.store.appendAudit({
      actor: `bot:${this.o.owner}`,
      kind: 'schedule.missed',
      operationId: op.id,
      payload: { scheduleId: schedule.id, runAt: schedule.runAt, foundAt: this.o.store.clock.now(), graceMs: this.graceMs },
    });
    return { kind: 'missed', schedule: missed, op: await this.o.store.getOperation(op.id) };
  }

  /** The waiting operation ends without running; its open approvals are voided (one CAS each). */
  private async endOperation(op: OperationRecord, state: 'cancelled' | 'expired', actor: Requester | null, reason: string): Promise<void> {
    const { store } = this.o;
    await store.updateOperation(op.id, { state }, { state: ['pending_approval', 'approved'] });
    for (const a of await store.listApprovals({ operationId: op.id, states: ['pending', 'approved'] })) {
      if (a.consumedAt !== null) continue;
      await store.updateApproval(
        a.id,
        { state: 'void', reason, decidedAt: store.clock.now(), ...(actor ? { decidedBy: actor } : {}) },
        { version: a.version, state: a.state },
      );
    }
  }
}
