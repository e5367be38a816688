/**
 * The runner writes each step's intent under the store's lease fence: a replica whose lease another
 * replica took over finishes the step already in flight (its effect happened; its result is written)
 * but cannot start another one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BOB, openFixture, scratchCommand, type FixtureWhere } from './helpers/engine-fixture.js';
import { waitFor } from '../helpers/wait-for.js';

let dir: string;
let where: FixtureWhere;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fence-'));
  where = { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('a replica that lost its lease during a step writes no intent for the next step', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let entered = false;
  const gate = async (id: string) => {
    if (id !== 'write-2') return;
    entered = true;
    await held;
  };
  // A long lease: its renewal does not come round during the test, so only the fence can stop the run.
  const a = await openFixture(where, { gate, leaseMs: 600_000 });
  try {
    const sub = await a.engine.submit(scratchCommand({ host: 'c01' }));
    if (sub.kind !== 'needs-approval') throw new Error('expected approval');
    const dec = await a.engine.approve(sub.approval.id, BOB);
    if (dec.start?.kind !== 'started') throw new Error('expected start');
    await waitFor('write-2 to start', () => entered);
    // What a take-over looks like in the store: replica-a's lease ended and replica-b claimed it.
    expect(await a.store.releaseOperation(sub.operation.id, 'replica-a')).toBe(true);
    expect(await a.store.claimOperation(sub.operation.id, 'replica-b', 60_000, ['running'])).not.toBeNull();
    release();
    expect(await dec.start.done).toBe('interrupted');
    const journal = await a.store.listJournal(sub.operation.id);
    expect(journal.map((e) => `${e.stepId}:${e.status}`)).toEqual(['write-1:ok', 'write-2:ok']);
    expect(await a.scratch.counts(sub.operation.id)).toEqual({ 'write-1': 1, 'write-2': 1 });
    const op = await a.store.getOperation(sub.operation.id);
    expect([op?.owner, op?.state]).toEqual(['replica-b', 'running']);
    expect((await a.store.listAudit({ operationId: sub.operation.id })).some((e) => e.kind === 'operation.lease_lost')).toBe(true);
  } finally {
    await a.close();
  }
});
