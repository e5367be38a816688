/**
 * Scheduled runs on a real SQLite store with the scratch runbook and a clock moved by hand: approved
 * now and run at their time, the start window from the scheduled time, reminders once, the grace
 * period (start late within it, missed beyond it), drift at the start, cancel, and two replicas
 * sweeping at once (one claim, one start).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { NotAuthorizedError } from '../../core/errors.js';
import { Engine } from '../../engine/engine.js';
import type { ScheduleOutcome } from '../../engine/scheduled-runs.js';
import type { Runbook } from '../../engine/runbook.js';
import { ScheduleSweep } from '../../jobs/schedule-sweep.js';
import { openStore } from '../../store/open-store.js';
import type { OperationRecord, ScheduleRecord, Store } from '../../store/store.js';
import { sqliteScratch, type Scratch } from '../fixtures/runbooks/scratch-db.js';
import { scratchRunbook, type ScratchDeps } from '../fixtures/runbooks/scratch-runbook.js';
import { ALICE, BOB, scratchCommand } from '../engine/helpers/engine-fixture.js';
import { testApprovals } from '../engine/helpers/test-approvals.js';

const MIN = 60_000;
const CAROL = { userId: 'U0CAROL', teamId: 'T0TEAM', userName: 'carol' };

let dir: string;
let clock: ManualClock;
let store: Store;
let scratch: Scratch;
const engines: Engine<ScratchDeps>[] = [];
let reminders: string[];
let outcomes: ScheduleOutcome[];

/** Who the approvals port says may approve (an approver may cancel a schedule, not only its requester). */
let approvers: Set<string>;

function engine(owner = 'replica-a'): Engine<ScratchDeps> {
  const e = new Engine<ScratchDeps>({
    store,
    approvals: { ...testApprovals(store), mayApprove: async (_id, actor) => approvers.has(actor.userId) },
    runbooks: [scratchRunbook as unknown as Runbook<never, ScratchDeps>],
    deps: { scratch },
    owner,
    reporterFor: () => ({ emit: () => undefined }),
  });
  engines.push(e);
  return e;
}

function sweeper(e: Engine<ScratchDeps>): ScheduleSweep {
  return new ScheduleSweep({
    store,
    schedules: e.schedules,
    remindBeforeMs: 15 * MIN,
    notify: {
      reminder: async (op: OperationRecord, s: ScheduleRecord) => void reminders.push(`${op.id}@${s.runAt}`),
      outcome: async (o) => void outcomes.push(o),
    },
  });
}

/** alice asks for a scratch run on `host` at now + `inMs`; returns the operation and its approval. */
async function scheduled(e: Engine<ScratchDeps>, host: string, inMs: number) {
  const runAt = clock.now() + inMs;
  const sub = await e.submit(scratchCommand({ host }), {}, { runAt });
  if (sub.kind !== 'needs-approval' || !sub.schedule) throw new Error(`expected a scheduled approval request, got ${sub.kind}`);
  return { op: sub.operation, approval: sub.approval, schedule: sub.schedule, runAt };
}

const startOf = (o: ScheduleOutcome | undefined) => (o?.kind === 'start' ? o.start : undefined);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sched-'));
  clock = new ManualClock(Date.UTC(2026, 11, 1, 1, 0));
  store = await openStore({ kind: 'sqlite', path: join(dir, 'state.db') }, clock);
  scratch = sqliteScratch(join(dir, 'scratch.db'));
  reminders = [];
  outcomes = [];
  approvers = new Set();
});

