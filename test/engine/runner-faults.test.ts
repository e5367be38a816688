/**
 * Faults that are not step failures: the store going away mid-step, a runbook whose steps no longer
 * match a stored plan. The run ends without an unhandled rejection, and nothing is repeated later.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/engine.js';
import type { Runbook } from '../../engine/runbook.js';
import { SCRATCH_STEPS, scratchRunbook, type ScratchDeps } from '../fixtures/runbooks/scratch-runbook.js';
import { BOB, openFixture, scratchCommand, type FixtureWhere } from './helpers/engine-fixture.js';
import { RecordingReporter } from './helpers/recording-reporter.js';
import { testApprovals } from './helpers/test-approvals.js';
import { waitFor } from '../helpers/wait-for.js';

let dir: string;
let where: FixtureWhere;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'faults-'));
  where = { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('runner faults', () => {
  it('the store going away mid-step: the run ends "interrupted", and a restart reconciles the step instead of repeating it', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered = false;
    const rec = new RecordingReporter();
    const gate = async (id: string) => {
      if (id !== 'write-2') return;
      entered = true;
      await held;
    };
    const a = await openFixture(where, { reporterFor: () => rec, gate });
    const sub = await a.engine.submit(scratchCommand({ host: 'c01' }));
    if (sub.kind !== 'needs-approval') throw new Error('expected approval');
    const dec = await a.engine.approve(sub.approval.id, BOB);
    if (dec.start?.kind !== 'started') throw new Error('expected start');
    await waitFor('write-2 to start', () => entered);
    await a.store.close();
    release();
    expect(await dec.start.done).toBe('interrupted');
    expect(rec.of('finished').at(-1)?.detail).toMatch(/could not go on/);
    await a.scratch.close();

    const b = await openFixture(where);
    try {
      const runs = await b.engine.reconcileOnStartup();
      expect(await runs[0]!.done).toBe('succeeded');
      expect(await b.scratch.counts(sub.operation.id)).toEqual(Object.fromEntries(SCRATCH_STEPS.map((s) => [s.id, 1])));
      expect((await b.store.listJournal(sub.operation.id)).filter((e) => e.stepId === 'write-2').map((e) => [e.status, e.reconciled])).toEqual([['ok', true]]);
    } finally {
      await b.close();
    }
  });

  it('a runbook whose steps no longer match the stored plan puts the operation in front of an operator', async () => {
    const a = await openFixture(where);
    try {
      const sub = await a.engine.submit(scratchCommand({ host: 'c02' }));
      if (sub.kind !== 'needs-approval') throw new Error('expected approval');
      // The same approved operation, run by a bot version whose runbook lost a step.
      const changed: Runbook<never, ScratchDeps> = {
        ...(scratchRunbook as unknown as Runbook<never, ScratchDeps>),
        steps: (p, d) => scratchRunbook.steps(p, d).slice(1),
      };
      const other = new Engine<ScratchDeps>({
        store: a.store,
        approvals: testApprovals(a.store),
        runbooks: [changed],
        deps: { scratch: a.scratch },
        owner: 'replica-a',
        reporterFor: () => ({ emit: () => undefined }),
      });
      const dec = await other.approve(sub.approval.id, BOB);
      if (dec.start?.kind !== 'started') throw new Error('expected start');
      expect(await dec.start.done).toBe('needs-operator');
      const op = await a.store.getOperation(sub.operation.id);
      expect(op?.state).toBe('in_doubt');
      expect(String(op?.detail.problem)).toMatch(/do not match its stored plan/);
      expect(await a.scratch.counts(sub.operation.id)).toEqual({});
    } finally {
      await a.close();
    }
  });
});
