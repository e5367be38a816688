/**
 * Scheduled runs end to end through the Slack stand-in: the bot as main.ts assembles it (buildBot,
 * its bree ticker and schedule sweep), a real SQLite store whose clock the test moves, real approvals,
 * and the scratch runbook registered as `node.drain` (every side effect is one row). `in=` is
 * approved now and runs at its time; `/schedule list` shows it in UTC and relative; the requester
 * cancels one; one found beyond the grace period is reported as missed and never run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Bot } from '../../compose/build-bot.js';
import type { SlackDriver } from '../../slack-standin/driver.js';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { Message } from '../../slack-standin/workspace.js';
import { ManualClock } from '../../core/clock.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { scratchInput, scratchRunbook, type ScratchDeps } from '../fixtures/runbooks/scratch-runbook.js';
import { sqliteScratch, type Scratch } from '../fixtures/runbooks/scratch-db.js';
import { SIGNING_SECRET } from '../helpers/bot-process.js';
import { startInProcessBot } from '../helpers/in-process-bot.js';

// Every runbook's input derived from its spec refuses unknown keys: at=/in= must not reach it.
const refusingSchedule = z
  .record(z.string(), z.unknown())
  .superRefine((v, ctx) => {
    for (const k of ['at', 'in']) if (k in v) ctx.addIssue({ code: 'custom', message: `${k}= reached the runbook's input` });
  })
  .pipe(scratchInput);
const drainLike = { ...scratchRunbook, name: 'node.drain', input: refusingSchedule };
const MIN = 60_000;

describe('scheduled runs through the stand-in', () => {
  let standin: SlackStandin;
  let store: Store;
  let scratch: Scratch;
  let bot: Bot<ScratchDeps>;
  let slack: SlackDriver;
  let dir: string;
  const clock = new ManualClock(Date.now());
  const ws = () => standin.workspace;
  const text = (m: Message | undefined) => `${m?.text ?? ''} ${JSON.stringify(m?.blocks ?? [])}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sched-e2e-'));
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') }, clock);
    scratch = sqliteScratch(join(dir, 'scratch.sqlite'));
    // A long tick: the test runs the sweep itself after moving the clock (bot.sweepSchedules).
    ({ bot, slack } = await startInProcessBot<ScratchDeps>({
      standin,
      transport: 'socket',
      store,
      runbooks: [drainLike as never],
      deps: { scratch },
      owner: 'sched-e2e',
      schedules: { tickMs: 60_000, graceMs: 15 * MIN, reminderMs: 15 * MIN },
    }));
  });
  afterAll(async () => {
    await bot?.shutdown(5000);
    await store?.close();
    await scratch?.close();
    await standin?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function ask(command: string, user = 'alice'): Promise<{ card: () => Message; opId: string; scheduleId: string }> {
    // in= counts from the handler's clock (real time); the store's clock starts each test there too
    clock.set(Date.now());
    const before = ws().messages('ops').length;
    const ack = await slack.command({ user, channel: 'ops', command: '/node', text: command });
    expect(ack.timedOut).toBe(false);
    await ws().waitFor(() => ws().messages('ops').length > before, 10_000, 'the plan preview');
    const ts = ws().messages('ops').at(-1)!.ts;
    const card = () => ws().message('ops', ts)!;
    return { card, opId: /op-[a-z2-7]{12}/.exec(text(card()))![0], scheduleId: /sc-[a-z2-7]{12}/.exec(text(card()))![0] };
  }
  const approve = (card: Message) =>
    slack.click({
      user: 'bob',
      message: { channel: card.channel, ts: card.ts },
      actionId: 'approval.approve',
      value: buttonsOf(card.blocks).find((b) => b.actionId === 'approval.approve')!.value!,
    });

  it('in=1h: approved now, the card says when, nothing runs before; at its time it runs once and the card says so', async () => {
    const { card, opId, scheduleId } = await ask('drain e2e-a reason=maintenance in=1h');
    expect(text(card())).toMatch(/Scheduled for \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC \(in 1 h\)/);
    expect(buttonsOf(card().blocks).map((b) => b.actionId)).toEqual(['approval.approve', 'approval.reject', 'approval.cancel']);
    await approve(card());
    await ws().waitFor(() => buttonsOf(card().blocks).length === 0, 10_000, 'the card to lose its buttons');
    expect(text(card())).toMatch(/Approved by <@U0BOB/);
    await ws().waitFor(
      () =>
        ws()
          .thread('ops', card().ts)
          .some((m) => /It starts at .* \(in 1 h\)/.test(m.text)),
      10_000,
      'the approval reply',
    );

    await slack.command({ user: 'carol', channel: 'ops', command: '/schedule', text: 'list' });
    await ws().waitFor(
      () =>
        ws()
          .ephemerals('carol')
          .some((e) => e.text.includes('schedules') || text(e as never).includes(scheduleId)),
      10_000,
      '/schedule list',
    );
    const listed = ws()
      .ephemerals('carol')
      .map((e) => text(e as never))
      .find((t) => t.includes(scheduleId))!;
    expect(listed).toMatch(/UTC \(in (59 min|1 h)\)/);
    expect(listed).toContain(opId);

    clock.advance(59 * MIN);
    await bot.sweepSchedules();
    expect(await store.listJournal(opId)).toEqual([]);
    expect((await store.getOperation(opId))?.state).toBe('approved');

    clock.advance(2 * MIN);
    await bot.sweepSchedules();
    await ws().waitFor(() => /succeeded/.test(card().text), 20_000, 'the run to finish');
    expect(await scratch.counts(opId)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
    expect((await store.getSchedule(scheduleId))?.state).toBe('done');
  });

  it('/schedule cancel by its requester: the card says so and nothing runs at its time', async () => {
    const { card, opId, scheduleId } = await ask('drain e2e-b reason=maintenance in=30m');
    await approve(card());
    await ws().waitFor(() => buttonsOf(card().blocks).length === 0, 10_000, 'the approval');
    // dave is neither the requester nor an approver (bob and carol are)
    await slack.command({ user: 'dave', channel: 'ops', command: '/schedule', text: `cancel ${scheduleId}` });
    await ws().waitFor(
      () =>
        ws()
          .ephemerals('dave')
          .some((e) => /only <@U0ALICE.*, who asked, or an approver/.test(e.text)),
      10_000,
      `dave refused: ${JSON.stringify(
        ws()
          .ephemerals('dave')
          .map((e) => e.text),
      )}`,
    );
    await slack.command({ user: 'alice', channel: 'ops', command: '/schedule', text: `cancel ${scheduleId}` });
    await ws().waitFor(() => /cancelled by <@U0ALICE/.test(card().text), 10_000, 'the card to say cancelled');
    clock.advance(31 * MIN);
    await bot.sweepSchedules();
    expect(await scratch.counts(opId)).toEqual({});
    expect((await store.getOperation(opId))?.state).toBe('cancelled');
    expect((await store.listAudit({ operationId: opId })).map((a) => a.kind)).toEqual(
      expect.arrayContaining(['schedule.cancel_refused', 'schedule.cancelled']),
    );
  });

  it('drift at its time: the thread lists the difference, the card shows the new plan with an Approve button; nothing runs', async () => {
    const { card, opId } = await ask('drain e2e-d reason=maintenance in=10m');
    await approve(card());
    await ws().waitFor(() => buttonsOf(card().blocks).length === 0, 10_000, 'the approval');
    await scratch.addInstance('e2e-d', 'vm-late');
    clock.advance(11 * MIN);
    await bot.sweepSchedules();
    await ws().waitFor(
      () =>
        ws()
          .thread('ops', card().ts)
          .some((m) => /plan changed/.test(m.text) && m.text.includes('vm-late')),
      10_000,
      'the drift report',
    );
    const problems = () => JSON.stringify(ws().calls.filter((c) => c.method === 'chat.update' && c.result.ok !== true));
    await ws().waitFor(() => buttonsOf(card().blocks).some((b) => b.actionId === 'approval.approve'), 10_000, `the new request on the card ${problems()}`);
    expect(text(card())).toContain('(1 instances)');
    expect((await store.getOperation(opId))?.state).toBe('pending_approval');
    expect(await scratch.counts(opId)).toEqual({});
    // the new approval starts it at once (its time has passed)
    await approve(card());
    await ws().waitFor(() => /: succeeded,/.test(card().text), 20_000, 'the run after the new approval');
    expect(await scratch.counts(opId)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
  });

  it('found beyond the grace period: the thread says it was missed, nothing ran', async () => {
    const { card, opId } = await ask('drain e2e-c reason=maintenance in=10m');
    await approve(card());
    await ws().waitFor(() => buttonsOf(card().blocks).length === 0, 10_000, 'the approval');
    clock.advance(26 * MIN); // 10 min to its time, then 16 min with no sweep: beyond the 15 min grace
    await bot.sweepSchedules();
    await ws().waitFor(
      () => /Nothing was run/.test(card().text),
      10_000,
      `the missed report: ${card().text} ${JSON.stringify(
        ws()
          .thread('ops', card().ts)
          .map((m) => m.text),
      )}`,
    );
    expect(
      ws()
        .thread('ops', card().ts)
        .some((m) => /was due at .* no bot was running then/.test(m.text)),
    ).toBe(true);
    expect(await scratch.counts(opId)).toEqual({});
    expect((await store.getOperation(opId))?.state).toBe('expired');
  });
});