afterEach(async () => {
  for (const e of engines.splice(0)) await e.shutdown(5000);
  await scratch.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('scheduled runs', () => {
  it('approved now, nothing runs before its time; at its time it runs once, and the start window counts from the scheduled time', async () => {
    const e = engine();
    const s = sweeper(e);
    const { op, approval, runAt } = await scheduled(e, 'c01', 60 * MIN);
    const dec = await e.approve(approval.id, BOB);
    expect(dec.start).toBeUndefined();
    expect(dec.scheduledFor).toBe(runAt);
    // the approval may start up to max(start window 10 min, grace 15 min) after the scheduled time
    expect((await store.getApproval(approval.id))?.startBy).toBe(runAt + 15 * MIN);
    clock.advance(59 * MIN);
    expect(await s.sweep()).toEqual([]);
    // a restart before its time does not start it either
    expect(await engine('replica-a').startLeftApproved()).toEqual([]);
    expect(await store.listJournal(op.id)).toEqual([]);
    expect(await scratch.counts(op.id)).toEqual({});

    clock.advance(MIN);
    const [o] = await s.sweep();
    const start = startOf(o);
    if (start?.kind !== 'started') throw new Error(`expected a start, got ${JSON.stringify(o)}`);
    expect(await start.done).toBe('succeeded');
    expect(await scratch.counts(op.id)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
    expect((await store.getSchedule(String((await store.getOperation(op.id))?.detail.scheduleId)))?.state).toBe('done');
    expect(await s.sweep()).toEqual([]);
    const kinds = (await store.listAudit({ operationId: op.id })).map((a) => a.kind);
    expect(kinds.filter((k) => k === 'operation.started')).toHaveLength(1);
    expect(kinds).toEqual(expect.arrayContaining(['schedule.created', 'schedule.approved', 'schedule.claimed', 'schedule.done']));
  });

  it('reminds the thread once, the reminder time before the start, and not for a run asked for sooner than that', async () => {
    const e = engine();
    const s = sweeper(e);
    const far = await scheduled(e, 'c01', 60 * MIN);
    const near = await scheduled(e, 'c02', 10 * MIN);
    await e.approve(far.approval.id, BOB);
    await e.approve(near.approval.id, BOB);
    clock.advance(44 * MIN);
    await s.sweep();
    expect(reminders).toEqual([]);
    clock.advance(2 * MIN);
    await s.sweep();
    await s.sweep();
    await sweeper(engine('replica-b')).sweep();
    expect(reminders).toEqual([`${far.op.id}@${far.runAt}`]);
  });

  it('found within the grace period (no bot ran at its time): it starts, late', async () => {
    const e = engine();
    const { op, approval, runAt } = await scheduled(e, 'c01', 30 * MIN);
    await e.approve(approval.id, BOB);
    clock.set(runAt + 14 * MIN);
    const [o] = await sweeper(e).sweep();
    const start = startOf(o);
    if (start?.kind !== 'started') throw new Error(`expected a start, got ${JSON.stringify(o)}`);
    expect(await start.done).toBe('succeeded');
    expect((await store.listAudit({ operationId: op.id })).find((a) => a.kind === 'schedule.claimed')?.payload.late).toBe(14 * MIN);
  });

  it('missed beyond the grace period: reported, never run, the approval void and the operation expired', async () => {
    const e = engine();
    const { op, approval, runAt } = await scheduled(e, 'c01', 30 * MIN);
    await e.approve(approval.id, BOB);
    clock.set(runAt + 16 * MIN);
    const [o] = await sweeper(engine('replica-b')).sweep();
    expect(o?.kind).toBe('missed');
    expect(outcomes.map((x) => x.kind)).toEqual(['missed']);
    expect((await store.getOperation(op.id))?.state).toBe('expired');
    expect((await store.getApproval(approval.id))?.state).toBe('void');
    expect(await store.listJournal(op.id)).toEqual([]);
    expect(await scratch.counts(op.id)).toEqual({});
    expect((await store.listSchedules({ states: ['missed'] })).map((x) => x.operationId)).toEqual([op.id]);
    expect(await e.startLeftApproved()).toEqual([]);
  });

  it('drift between the approval and the start: the approval is void, the new plan asks again, nothing runs', async () => {
    const e = engine();
    const { op, approval, runAt } = await scheduled(e, 'c03', 5 * MIN);
    await e.approve(approval.id, BOB);
    await scratch.addInstance('c03', 'vm-new');
    clock.set(runAt);
    const [o] = await sweeper(e).sweep();
    const start = startOf(o);
    if (start?.kind !== 'drift') throw new Error(`expected drift, got ${JSON.stringify(o)}`);
    expect(start.differences).toContain('resolved.instances: added "vm-new"');
    expect((await store.getApproval(approval.id))?.state).toBe('void');
    expect(start.approval?.state).toBe('pending');
    expect((await store.getOperation(op.id))?.state).toBe('pending_approval');
    expect(await scratch.counts(op.id)).toEqual({});
    // the new approval starts it at once (its time has passed)
    const again = await e.approve(start.approval!.id, BOB);
    if (again.start?.kind !== 'started') throw new Error('expected the new approval to start it');
    expect(await again.start.done).toBe('succeeded');
  });

  it('/schedule cancel before its time: nothing runs; only the requester or an approver may cancel, and refusals are audited', async () => {
    const e = engine();
    const { op, approval, schedule, runAt } = await scheduled(e, 'c01', 30 * MIN);
    await e.approve(approval.id, BOB);
    approvers.add(BOB.userId);
    await expect(e.cancelSchedule(schedule.id, CAROL)).rejects.toBeInstanceOf(NotAuthorizedError);
    const r = await e.cancelSchedule(schedule.id, BOB);
    expect(r.schedule.state).toBe('cancelled');
    expect(r.op?.state).toBe('cancelled');
    expect((await store.getApproval(approval.id))?.state).toBe('void');
    await expect(e.cancelSchedule(schedule.id, ALICE)).rejects.toThrow(/is cancelled/);
    clock.set(runAt + MIN);
    expect(await sweeper(e).sweep()).toEqual([]);
    expect(await e.startLeftApproved()).toEqual([]);
    expect(await scratch.counts(op.id)).toEqual({});
    const audit = (await store.listAudit({ operationId: op.id })).map((a) => `${a.kind}:${a.actor}`);
    expect(audit).toEqual(
      expect.arrayContaining([`schedule.cancel_refused:${CAROL.userId}@${CAROL.teamId}`, `schedule.cancelled:${BOB.userId}@${BOB.teamId}`]),
    );
  });

  it('due while still waiting for its approval: nothing runs; an approval within the grace period starts it at once', async () => {
    const e = engine();
    const { op, approval, runAt } = await scheduled(e, 'c01', 5 * MIN);
    clock.set(runAt + MIN);
    expect((await sweeper(e).sweep()).map((o) => o.kind)).toEqual(['waiting-approval']);
    expect(await scratch.counts(op.id)).toEqual({});
    const dec = await e.approve(approval.id, BOB);
    if (dec.start?.kind !== 'started') throw new Error('expected a start');
    expect(await dec.start.done).toBe('succeeded');
    expect((await store.listSchedules({ states: ['done'] })).map((s) => s.operationId)).toEqual([op.id]);
  });

  it('a rejected request cancels its schedule', async () => {
    const e = engine();
    const { approval, schedule } = await scheduled(e, 'c01', 30 * MIN);
    await e.reject(approval.id, BOB, 'not tonight');
    expect((await store.getSchedule(schedule.id))?.state).toBe('cancelled');
  });

  it('two replicas sweeping at the same moment: one claim, one start, one run', async () => {
    const a = engine('replica-a');
    const b = engine('replica-b');
    const { op, approval, runAt } = await scheduled(a, 'c01', 30 * MIN);
    await a.approve(approval.id, BOB);
    clock.set(runAt);
    const results = (await Promise.all([sweeper(a).sweep(), sweeper(b).sweep(), sweeper(a).sweep(), sweeper(b).sweep()])).flat();
    const starts = results.map(startOf).filter((s) => s?.kind === 'started');
    expect(starts).toHaveLength(1);
    if (starts[0]?.kind === 'started') expect(await starts[0].done).toBe('succeeded');
    const audit = await store.listAudit({ operationId: op.id });
    expect(audit.filter((x) => x.kind === 'schedule.claimed')).toHaveLength(1);
    expect(audit.filter((x) => x.kind === 'operation.started')).toHaveLength(1);
    expect(await scratch.counts(op.id)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
  });
});
