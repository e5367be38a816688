/**
 * What a step's check read is handed to the run that follows in the same attempt (ctx.checked), so
 * a drain reads each server once before migrating it; a step without check gets nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/engine.js';
import type { ExecutableStep, Observation, Runbook } from '../../engine/runbook.js';
import { scratchRunbook, type ScratchDeps } from '../fixtures/runbooks/scratch-runbook.js';
import { BOB, openFixture, scratchCommand, type FixtureWhere } from './helpers/engine-fixture.js';
import { testApprovals } from './helpers/test-approvals.js';

let dir: string;
let where: FixtureWhere;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'checked-'));
  where = { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ctx.checked', () => {
  it("hands check's observation to run, and nothing to a step without check", async () => {
    const a = await openFixture(where);
    try {
      const got: Record<string, Observation | undefined> = {};
      const wrapped: Runbook<never, ScratchDeps> = {
        ...(scratchRunbook as unknown as Runbook<never, ScratchDeps>),
        steps: (p, d) =>
          scratchRunbook.steps(p, d).map((s, k): ExecutableStep<ScratchDeps> => {
            const { check: _c, ...rest } = s;
            return {
              ...rest,
              ...(k === 0 ? { check: async () => ({ state: 'not-done' as const, detail: 'not yet', seen: { token: 'read-once' } }) } : {}),
              run: async (ctx) => {
                got[s.id] = ctx.checked;
                return s.run(ctx);
              },
            };
          }),
      };
      const engine = new Engine<ScratchDeps>({
        store: a.store,
        approvals: testApprovals(a.store),
        runbooks: [wrapped],
        deps: { scratch: a.scratch },
        owner: 'replica-a',
        reporterFor: () => ({ emit: () => undefined }),
      });
      const sub = await engine.submit(scratchCommand({ host: 'c03' }));
      if (sub.kind !== 'needs-approval') throw new Error('expected approval');
      const dec = await engine.approve(sub.approval.id, BOB);
      if (dec.start?.kind !== 'started') throw new Error('expected start');
      expect(await dec.start.done).toBe('succeeded');
      const ids = Object.keys(got);
      expect(ids.length).toBeGreaterThan(1);
      expect(got[ids[0]!]).toEqual({ state: 'not-done', detail: 'not yet', seen: { token: 'read-once' } });
      for (const id of ids.slice(1)) expect(got[id]).toBeUndefined();
      // what check saw is not journaled
      expect(JSON.stringify(await a.store.listJournal(sub.operation.id))).not.toContain('read-once');
    } finally {
      await a.close();
    }
  });
});
