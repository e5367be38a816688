/**
 * A window of steps (`ExecutableStep.window`, a drain's `parallel=N`): up to N of a group's
 * consecutive steps run at once and the next starts as soon as any ends — not a batch waiting for
 * its slowest. Each step is journaled on its own; after a failure or an abort none starts and those
 * in flight finish; the steps after the window wait for all of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChatOpsError } from '../../core/errors.js';
import type { PlanStep } from '../../core/types.js';
import { Engine } from '../../engine/engine.js';
import type { RunEnd } from '../../engine/reporter.js';
import type { ExecutableStep, Runbook } from '../../engine/runbook.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { ALICE, BOB, scratchCommand } from './helpers/engine-fixture.js';
import { testApprovals } from './helpers/test-approvals.js';

const N = 10;

interface Gate {
  started: Promise<void>;
  start(): void;
  release(outcome?: 'ok' | 'fail'): void;
  ended: Promise<'ok' | 'fail'>;
}

function gate(): Gate {
  let start!: () => void;
  let release!: (o: 'ok' | 'fail') => void;
  const started = new Promise<void>((r) => (start = r));
  const ended = new Promise<'ok' | 'fail'>((r) => (release = r));
  return { started, start, release: (o = 'ok') => release(o), ended };
}

/** What the test sees of the run: which steps run now, the most at once, the order of events. */
class Watch {
  readonly gates = new Map<string, Gate>();
  readonly running = new Set<string>();
  readonly events: string[] = [];
  most = 0;
  gateOf(id: string): Gate {
    let g = this.gates.get(id);
    if (!g) this.gates.set(id, (g = gate()));
    return g;
  }
}

const moveIds = Array.from({ length: N }, (_, k) => `move:${k}`);
const STEPS: PlanStep[] = [
  { id: 'before', title: 'Before', equivalent: ['true'], effect: 'change' },
  ...moveIds.map((id): PlanStep => ({ id, title: `Move ${id}`, equivalent: [`move ${id}`], effect: 'change' })),
  { id: 'after', title: 'After', equivalent: ['true'], effect: 'change' },
  { id: 'cleanup', title: 'Clean up', equivalent: ['true'], effect: 'change', always: true },
];

