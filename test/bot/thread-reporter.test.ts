/**
 * The thread reporter through the real @slack/web-api WebClient against the Slack stand-in, fed by
 * the real engine running the scratch runbook on a SQLite store. Time of the reporter is virtual
 * (ManualScheduler); the runner runs in real time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fanOut, type OperationEvent, type Reporter } from '../../engine/reporter.js';
import { ManualClock } from '../../core/clock.js';
import { checkBlocks, SlackStandin } from '../../slack-standin/index.js';
import { ThreadReporter } from '../../bot/thread-reporter.js';
import { ThreadReporters } from '../../bot/thread-reporters.js';
import { BOB, openFixture, scratchCommand, type Fixture } from '../engine/helpers/engine-fixture.js';
import { ManualScheduler } from '../engine/helpers/manual-scheduler.js';
import { waitFor } from '../helpers/wait-for.js';

const CHANNEL = 'C0OPS0001';
let dir: string;
let client: WebClient;
let standin: SlackStandin;
let vclock: ManualClock;
let sched: ManualScheduler;
let fx: Fixture;
let reporter: ThreadReporter | undefined;
let extra: Reporter | undefined;
let gate: ((stepId: string) => Promise<void>) | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reporter-'));
  vclock = new ManualClock(Date.UTC(2026, 10, 25, 12));
  sched = new ManualScheduler(vclock);
  standin = await new SlackStandin({ clock: vclock }).start();
  client = new WebClient(standin.botToken, { slackApiUrl: standin.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  reporter = undefined;
  extra = undefined;
  gate = undefined;
  fx = await openFixture(
    { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') },
    {
      reporterFor: () => {
        reporter = new ThreadReporter({ chat: client.chat, channel: CHANNEL, scheduler: sched });
        return extra ? fanOut(extra, reporter) : reporter;
      },
      gate: async (stepId) => gate?.(stepId),
    },
  );
});
afterEach(async () => {
  reporter?.close();
  await fx.close();
  await standin.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function runScratch(args: Record<string, unknown>): Promise<{ opId: string; end: string }> {
  const sub = await fx.engine.submit(scratchCommand(args));
  if (sub.kind !== 'needs-approval') throw new Error('expected approval');
  const dec = await fx.engine.approve(sub.approval.id, BOB);
  if (dec.start?.kind !== 'started') throw new Error('expected start');
  return { opId: sub.operation.id, end: await dec.start.done };
}

/** Moves virtual time in steps until `pred` holds (HTTP calls complete in real time in between). */
async function drive(pred: () => boolean, stepMs: number, maxSteps = 2000): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (pred()) return;
    sched.advance(stepMs);
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('condition not reached');
}

const card = () => standin.workspace.messages(CHANNEL)[0];
const replies = () => (card() ? standin.workspace.thread(CHANNEL, card()!.ts).filter((m) => m.ts !== card()!.ts) : []);
const calls = (status?: number) => standin.workspace.calls.filter((c) => c.method.startsWith('chat.') && (status === undefined || c.status === status));

