/**
 * kill -9 at every phase of every step of the scratch runbook, in a child process, on a real SQLite
 * file and on MariaDB; then a restarted child reconciles. Afterwards: no completed step ran again
 * (the scratch table holds each effect at most once), every in-doubt step was reconciled or put in
 * front of an operator (and resuming it goes through a new approval), and the approval that started
 * the run cannot start it again.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_PHASES, type CrashPhase } from '../../engine/crash-points.js';
import type { OperationEvent } from '../../engine/reporter.js';
import { SCRATCH_STEPS } from '../fixtures/runbooks/scratch-runbook.js';
import { ALICE, BOB, openFixture, type FixtureWhere } from './helpers/engine-fixture.js';
import { waitFor } from '../helpers/wait-for.js';

const CHILD = join(import.meta.dirname, '../fixtures/runbooks/crash-child.ts');
const ALL_ONCE = Object.fromEntries(SCRATCH_STEPS.map((s) => [s.id, 1]));

interface ChildOut {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: OperationEvent[];
  result: unknown;
  told: unknown;
  stderr: string;
}

function child(where: FixtureWhere, env: Record<string, string>): Promise<ChildOut> {
  return new Promise((resolve) => {
    const p = execFile(
      process.execPath,
      ['--import', 'tsx', CHILD],
      { env: { ...process.env, CRASH_FIXTURE: JSON.stringify(where), ...env }, timeout: 30_000 },
      (_err, stdout, stderr) => {
        const lines = stdout.split('\n');
        const events = lines.filter((l) => l.startsWith('EVENT ')).map((l) => JSON.parse(l.slice(6)) as OperationEvent);
        const res = lines.find((l) => l.startsWith('RESULT '));
        const told = lines.find((l) => l.startsWith('TOLD '));
        resolve({
          code: p.exitCode,
          signal: p.signalCode,
          events,
          result: res ? JSON.parse(res.slice(7)) : undefined,
          told: told ? JSON.parse(told.slice(5)) : undefined,
          stderr,
        });
      },
    );
  });
}

const cases = SCRATCH_STEPS.flatMap((s) => CRASH_PHASES.map((phase) => [s.id, phase] as [string, CrashPhase]));

async function crashAndRestart(where: FixtureWhere, stepId: string, phase: CrashPhase): Promise<void> {
  const first = await child(where, { CRASH_MODE: 'submit', CRASH_ARGS: JSON.stringify({ host: 'c01' }), CHATOPS_CRASH_AT: `${stepId}:${phase}` });
  expect(first.signal, first.stderr).toBe('SIGKILL');
  const second = await child(where, { CRASH_MODE: 'restart' });
  expect(second.code, second.stderr).toBe(0);

  const fx = await openFixture(where);
  try {
    const [op] = await fx.store.listOperations({});
    expect(op).toBeDefined();
    const opId = op!.id;
    const journal = await fx.store.listJournal(opId);
    const counts = await fx.scratch.counts(opId);
    for (const c of Object.values(counts)) expect(c).toBeLessThanOrEqual(1);
    // No step has two completed attempts; attempts after the first exist only after a reconciled "not done".
    for (const s of SCRATCH_STEPS) expect(journal.filter((e) => e.stepId === s.id && e.status === 'ok').length).toBeLessThanOrEqual(1);
    const mine = journal.filter((e) => e.stepId === stepId);
    const blind = stepId === 'destroy';
    const doubtful = phase === 'after-intent' || phase === 'after-effect';

    if (blind && doubtful) {
      // Cannot be read back: offered to an operator, not repeated.
      expect(op!.state).toBe('in_doubt');
      expect(second.events.some((e) => e.type === 'in-doubt' && e.stepId === 'destroy')).toBe(true);
      expect(second.events.at(-1)).toMatchObject({ type: 'finished', state: 'needs-operator' });
      expect(counts.destroy ?? 0).toBe(phase === 'after-effect' ? 1 : 0);
      expect(mine.map((e) => e.status)).toEqual([null]);
      expect((await fx.store.listLocks()).map((l) => l.operationId)).toEqual([opId]);
      // Resume is an approved continuation: a new request, approved by someone else.
      const request = await fx.engine.resume(opId, ALICE, phase === 'after-effect' ? 'mark-done' : 'rerun');
      expect(request?.purpose).toBe('resume');
      const dec = await fx.engine.approve(request!.id, BOB);
      if (dec.start?.kind !== 'started') throw new Error(`expected a start: ${JSON.stringify(dec.start)}`);
      expect(await dec.start.done).toBe('succeeded');
      expect(await fx.scratch.counts(opId)).toEqual(ALL_ONCE);
    } else {
      expect(second.result).toEqual([{ opId, end: 'succeeded' }]);
      expect(counts).toEqual(ALL_ONCE);
      if (phase === 'after-intent') {
        expect(mine.map((e) => [e.attempt, e.status, e.reconciled])).toEqual([
          [1, 'failed', true],
          [2, 'ok', false],
        ]);
      } else if (phase === 'after-effect') {
        expect(mine.map((e) => [e.attempt, e.status, e.reconciled])).toEqual([[1, 'ok', true]]);
      } else {
        expect(mine.map((e) => [e.attempt, e.status, e.reconciled])).toEqual([[1, 'ok', false]]);
      }
      if (doubtful)
        expect((await fx.store.listAudit({ operationId: opId })).some((a) => a.kind === 'step.reconciled' && a.payload.stepId === stepId)).toBe(true);
      // Steps that completed before the crash were not started again after it.
      const before = SCRATCH_STEPS.slice(
        0,
        SCRATCH_STEPS.findIndex((s) => s.id === stepId),
      ).map((s) => s.id);
      for (const id of before) expect(second.events.some((e) => e.type === 'step-started' && e.stepId === id)).toBe(false);
    }
    // The approval that started the run is spent.
    const approvals = await fx.store.listApprovals({ operationId: opId });
    expect(approvals.find((a) => a.purpose === 'start')?.consumedAt).not.toBeNull();
    const again = await fx.engine.start(opId, BOB);
    expect(again.kind).toBe('refused');
    expect((await fx.store.getOperation(opId))?.state).toBe('succeeded');
    expect(await fx.store.listLocks()).toEqual([]);
  } finally {
    await fx.close();
  }
}

describe('crash points on SQLite', () => {
  it.each(cases)('kill -9 at %s:%s, restart', async (stepId, phase) => {
    const dir = mkdtempSync(join(tmpdir(), 'crash-'));
    try {
      await crashAndRestart({ store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') }, stepId, phase);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('all four phases of one step in one operation', () => {
  it('kill -9 at before-intent, after-intent, after-effect, then after-result of its reconciliation: done once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crash-'));
    const where: FixtureWhere = { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
    try {
      const first = await child(where, { CRASH_MODE: 'submit', CRASH_ARGS: JSON.stringify({ host: 'c01' }), CHATOPS_CRASH_AT: 'write-2:before-intent' });
      expect(first.signal, first.stderr).toBe('SIGKILL');
      for (const phase of ['after-intent', 'after-effect', 'after-result'] as const) {
        const next = await child(where, { CRASH_MODE: 'restart', CHATOPS_CRASH_AT: `write-2:${phase}` });
        expect(next.signal, `${phase}: ${next.stderr}`).toBe('SIGKILL');
      }
      const last = await child(where, { CRASH_MODE: 'restart' });
      const fx = await openFixture(where);
      try {
        const [op] = await fx.store.listOperations({});
        expect(last.result).toEqual([{ opId: op!.id, end: 'succeeded' }]);
        expect(await fx.scratch.counts(op!.id)).toEqual(ALL_ONCE);
        const mine = (await fx.store.listJournal(op!.id)).filter((e) => e.stepId === 'write-2');
        // Attempt 1 was killed after its intent (found not done); attempt 2 after its effect (found done).
        expect(mine.map((e) => [e.attempt, e.status, e.reconciled])).toEqual([
          [1, 'failed', true],
          [2, 'ok', true],
        ]);
      } finally {
        await fx.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a kill after the end state is written, before the thread says so', () => {
  it.each([
    ['succeeded', {}],
    ['failed', { fail: 'write-2' }],
  ] as const)('the next start-up tells the end (%s) from the store, once; nothing runs again', async (end, args) => {
    const dir = mkdtempSync(join(tmpdir(), 'crash-'));
    const where: FixtureWhere = { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
    try {
      const first = await child(where, { CRASH_MODE: 'submit', CRASH_ARGS: JSON.stringify({ host: 'c01', ...args }), CHATOPS_CRASH_AT: '@end:after-result' });
      expect(first.signal, first.stderr).toBe('SIGKILL');
      expect(first.events.some((e) => e.type === 'finished')).toBe(false);
      const fx = await openFixture(where);
      const [op] = await fx.store.listOperations({});
      const counts = await fx.scratch.counts(op!.id);
      await fx.close();
      expect(op!.state).toBe(end);

      const second = await child(where, { CRASH_MODE: 'restart' });
      expect(second.code, second.stderr).toBe(0);
      expect(second.result).toEqual([]); // nothing was running
      expect(second.told).toEqual([op!.id]);
      // The card rebuilt from the journal: after write-2 failed only the cleanup ran.
      const steps = end === 'succeeded' ? SCRATCH_STEPS.map((s) => `${s.id} ok`) : ['write-1 ok', 'write-2 failed', 'cleanup ok'];
      expect(
        second.events
          .filter((e) => e.type === 'step-finished' || e.type === 'step-failed')
          .map((e) => `${e.stepId} ${e.type === 'step-failed' ? 'failed' : e.outcome}`),
      ).toEqual(steps);
      expect(second.events[0]).toMatchObject({ type: 'started', replay: true });
      expect(second.events.at(-1)).toMatchObject({ type: 'finished', state: end });
      if (end === 'failed') expect(second.events.find((e) => e.type === 'step-failed')).toMatchObject({ stepId: 'write-2' });

      // Told once: the next start-up has nothing to tell, and nothing ran in either.
      const third = await child(where, { CRASH_MODE: 'restart' });
      expect(third.told).toEqual([]);
      expect(third.events).toEqual([]);
      const fx2 = await openFixture(where);
      try {
        expect(await fx2.scratch.counts(op!.id)).toEqual(counts);
      } finally {
        await fx2.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('crash points on MariaDB', () => {
  let admin: mysql.Connection;
  const prefix = `t5crash_${randomBytes(4).toString('hex')}`;
  const made: string[] = [];
  beforeAll(async () => {
    admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
  });
  afterAll(async () => {
    for (const db of made) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await admin.end();
  });
  it.each(cases)('kill -9 at %s:%s, restart', async (stepId, phase) => {
    const n = made.length;
    const [storeDb, scratchDb] = [`${prefix}_${n}_store`, `${prefix}_${n}_scratch`];
    made.push(storeDb, scratchDb);
    for (const db of [storeDb, scratchDb]) await admin.query(`CREATE DATABASE \`${db}\``);
    await crashAndRestart(
      { store: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', database: storeDb }, scratch: `mysql:${scratchDb}` },
      stepId,
      phase,
    );
    for (const db of [storeDb, scratchDb]) await admin.query(`DROP DATABASE \`${db}\``);
  });
});

describe('crash during the cleanup of a failed run', () => {
  it.each(['before-intent', 'after-intent'] as const)(
    'kill -9 at cleanup:%s after write-2 failed: the failed step is not retried, the run ends failed',
    async (phase) => {
      const dir = mkdtempSync(join(tmpdir(), 'crash-'));
      const where: FixtureWhere = { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
      try {
        const first = await child(where, {
          CRASH_MODE: 'submit',
          CRASH_ARGS: JSON.stringify({ host: 'c01', fail: 'write-2' }),
          CHATOPS_CRASH_AT: `cleanup:${phase}`,
        });
        expect(first.signal).toBe('SIGKILL');
        const second = await child(where, { CRASH_MODE: 'restart' });
        const fx = await openFixture(where);
        try {
          const [op] = await fx.store.listOperations({});
          expect(second.result).toEqual([{ opId: op!.id, end: 'failed' }]);
          expect(await fx.scratch.counts(op!.id)).toEqual({ 'write-1': 1, cleanup: 1 });
          expect((await fx.store.listJournal(op!.id)).filter((e) => e.stepId === 'write-2').map((e) => e.status)).toEqual(['failed']);
          expect(second.events.some((e) => e.type === 'step-started' && e.stepId !== 'cleanup')).toBe(false);
        } finally {
          await fx.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('an operation in doubt waits for an operator', () => {
  it('a rejected Resume leaves it in doubt with its host locked; Abort then runs only the cleanup and frees the host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crash-'));
    const where: FixtureWhere = { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
    try {
      expect((await child(where, { CRASH_MODE: 'submit', CRASH_ARGS: JSON.stringify({ host: 'c01' }), CHATOPS_CRASH_AT: 'destroy:after-intent' })).signal).toBe(
        'SIGKILL',
      );
      expect((await child(where, { CRASH_MODE: 'restart' })).code).toBe(0);
      const fx = await openFixture(where);
      try {
        const [op] = await fx.store.listOperations({});
        const opId = op!.id;
        expect(op!.state).toBe('in_doubt');
        const request = await fx.engine.resume(opId, ALICE);
        await fx.engine.reject(request!.id, BOB, 'check the host by hand first');
        expect((await fx.store.getOperation(opId))?.state).toBe('in_doubt');
        expect((await fx.store.listLocks()).map((l) => l.operationId)).toEqual([opId]);
        const aborted = await fx.engine.abort(opId, BOB);
        expect(await aborted.done).toBe('aborted');
        expect(await fx.scratch.counts(opId)).toEqual({ 'write-1': 1, 'write-2': 1, cleanup: 1 });
        expect(await fx.store.listLocks()).toEqual([]);
        const destroy = (await fx.store.listJournal(opId)).filter((e) => e.stepId === 'destroy');
        expect(destroy.map((e) => [e.status, e.reconciled])).toEqual([['failed', true]]);
        expect(destroy[0]!.output?.abandoned).toMatch(/left as found/);
      } finally {
        await fx.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a replica that dies for good', () => {
  it('another replica adopts its operation once the lease has ended, and finishes it without repeating anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crash-'));
    const where: FixtureWhere = { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
    try {
      const first = await child(where, {
        CRASH_MODE: 'submit',
        CRASH_ARGS: JSON.stringify({ host: 'c01' }),
        CHATOPS_CRASH_AT: 'write-2:after-effect',
        CRASH_OWNER: 'replica-a',
        CRASH_LEASE_MS: '4000',
      });
      expect(first.signal).toBe('SIGKILL');
      const other = await openFixture(where, { owner: 'replica-b' });
      try {
        const [op] = await other.store.listOperations({});
        // Still leased to replica-a (with a second of margin so this cannot race the lease's end): left alone.
        if (op!.leaseUntil! - other.store.clock.now() > 1000) expect(await other.engine.reconcileOnStartup()).toEqual([]);
        await waitFor('the dead replica’s lease to end', async () => (await other.store.listOperations({ states: ['running'], claimable: true })).length === 1);
        const runs = await other.engine.reconcileOnStartup();
        expect(runs.map((r) => r.opId)).toEqual([op!.id]);
        expect(await runs[0]!.done).toBe('succeeded');
        expect(await other.scratch.counts(op!.id)).toEqual(ALL_ONCE);
        const audit = await other.store.listAudit({ operationId: op!.id });
        expect(audit.find((a) => a.kind === 'operation.reconciling')?.payload.previousOwner).toBe('replica-a');
      } finally {
        await other.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
