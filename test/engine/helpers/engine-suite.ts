/**
 * The engine end to end on a real store and the scratch runbook: request → plan → approval → run →
 * journal; drift; concurrent clicks; failures and cleanup; host locks; abort. Run on SQLite by
 * engine.test.ts and on MariaDB by engine.int.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatOpsError } from '../../../core/errors.js';
import { ALICE, BOB, openFixture, scratchCommand, type Fixture, type FixtureWhere } from './engine-fixture.js';
import { RecordingReporter } from './recording-reporter.js';
import { renderOpList, renderOpShow } from '../../../bot/render/render-op-report.js';
import { checkBlocks } from '../../../slack-standin/index.js';

/** A place for one test's state and how to remove it. */
export interface Backend {
  where: FixtureWhere;
  cleanup(): Promise<void>;
}

/** The engine's behaviour, run against one store backend. */
export function engineSuite(name: string, backend: () => Promise<Backend>): void {
  let b: Backend;
  let fx: Fixture;
  const reporters = new Map<string, RecordingReporter>();

  beforeEach(async () => {
    b = await backend();
    reporters.clear();
    fx = await openFixture(b.where, { reporterFor: (op) => reporters.get(op.id) ?? reporters.set(op.id, new RecordingReporter()).get(op.id)! });
  });
  afterEach(async () => {
    await fx.close();
    await b.cleanup();
  });

  async function approvedRun(args: Record<string, unknown>) {
    const sub = await fx.engine.submit(scratchCommand(args));
    if (sub.kind !== 'needs-approval') throw new Error('expected an approval request');
    const dec = await fx.engine.approve(sub.approval.id, BOB);
    if (dec.start?.kind !== 'started') throw new Error(`expected a start, got ${JSON.stringify(dec.start)}`);
    return { opId: sub.operation.id, approvalId: sub.approval.id, done: dec.start.done };
  }

  describe(`engine on ${name}`, () => {
    it('request → plan → approval → run → journal, with the audit written in order and the approval used once', async () => {
      const sub = await fx.engine.submit(scratchCommand({ host: 'c01' }));
      expect(sub.kind).toBe('needs-approval');
      if (sub.kind !== 'needs-approval') return;
      expect(sub.plan.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(sub.plan.risk).toBe('destructive');
      await expect(fx.engine.approve(sub.approval.id, ALICE)).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
      const dec = await fx.engine.approve(sub.approval.id, BOB);
      expect(dec.start?.kind).toBe('started');
      if (dec.start?.kind !== 'started') return;
      expect(await dec.start.done).toBe('succeeded');

      const opId = sub.operation.id;
      expect(await fx.scratch.counts(opId)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
      const journal = await fx.store.listJournal(opId);
      expect(journal.map((e) => [e.stepId, e.attempt, e.status])).toEqual([
        ['write-1', 1, 'ok'],
        ['write-2', 1, 'ok'],
        ['destroy', 1, 'ok'],
        ['write-3', 1, 'ok'],
        ['cleanup', 1, 'ok'],
      ]);
      const op = await fx.store.getOperation(opId);
      expect(op?.state).toBe('succeeded');
      expect(op?.detail.approvers).toEqual([{ userId: BOB.userId, teamId: BOB.teamId }]);
      expect(await fx.store.listLocks()).toEqual([]);

      const kinds = (await fx.store.listAudit({ operationId: opId })).map((a) => a.kind);
      expect(kinds[0]).toBe('operation.requested');
      expect(kinds).toContain('operation.started');
      expect(kinds.filter((k) => k === 'step.start')).toHaveLength(5);
      expect(kinds).toContain('ssh.command');
      expect(kinds.at(-1)).toBe('operation.succeeded');
      expect(kinds.indexOf('ssh.command')).toBeLessThan(kinds.lastIndexOf('step.end'));

      const events = reporters.get(opId)!.events.map((e) => e.type);
      expect(events[0]).toBe('started');
      expect(events.at(-1)).toBe('finished');
      expect((await fx.store.getApproval(sub.approval.id))?.consumedAt).not.toBeNull();
      const again = await fx.engine.start(opId, BOB);
      expect(again.kind).toBe('refused');
    });

    it.each([
      ['after the approval', false],
      ['after the approval was consumed', true],
    ])('an operation a killed process left approved (%s) is started once at the next start-up, by one replica', async (_when, consumedFirst) => {
      const sub = await fx.engine.submit(scratchCommand({ host: 'c07' }));
      if (sub.kind !== 'needs-approval') throw new Error('expected an approval request');
      // What engine.approve() writes before start(): the approval approved, the operation approved.
      const now = fx.store.clock.now();
      let a = await fx.store.updateApproval(
        sub.approval.id,
        { state: 'approved', approvers: [{ ...BOB, at: now }], decidedAt: now },
        { version: sub.approval.version, state: 'pending' },
      );
      if (consumedFirst) a = await fx.store.updateApproval(sub.approval.id, { consumedAt: now }, { version: a!.version, state: 'approved' });
      expect(a).not.toBeNull();
      expect(await fx.store.updateOperation(sub.operation.id, { state: 'approved' }, { state: 'pending_approval' })).not.toBeNull();
      // The restarted process, and a second replica starting up at the same moment.
      const other = await openFixture(b.where, { owner: 'replica-b' });
      try {
        const results = (await Promise.all([fx.engine.startLeftApproved(), other.engine.startLeftApproved()])).flat();
        const started = results.filter((r) => r.kind === 'started');
        expect(started).toHaveLength(1);
        if (started[0]?.kind === 'started') expect(await started[0].done).toBe('succeeded');
        expect(await fx.scratch.counts(sub.operation.id)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
        expect((await fx.store.listApprovals({ operationId: sub.operation.id })).filter((x) => x.consumedAt !== null)).toHaveLength(1);
        expect((await fx.store.listAudit({ operationId: sub.operation.id })).filter((x) => x.kind === 'operation.started')).toHaveLength(1);
        expect(await fx.engine.startLeftApproved()).toEqual([]);
      } finally {
        await other.close();
      }
    });

    it('plan drift voids the approval, shows the difference and asks again', async () => {
      await fx.scratch.addInstance('c02', 'vm-1');
      const sub = await fx.engine.submit(scratchCommand({ host: 'c02' }));
      if (sub.kind !== 'needs-approval') throw new Error('expected approval');
      await fx.scratch.addInstance('c02', 'vm-2');
      const dec = await fx.engine.approve(sub.approval.id, BOB);
      expect(dec.start?.kind).toBe('drift');
      if (dec.start?.kind !== 'drift') return;
      expect(dec.start.differences).toContain('resolved.instances: added "vm-2"');
      expect(dec.start.differences).toContain('resolved.count: 1 → 2');
      expect((await fx.store.getApproval(sub.approval.id))?.state).toBe('void');
      const op = await fx.store.getOperation(sub.operation.id);
      expect(op?.state).toBe('pending_approval');
      expect(op?.planHash).toBe(dec.start.plan.hash);
      expect(op?.planHash).not.toBe(sub.plan.hash);
      expect(await fx.scratch.counts(sub.operation.id)).toEqual({});
      expect(dec.start.approval?.state).toBe('pending');
      const second = await fx.engine.approve(dec.start.approval!.id, BOB);
      if (second.start?.kind !== 'started') throw new Error('expected a start');
      expect(await second.start.done).toBe('succeeded');
    });

    it('100 concurrent Approve clicks and 100 concurrent starts give exactly one execution', async () => {
      const sub = await fx.engine.submit(scratchCommand({ host: 'c03' }));
      if (sub.kind !== 'needs-approval') throw new Error('expected approval');
      const clickers = Array.from({ length: 100 }, (_, i) => ({ userId: `U0CLICK${i}`, teamId: 'T0TEAM' }));
      const results = await Promise.all(clickers.map((c) => fx.engine.approve(sub.approval.id, c)));
      const started = results.filter((r) => r.start?.kind === 'started');
      expect(started).toHaveLength(1);
      const starts = await Promise.all(Array.from({ length: 100 }, () => fx.engine.start(sub.operation.id, BOB)));
      expect(starts.filter((s) => s.kind === 'started')).toHaveLength(0);
      if (started[0]!.start?.kind === 'started') expect(await started[0]!.start.done).toBe('succeeded');
      expect(await fx.scratch.counts(sub.operation.id)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
      expect((await fx.store.listJournal(sub.operation.id)).length).toBe(5);
    });

    it('a failing step stops the plan, the cleanup step still runs, and the failure carries command, exit status and output tail', async () => {
      const { opId, done } = await approvedRun({ host: 'c04', fail: 'write-2' });
      expect(await done).toBe('failed');
      expect(await fx.scratch.counts(opId)).toEqual({ 'write-1': 1, cleanup: 1 });
      const failed = reporters.get(opId)!.of('step-failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]!.failure).toMatchObject({ code: 'REMOTE_COMMAND_FAILED', command: 'sh -c exit 3', exitStatus: 3 });
      expect(failed[0]!.failure.outputTail).toContain('no space left on device');
      expect((await fx.store.getOperation(opId))?.state).toBe('failed');
      expect(await fx.store.listLocks()).toEqual([]);
    });

    it('one operation per host: the refusal names who holds the lock; abort frees it after cleanup', async () => {
      const first = await approvedRun({ host: 'c05', hang: 'write-1' });
      const sub = await fx.engine.submit(scratchCommand({ host: 'c05' }));
      if (sub.kind !== 'needs-approval') throw new Error('expected approval');
      const dec = await fx.engine.approve(sub.approval.id, BOB);
      expect(dec.start?.kind).toBe('refused');
      const err = (dec.start as { error: ChatOpsError }).error;
      expect(err.code).toBe('LOCK_HELD');
      expect(err.message).toContain(first.opId);
      expect(err.message).toContain('alice');
      expect((await fx.store.getApproval(sub.approval.id))?.consumedAt).toBeNull();

      // Someone who neither asked nor may approve cannot stop it: refused, audited, nothing changed.
      const mallory = { userId: 'U0MALLORY', teamId: 'T0ELSE', userName: 'mallory' };
      await expect(fx.engine.abort(first.opId, mallory)).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
      const audit = await fx.store.listAudit({ operationId: first.opId });
      expect(audit.filter((a) => a.actor.includes('U0MALLORY')).map((a) => a.kind)).toEqual(['operation.abort_refused']);
      expect((await fx.store.getOperation(first.opId))?.state).toBe('running');
      expect((await fx.store.getOperation(first.opId))?.detail.aborting).toBeUndefined();
      expect((await fx.engine.abort(first.opId, BOB)).kind).toBe('aborting');
      expect(await first.done).toBe('aborted');
      expect(await fx.scratch.counts(first.opId)).toEqual({ cleanup: 1 });
      expect(await fx.store.listLocks()).toEqual([]);
      const retry = await fx.engine.start(sub.operation.id, BOB);
      if (retry.kind !== 'started') throw new Error(`expected a start: ${JSON.stringify(retry)}`);
      expect(await retry.done).toBe('succeeded');
    });

    it('read-only plans need no approval and run at once', async () => {
      await fx.scratch.addInstance('c06', 'vm-9');
      const sub = await fx.engine.submit(scratchCommand({ host: 'c06' }, ALICE, 'test.peek'));
      expect(sub.kind).toBe('started');
      if (sub.kind !== 'started') return;
      expect(await sub.done).toBe('succeeded');
      const journal = await fx.store.listJournal(sub.operation.id);
      expect(journal.map((e) => [e.stepId, e.status, e.output])).toEqual([['look', 'ok', { value: { count: 1 } }]]);
      expect(await fx.store.listApprovals({ operationId: sub.operation.id })).toEqual([]);
    });

    it('refuses input that does not match the runbook schema, with its usage', async () => {
      await expect(fx.engine.submit(scratchCommand({ host: 'Bad Host!' }))).rejects.toMatchObject({
        code: 'INPUT_INVALID',
        usage: expect.stringContaining('/test scratch'),
      });
    });

    it('/op show and /op list render what the store knows, within Slack limits', async () => {
      const { opId, done } = await approvedRun({ host: 'c07', fail: 'write-3' });
      await done;
      const report = await fx.engine.show(opId);
      const shown = renderOpShow(report!);
      expect(checkBlocks(shown.blocks)).toEqual([]);
      const text = JSON.stringify(shown.blocks);
      expect(text).toContain(`\`${opId}\` is *failed*`);
      expect(text).toContain('`write-3` #1: failed');
      expect(text).toContain('*operation.requested*');
      expect(text).toContain('approved by <@U0BOB>');
      const list = renderOpList(await fx.engine.list());
      expect(JSON.stringify(list.blocks)).toContain(opId);
      expect(await fx.engine.show('op-doesnotexist')).toBeUndefined();
    });

    it('undo is its own approved operation: completed steps undone newest first with what they saved, once', async () => {
      const { opId, done } = await approvedRun({ host: 'c08', fail: 'destroy' });
      expect(await done).toBe('failed');
      const undo = await fx.engine.undo(opId, ALICE);
      if (undo.kind !== 'needs-approval') throw new Error('expected approval');
      expect(undo.plan.steps.map((s) => s.id)).toEqual(['undo:write-2', 'undo:write-1']);
      await expect(fx.engine.approve(undo.approval.id, ALICE)).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
      const dec = await fx.engine.approve(undo.approval.id, BOB);
      if (dec.start?.kind !== 'started') throw new Error(`expected a start: ${JSON.stringify(dec.start)}`);
      expect(await dec.start.done).toBe('succeeded');
      const undoOp = undo.operation.id;
      expect(await fx.scratch.counts(undoOp)).toEqual({ 'undo:write-1': 1, 'undo:write-2': 1 });
      expect((await fx.store.listJournal(undoOp)).map((e) => e.stepId)).toEqual(['undo:write-2', 'undo:write-1']);
      await expect(fx.engine.undo(opId, ALICE)).rejects.toMatchObject({ code: 'NOT_UNDOABLE', message: expect.stringContaining(undoOp) });
      const kinds = (await fx.store.listAudit({ operationId: undo.operation.id })).map((a) => a.kind);
      expect(kinds.slice(0, 3)).toEqual(['operation.requested', 'approval.refused', 'approval.approve']);
    });
  });
}