describe('thread reporter', () => {
  it('a long run stays one card and one summary: progress coalesced, edits throttled, final state shown', async () => {
    const { end } = await runScratch({ host: 'c01', progress: 500 });
    expect(end).toBe('succeeded');
    await drive(() => replies().length >= 1 && (card()?.text.includes('succeeded') ?? false), 500);
    await drive(() => reporter!.stats.edits > 0 && sched.pending === 0, 500);
    expect(standin.workspace.messages(CHANNEL)).toHaveLength(1);
    expect(replies()).toHaveLength(1);
    expect(replies()[0]!.text).toMatch(/succeeded in/);
    // 500 progress events and 10 step events became at most a couple of edits, 2 s apart or more.
    const edits = calls().filter((c) => c.method === 'chat.update');
    expect(edits.length).toBeLessThanOrEqual(2);
    const posted = calls().find((c) => c.method === 'chat.postMessage')!.at;
    [posted, ...edits.map((e) => e.at)].forEach((t, i, all) => i > 0 && expect(t - all[i - 1]!).toBeGreaterThanOrEqual(2000));
    const text = JSON.stringify(card()!.blocks);
    expect(text).toContain('5/5 steps');
    expect(text).toContain('Approved by <@U0BOB>');
    expect(text).toContain('Asked by <@U0ALICE>');
    expect(standin.workspace.problems).toEqual([]);
  });

  it('failures get a reply with command, exit status and output tail; the card says failed', async () => {
    const { end } = await runScratch({ host: 'c02', fail: 'write-2' });
    expect(end).toBe('failed');
    await drive(() => replies().length >= 2 && (card()?.text.includes('failed') ?? false), 500);
    const failure = JSON.stringify(replies()[0]!.blocks);
    expect(failure).toContain('Write row 2');
    expect(failure).toContain('sh -c exit 3');
    expect(failure).toContain('Exit status: 3');
    expect(failure).toContain('no space left on device');
    expect(replies()[1]!.text).toMatch(/failed in/);
    for (const m of [card()!, ...replies()]) expect(checkBlocks(m.blocks)).toEqual([]);
  });

  it('a 429 storm (Retry-After: 30 for ten minutes) delays no step; the final status arrives after it', async () => {
    standin.injectRateLimit({ retryAfterSec: 30, forMs: 10 * 60_000 });
    const stepTimes: number[] = [];
    extra = { emit: (e: OperationEvent) => void (e.type.startsWith('step-') && e.type !== 'step-progress' ? stepTimes.push(performance.now()) : undefined) };
    // Hold write-1 until Slack has refused the reporter at least once: the storm is on mid-run.
    gate = async (stepId) => {
      if (stepId === 'write-1') await waitFor('a refused Slack call', () => calls(429).length > 0);
    };
    const { end } = await runScratch({ host: 'c03', progress: 200 });
    // The rest of the run happened while Slack refused every call: the runner never waited for it.
    expect(end).toBe('succeeded');
    expect(calls(200)).toHaveLength(0);
    expect(calls(429).length).toBeGreaterThan(0);
    const gaps = stepTimes.slice(1).map((t, i) => t - stepTimes[i]!);
    console.info(
      `429 storm: ${stepTimes.length} step events, longest gap between them ${Math.max(...gaps).toFixed(1)} ms, run ended with ${calls(429).length} refused Slack calls`,
    );
    await drive(() => replies().length >= 1 && (card()?.text.includes('succeeded') ?? false), 5_000, 400);
    // It waited as told instead of hammering: about one call per Retry-After during the storm.
    expect(calls(429).length).toBeLessThanOrEqual(25);
    expect(standin.workspace.messages(CHANNEL)).toHaveLength(1);
    expect(vclock.now()).toBeGreaterThanOrEqual(Date.UTC(2026, 10, 25, 12) + 10 * 60_000);
  });

  it('an outage (HTTP 500s) is retried with back-off and everything still arrives in order', async () => {
    standin.inject5xx({ count: 6 });
    const { end } = await runScratch({ host: 'c04', fail: 'write-3' });
    expect(end).toBe('failed');
    await drive(() => replies().length >= 2 && (card()?.text.includes('failed') ?? false), 1000);
    expect(calls(500)).toHaveLength(6);
    expect(replies().map((m) => m.text)).toEqual([expect.stringContaining('Write row 3 failed'), expect.stringMatching(/failed in/)]);
  });

  it('every audit entry is written before the matching Slack message', async () => {
    const db = new Database(join(dir, 'state.db'), { readonly: true });
    const missing: string[] = [];
    const kindOf: Partial<Record<OperationEvent['type'], string>> = { 'step-started': 'step.start', 'step-finished': 'step.end', 'step-failed': 'step.failed' };
    extra = {
      emit: (e) => {
        const kind = kindOf[e.type];
        if (!kind || !('stepId' in e)) return;
        // Read synchronously at the moment of the event, before the reporter can post anything.
        const row = db.prepare("SELECT 1 FROM audit WHERE kind = ? AND json_extract(payload, '$.stepId') = ?").get(kind, e.stepId);
        if (!row) missing.push(`${kind} ${e.stepId}`);
      },
    };
    await runScratch({ host: 'c05', fail: 'write-3' });
    db.close();
    expect(missing).toEqual([]);
  });

  it('after a restart the run continues in the same thread and edits the same card', async () => {
    const where = { store: { kind: 'sqlite' as const, path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
    const threads = (store: () => Fixture['store']) =>
      new ThreadReporters({ chat: client.chat, scheduler: sched, rememberCard: (opId, ts) => store().updateOperation(opId, { cardTs: ts, threadTs: ts }, {}) });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const t1 = threads(() => a.store);
    const a = await openFixture(where, { reporterFor: (op) => t1.reporterFor(op), gate: (id) => (id === 'write-2' ? held : Promise.resolve()) });
    const sub = await a.engine.submit(scratchCommand({ host: 'c06' }));
    if (sub.kind !== 'needs-approval') throw new Error('expected approval');
    const dec = await a.engine.approve(sub.approval.id, BOB);
    if (dec.start?.kind !== 'started') throw new Error('expected start');
    await drive(() => card() !== undefined, 500);
    await waitFor('card ts stored', async () => (await a.store.getOperation(sub.operation.id))?.cardTs === card()!.ts);
    const stopping = a.engine.shutdown(10_000);
    release();
    expect(await stopping).toBe(true);
    expect(await dec.start.done).toBe('interrupted');
    await a.close();

    const t2 = threads(() => b.store);
    const b = await openFixture(where, { reporterFor: (op) => t2.reporterFor(op) });
    const runs = await b.engine.reconcileOnStartup();
    expect(await runs[0]!.done).toBe('succeeded');
    await drive(() => card()?.text.includes('succeeded') ?? false, 500);
    expect(standin.workspace.messages(CHANNEL)).toHaveLength(1);
    await b.close();
  });

  it('an end a killed process wrote but never showed is told at the next start: the card says failed, the failure is not replied twice', async () => {
    const where = { store: { kind: 'sqlite' as const, path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
    const threads = (store: () => Fixture['store'], engine: () => Fixture['engine']) =>
      new ThreadReporters({
        chat: client.chat,
        scheduler: sched,
        rememberCard: (opId, ts) => store().updateOperation(opId, { cardTs: ts, threadTs: ts }, {}),
        rememberReported: (opId, endedAt) => engine().markReported(opId, endedAt),
      });
    // The first process: its thread shows the start and the failure reply; the 'finished' event is
    // lost (the process died after writing the end state), which a reporter that drops it stands for.
    const t1 = threads(
      () => a.store,
      () => a.engine,
    );
    const a = await openFixture(where, {
      reporterFor: (op) => {
        const r = t1.reporterFor(op);
        return { emit: (e) => (e.type === 'finished' ? undefined : r.emit(e)) };
      },
    });
    const sub = await a.engine.submit(scratchCommand({ host: 'c07', fail: 'write-2' }));
    if (sub.kind !== 'needs-approval') throw new Error('expected approval');
    const dec = await a.engine.approve(sub.approval.id, BOB);
    if (dec.start?.kind !== 'started') throw new Error('expected start');
    expect(await dec.start.done).toBe('failed');
    await drive(() => replies().length === 1, 500);
    await waitFor('card ts stored', async () => (await a.store.getOperation(sub.operation.id))?.cardTs === card()!.ts);
    expect(card()!.text).toMatch(/: running/);
    await a.close();

    const t2 = threads(
      () => b.store,
      () => b.engine,
    );
    const b = await openFixture(where, { reporterFor: (op) => t2.reporterFor(op) });
    expect(await b.engine.reconcileOnStartup()).toEqual([]);
    expect(await b.engine.reportUnreported()).toEqual([sub.operation.id]);
    await drive(() => /: failed/.test(card()?.text ?? '') && replies().length === 2, 500);
    expect(standin.workspace.messages(CHANNEL)).toHaveLength(1);
    expect(replies().map((m) => (m.text.match(/failed in/) ? 'summary' : 'failure'))).toEqual(['failure', 'summary']);
    expect(JSON.stringify(replies()[0]!.blocks)).toContain('Write row 2');
    let recorded = false;
    await drive(() => {
      void b.store.getOperation(sub.operation.id).then((op) => (recorded = op?.detail.reportedAt !== undefined));
      return recorded;
    }, 500);
    expect(await b.engine.reportUnreported()).toEqual([]);
    await b.close();
  });
});
