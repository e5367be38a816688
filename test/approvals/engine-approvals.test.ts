/**
 * The real approvals module plugged into the engine (actions/engine.ts) on a SQLite store, with the
 * scratch runbook: the rules hold end to end, and 100 concurrent Approve clicks start one run whose
 * every step happens exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/engine.js';
import type { Runbook } from '../../engine/runbook.js';
import { systemClock } from '../../core/clock.js';
import type { Requester } from '../../core/types.js';
import { Approvals } from '../../approvals/approvals.js';
import { approvalsConfigSchema } from '../../approvals/approvals-config.js';
import { staticGroupResolver } from '../../approvals/group-resolver.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { sqliteScratch, type Scratch } from '../fixtures/runbooks/scratch-db.js';
import { peekRunbook, scratchRunbook, type ScratchDeps } from '../fixtures/runbooks/scratch-runbook.js';
import { scratchCommand } from '../engine/helpers/engine-fixture.js';

const person = (userId: string): Requester => ({ userId, teamId: 'T0TEAM', userName: userId });
const ALICE = person('U0ALICE');
const clickers = Array.from({ length: 100 }, (_, i) => person(`U0LEAD${String(i).padStart(3, '0')}`));

let dir: string;
let store: Store;
let scratch: Scratch;
let engine: Engine<ScratchDeps>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'engine-approvals-'));
  store = await openStore({ kind: 'sqlite', path: join(dir, 'state.db') }, systemClock);
  scratch = sqliteScratch(join(dir, 'scratch.db'));
  const approvals = new Approvals({
    store,
    config: approvalsConfigSchema.parse({
      default: { requesters: { groups: ['S0OPS'] }, approvers: { groups: ['S0LEADS'] } },
      runbooks: { 'test.scratch': { approvals: 2 } },
    }),
    groups: staticGroupResolver({ S0OPS: [ALICE.userId, 'U0OPS2'], S0LEADS: clickers.map((c) => c.userId) }),
  });
  engine = new Engine<ScratchDeps>({
    store,
    approvals,
    runbooks: [scratchRunbook as unknown as Runbook<never, ScratchDeps>, peekRunbook as unknown as Runbook<never, ScratchDeps>],
    deps: { scratch },
    owner: 'replica-a',
    reporterFor: () => ({ emit: () => undefined }),
  });
});
afterEach(async () => {
  await engine.shutdown(5000);
  await scratch.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('engine with the real approvals', () => {
  it('read-only runs at once; strangers may not ask; self-approval refused; two leads approve; each step runs once', async () => {
    expect((await engine.submit(scratchCommand({ host: 'c01' }, ALICE, 'test.peek'))).kind).toBe('started');
    await expect(engine.submit(scratchCommand({ host: 'c01' }, person('U0STRANGER')))).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
    const sub = await engine.submit(scratchCommand({ host: 'c01' }, ALICE));
    if (sub.kind !== 'needs-approval') throw new Error('expected an approval request');
    await expect(engine.approve(sub.approval.id, ALICE)).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
    const first = await engine.approve(sub.approval.id, clickers[0]!);
    expect(first.approval.state).toBe('pending');
    expect(first.start).toBeUndefined();
    const second = await engine.approve(sub.approval.id, clickers[1]!);
    if (second.start?.kind !== 'started') throw new Error(`expected a start, got ${JSON.stringify(second.start)}`);
    expect(await second.start.done).toBe('succeeded');
    expect(await scratch.counts(sub.operation.id)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
  });

  it('100 concurrent Approve clicks: exactly one run, every step exactly once', async () => {
    const sub = await engine.submit(scratchCommand({ host: 'c02' }, ALICE));
    if (sub.kind !== 'needs-approval') throw new Error('expected an approval request');
    const results = await Promise.allSettled(clickers.map((c) => engine.approve(sub.approval.id, c)));
    const starts = results.flatMap((r) => (r.status === 'fulfilled' && r.value.start ? [r.value.start] : []));
    expect(starts).toHaveLength(1);
    if (starts[0]?.kind !== 'started') throw new Error(`expected a start, got ${JSON.stringify(starts[0])}`);
    expect(await starts[0].done).toBe('succeeded');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2); // two votes counted (2 of N)
    expect(await scratch.counts(sub.operation.id)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
    expect((await store.getApproval(sub.approval.id))?.consumedAt).not.toBeNull();
  });

  it('reject with a reason ends the operation', async () => {
    const sub = await engine.submit(scratchCommand({ host: 'c03' }, ALICE));
    if (sub.kind !== 'needs-approval') throw new Error('expected an approval request');
    await engine.reject(sub.approval.id, clickers[5]!, 'not during the freeze');
    expect((await store.getOperation(sub.operation.id))?.state).toBe('rejected');
    await expect(engine.approve(sub.approval.id, clickers[6]!)).rejects.toMatchObject({ code: 'APPROVAL_DECIDED' });
    expect(await scratch.counts(sub.operation.id)).toEqual({});
  });

  it('abort: the requester or an approver of the plan; a requester-group member who may not approve is refused and audited', async () => {
    const sub = await engine.submit(scratchCommand({ host: 'c04' }, ALICE));
    if (sub.kind !== 'needs-approval') throw new Error('expected an approval request');
    // an operator who may ask (S0OPS) but not approve: not hers to stop
    const bystander = person('U0OPS2');
    await expect(engine.abort(sub.operation.id, bystander)).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
    await expect(engine.abort(sub.operation.id, person('U0STRANGER'))).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
    expect((await store.getOperation(sub.operation.id))?.state).toBe('pending_approval');
    const audit = await store.listAudit({ operationId: sub.operation.id });
    expect(audit.filter((a) => a.kind.startsWith('operation.abort')).map((a) => a.kind)).toEqual(['operation.abort_refused', 'operation.abort_refused']);
    // a lead may
    expect((await engine.abort(sub.operation.id, clickers[7]!)).kind).toBe('aborted');
    expect((await store.getOperation(sub.operation.id))?.state).toBe('aborted');
    // and the requester may stop her own
    const own = await engine.submit(scratchCommand({ host: 'c05' }, ALICE));
    expect((await engine.abort(own.operation.id, ALICE)).kind).toBe('aborted');
  });
});
