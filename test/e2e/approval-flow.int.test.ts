/**
 * The two-person rule end to end through the Slack stand-in, over HTTP and over Socket Mode: the
 * bot as main.ts assembles it (buildBot), a real SQLite store, real approvals, and a scratch runbook
 * registered as `node.drain` whose every side effect is one row in a scratch table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../compose/build-bot.js';
import type { SlackDriver } from '../../slack-standin/driver.js';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { Message } from '../../slack-standin/workspace.js';
import { ManualClock } from '../../core/clock.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { scratchRunbook, type ScratchDeps } from '../fixtures/runbooks/scratch-runbook.js';
import { sqliteScratch, type Scratch } from '../fixtures/runbooks/scratch-db.js';
import { SIGNING_SECRET } from '../helpers/bot-process.js';
import { startInProcessBot } from '../helpers/in-process-bot.js';

const drainLike = { ...scratchRunbook, name: 'node.drain' };

describe.each(['http', 'socket'] as const)('approvals over %s', (transport) => {
  let standin: SlackStandin;
  let store: Store;
  let scratch: Scratch;
  let bot: Bot<ScratchDeps>;
  let slack: SlackDriver;
  let dir: string;
  // The store's clock decides expiry; tests move it by hand (Slack signatures keep the real time).
  const clock = new ManualClock(Date.now());
  const ws = () => standin.workspace;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flow-'));
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') }, clock);
    scratch = sqliteScratch(join(dir, 'scratch.sqlite'));
    ({ bot, slack } = await startInProcessBot<ScratchDeps>({
      standin,
      transport,
      store,
      runbooks: [drainLike as never],
      deps: { scratch },
      owner: `test-${transport}`,
      breakGlass: true,
    }));
  });
  afterAll(async () => {
    await bot?.shutdown(5000);
    await store?.close();
    await scratch?.close();
    await standin?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Asks for a drain of `host` and returns the plan preview message once it is in the channel. */
  async function ask(host: string, user = 'alice'): Promise<Message> {
    const before = ws().messages('ops').length;
    const ack = await slack.command({ user, channel: 'ops', command: '/node', text: `drain ${host} reason=maintenance` });
    expect(ack.timedOut).toBe(false);
    await ws().waitFor(() => ws().messages('ops').length > before, 10_000, 'the plan preview');
    return structuredClone(ws().messages('ops').at(-1)!); // a snapshot: the stand-in edits messages in place
  }
  /** A click on `m` as it was: a client showing an old copy of the message still sends that button's value. */
  const click = (user: string, m: Message, actionId: string) =>
    slack.click({ user, message: { channel: m.channel, ts: m.ts }, actionId, value: buttonsOf(m.blocks).find((b) => b.actionId === actionId)!.value! });
  const lastEphemeral = (user: string) => ws().ephemerals(user).at(-1)?.text ?? '';
  const opIdOf = (m: Message) => /op-[a-z2-7]{12}/.exec(JSON.stringify(m.blocks))![0];

  it('shows the plan, refuses the requester and a non-approver, runs once on an eligible approval, and tells the story in the thread', async () => {
    const preview = await ask(`${transport}-a`);
    expect(JSON.stringify(preview.blocks)).toContain('INSERT INTO effects');
    expect(buttonsOf(preview.blocks).map((b) => b.actionId)).toEqual(['approval.approve', 'approval.reject', 'approval.cancel', 'approval.break_glass']);
    const opId = opIdOf(preview);

    await click('alice', preview, 'approval.approve');
    await ws().waitFor(() => /never approve|own request|asked/i.test(lastEphemeral('alice')), 10_000, 'self-approval refused');
    await click('dave', preview, 'approval.approve');
    await ws().waitFor(() => /not|approver/i.test(lastEphemeral('dave')), 10_000, 'non-approver refused');
    expect(await scratch.counts(opId)).toEqual({});

    await click('bob', preview, 'approval.approve');
    await ws().waitFor(() => ws().message('ops', preview.ts)!.text.includes('succeeded'), 20_000, 'the card to say succeeded');
    expect(await scratch.counts(opId)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
    const thread = ws().thread('ops', preview.ts);
    expect(thread.some((m) => /Approved by <@U0BOB0001>/.test(m.text))).toBe(true);
    expect(thread.length).toBeLessThanOrEqual(5); // card + a few replies, never one per step
    const card = JSON.stringify(ws().message('ops', preview.ts)!.blocks);
    expect(card).toContain('U0ALICE01'); // who asked
    expect(card).toContain('U0BOB0001'); // who approved

    // The same button again: the decision is taken, nothing runs twice.
    await click('carol', preview, 'approval.approve');
    await ws().waitFor(() => ws().ephemerals('carol').length > 0, 10_000, 'a late approval answered');
    expect(await scratch.counts(opId)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
    expect((await store.getOperation(opId))!.state).toBe('succeeded');
  });

  it('lets only the requester cancel, and then nothing runs', async () => {
    const preview = await ask(`${transport}-c`);
    const opId = opIdOf(preview);
    await click('bob', preview, 'approval.cancel');
    await ws().waitFor(() => /only <@U0ALICE01>/.test(lastEphemeral('bob')), 10_000, 'cancel by someone else refused');
    await click('alice', preview, 'approval.cancel');
    await ws().waitFor(() => /cancelled/i.test(ws().message('ops', preview.ts)!.text), 10_000, 'the card to say cancelled');
    expect((await store.getOperation(opId))!.state).toBe('cancelled');
    await click('bob', preview, 'approval.approve');
    await ws().waitFor(() => ws().ephemerals('bob').length >= 2, 10_000, 'approval of a cancelled request refused');
    expect(await scratch.counts(opId)).toEqual({});
  });

  it('asks the rejecter for a reason, keeps the dialog open on a bad one, and shows the reason', async () => {
    const preview = await ask(`${transport}-r`);
    const opId = opIdOf(preview);
    await click('bob', preview, 'approval.reject');
    await ws().waitFor(() => ws().openViews('bob').length === 1, 10_000, 'the reject dialog');
    const dialog = ws().openViews('bob')[0]!;
    const bad = await slack.submitView({ user: 'bob', viewId: dialog.id, values: { reason: { reason: 'no' } } });
    expect(JSON.stringify(bad.ackBody)).toContain('errors');
    expect(ws().openViews('bob')).toHaveLength(1);
    expect((await store.getOperation(opId))!.state).toBe('pending_approval');
    await slack.submitView({ user: 'bob', viewId: dialog.id, values: { reason: { reason: 'disks are not ready' } } });
    await ws().waitFor(
      () => /rejected by <@U0BOB0001>: disks are not ready/i.test(ws().message('ops', preview.ts)!.text),
      10_000,
      'the card to show the reason',
    );
    expect((await store.getOperation(opId))!.state).toBe('rejected');
    const audit = await store.listAudit({ operationId: opId });
    expect(audit.some((a) => a.kind === 'approval.rejected' && JSON.stringify(a.payload).includes('disks are not ready'))).toBe(true);
    expect(await scratch.counts(opId)).toEqual({});
  });

  it('expires a request nobody decided in time: the card says so and a late approval is refused', async () => {
    const preview = await ask(`${transport}-e`);
    const opId = opIdOf(preview);
    // The preview is in Slack a moment before the operation records where it is.
    for (let i = 0; i < 500 && !(await store.getOperation(opId))?.cardTs; i++) await new Promise((r) => setTimeout(r, 10));
    clock.advance(31 * 60_000); // the default pending TTL is 30 minutes
    await bot.expireDue();
    await ws().waitFor(() => /expired/i.test(ws().message('ops', preview.ts)!.text), 10_000, 'the card to say expired');
    expect((await store.getOperation(opId))!.state).toBe('expired');
    await click('bob', preview, 'approval.approve');
    await ws().waitFor(() => /expired/i.test(lastEphemeral('bob')), 10_000, 'the late approval refused');
    expect(await scratch.counts(opId)).toEqual({});
  });

  it('lets only the break-glass group run without a second person, loudly and audited', async () => {
    const preview = await ask(`${transport}-b`);
    const opId = opIdOf(preview);
    const breakGlass = async (user: string, reason: string) => {
      const before = ws().openViews(user).length;
      await click(user, preview, 'approval.break_glass');
      await ws().waitFor(() => ws().openViews(user).length > before, 10_000, 'the break-glass dialog');
      await slack.submitView({ user, viewId: ws().openViews(user).at(-1)!.id, values: { reason: { reason } } });
    };
    await breakGlass('carol', 'hypervisor on fire');
    await ws().waitFor(() => /break-glass group/.test(lastEphemeral('carol')), 10_000, 'carol refused');
    expect(await scratch.counts(opId)).toEqual({});
    await breakGlass('dave', 'hypervisor on fire');
    await ws().waitFor(
      () =>
        ws()
          .messages('ops')
          .some((m) => /Break glass.*<@U0DAVE001>.*hypervisor on fire/.test(m.text)),
      10_000,
      'the announcement in the channel',
    );
    await ws().waitFor(() => ws().message('ops', preview.ts)!.text.includes('succeeded'), 20_000, 'the run');
    expect(await scratch.counts(opId)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
    const audit = await store.listAudit({ operationId: opId, limit: 1000 });
    expect(audit.some((a) => a.kind === 'approval.break_glass')).toBe(true);
  });

  it('voids the approval when the plan changed before the run, shows the difference and asks again', async () => {
    const host = `${transport}-d`;
    const preview = await ask(host);
    const opId = opIdOf(preview);
    await scratch.addInstance(host, 'vm-new');
    await click('bob', preview, 'approval.approve');
    await ws().waitFor(
      () =>
        ws()
          .thread('ops', preview.ts)
          .some((m) => /plan changed/i.test(m.text)),
      10_000,
      'the drift reply',
    );
    expect(await scratch.counts(opId)).toEqual({});
    await ws().waitFor(() => ws().message('ops', preview.ts)!.edits.length > 0, 10_000, 'the preview to show the new plan');
    const renewed = structuredClone(ws().message('ops', preview.ts)!);
    expect(JSON.stringify(renewed.blocks)).not.toEqual(JSON.stringify(preview.blocks));
    await click('carol', renewed, 'approval.approve');
    await ws().waitFor(() => ws().message('ops', preview.ts)!.text.includes('succeeded'), 20_000, 'the run after the new approval');
    expect((await scratch.counts(opId))['write-1']).toBe(1);
  });

  it('runs exactly once under 100 concurrent Approve clicks', async () => {
    const preview = await ask(`${transport}-x`);
    const opId = opIdOf(preview);
    const clicks = Array.from({ length: 100 }, (_, i) => click(i % 2 ? 'bob' : 'carol', preview, 'approval.approve'));
    const acks = await Promise.all(clicks);
    expect(acks.every((a) => !a.timedOut)).toBe(true);
    await ws().waitFor(() => ws().message('ops', preview.ts)!.text.includes('succeeded'), 30_000, 'the run');
    expect(await scratch.counts(opId)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
    const audit = await store.listAudit({ operationId: opId, limit: 1000 });
    expect(audit.filter((a) => a.kind === 'operation.started')).toHaveLength(1);
  });
});