function windowRunbook(w: Watch, size: number): Runbook<never, unknown> {
  const rb: Runbook<{ host: string }, unknown> = {
    name: 'test.window',
    usage: '/test window <host>',
    input: z.object({ host: z.string() }),
    async plan(args) {
      return { target: args.host, args, resolved: {}, steps: STEPS, summary: `window on ${args.host}` };
    },
    steps: () =>
      STEPS.map((s): ExecutableStep<unknown> => ({
        ...s,
        ...(s.id.startsWith('move:') ? { window: { group: 'move', size } } : {}),
        async run(ctx) {
          w.running.add(s.id);
          w.most = Math.max(w.most, w.running.size);
          w.events.push(`start ${s.id}`);
          const g = w.gateOf(s.id);
          g.start();
          try {
            const outcome = s.id.startsWith('move:')
              ? await Promise.race([
                  g.ended,
                  new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true })),
                ])
              : 'ok';
            if (outcome === 'fail') throw new ChatOpsError('STEP_FAILED', `${s.id} failed`);
            return { did: s.id };
          } finally {
            w.running.delete(s.id);
            w.events.push(`end ${s.id}`);
          }
        },
      })),
  };
  return rb as unknown as Runbook<never, unknown>;
}

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'window-'));
  store = await openStore({ kind: 'sqlite', path: join(dir, 'state.db') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startRun(w: Watch, size: number): Promise<{ engine: Engine<unknown>; opId: string; done: Promise<RunEnd> }> {
  const engine = new Engine<unknown>({
    store,
    approvals: testApprovals(store),
    runbooks: [windowRunbook(w, size)],
    deps: {},
    owner: 'replica-a',
    reporterFor: () => ({ emit: () => undefined }),
  });
  const sub = await engine.submit(scratchCommand({ host: 'c01' }, ALICE, 'test.window'));
  if (sub.kind !== 'needs-approval') throw new Error('expected approval');
  const dec = await engine.approve(sub.approval.id, BOB);
  if (dec.start?.kind !== 'started') throw new Error('expected start');
  return { engine, opId: sub.operation.id, done: dec.start.done };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

async function journal(opId: string): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const e of await store.listJournal(opId)) out[e.stepId] = e.status;
  return out;
}

describe('a window of steps', () => {
  it('runs up to `size` at once and starts the next as soon as any one ends', async () => {
    const w = new Watch();
    const { done, opId } = await startRun(w, 3);
    await Promise.all(moveIds.slice(0, 3).map((id) => w.gateOf(id).started));
    await settle();
    expect([...w.running].sort()).toEqual(['move:0', 'move:1', 'move:2']);
    // The middle one ends: the fourth starts while the first and third still run (a batch would wait for them).
    w.gateOf('move:1').release();
    await w.gateOf('move:3').started;
    await settle();
    expect([...w.running].sort()).toEqual(['move:0', 'move:2', 'move:3']);
    expect(w.gates.has('move:4')).toBe(false);
    expect(await journal(opId)).toMatchObject({ before: 'ok', 'move:0': null, 'move:1': 'ok', 'move:2': null, 'move:3': null });
    // The rest, released as they start, last first.
    for (let k = N - 1; k >= 0; k--) void w.gateOf(moveIds[k]!).started.then(() => w.gateOf(moveIds[k]!).release());
    expect(await done).toBe('succeeded');
    expect(w.most).toBe(3);
    // `after` waited for the whole window, the slowest move included
    const firstAfter = w.events.indexOf('start after');
    for (const id of moveIds) expect(w.events.indexOf(`end ${id}`)).toBeLessThan(firstAfter);
    const j = await journal(opId);
    for (const id of [...moveIds, 'before', 'after', 'cleanup']) expect(j[id]).toBe('ok');
  });

  it('starts none after a failure; those in flight finish and are journaled; only cleanup runs after', async () => {
    const w = new Watch();
    const { done, opId } = await startRun(w, 3);
    await Promise.all(moveIds.slice(0, 3).map((id) => w.gateOf(id).started));
    w.gateOf('move:1').release('fail');
    await settle();
    expect(w.gates.has('move:3')).toBe(false);
    expect([...w.running].sort()).toEqual(['move:0', 'move:2']);
    w.gateOf('move:0').release();
    w.gateOf('move:2').release();
    expect(await done).toBe('failed');
    const j = await journal(opId);
    expect(j).toMatchObject({ 'move:0': 'ok', 'move:1': 'failed', 'move:2': 'ok', cleanup: 'ok' });
    for (const id of [...moveIds.slice(3), 'after']) expect(j[id]).toBeUndefined();
    expect(w.most).toBe(3);
  });

  it('on abort, the moves in flight get the signal, none starts, cleanup runs', async () => {
    const w = new Watch();
    const { engine, done, opId } = await startRun(w, 4);
    await Promise.all(moveIds.slice(0, 4).map((id) => w.gateOf(id).started));
    await engine.abort(opId, BOB);
    expect(await done).toBe('aborted');
    const j = await journal(opId);
    for (const id of moveIds.slice(0, 4)) expect(j[id]).toBe('failed');
    for (const id of moveIds.slice(4)) expect(j[id]).toBeUndefined();
    expect(j.cleanup).toBe('ok');
  });

  it('size 1 is one at a time, in plan order', async () => {
    const w = new Watch();
    const { done } = await startRun(w, 1);
    for (const id of moveIds) void w.gateOf(id).started.then(() => w.gateOf(id).release());
    expect(await done).toBe('succeeded');
    expect(w.most).toBe(1);
    expect(w.events.filter((e) => e.startsWith('start move')).map((e) => e.slice(6))).toEqual(moveIds);
  });
});
