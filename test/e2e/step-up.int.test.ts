/**
 * TOTP step-up of the user-data class end to end through the Slack stand-in (issue 13): the bot as
 * main.ts assembles it, a real SQLite store, real approvals with `userData.totp`, and a scratch
 * runbook registered as `instance.inspect` (so `/instance inspect` plans without the lab: what is
 * under test is the approval, not the inspection). carol is the only user-data approver and has a
 * secret enrolled; bob approves other runbooks only. The codes are computed here with otpauth from
 * the configured secret, at the store's clock (which decides the code's validity).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Approvals } from '../../approvals/approvals.js';
import { approvalsConfigSchema } from '../../approvals/approvals-config.js';
import { parseTotpSecrets } from '../../approvals/step-up.js';
import type { Bot } from '../../compose/build-bot.js';
import { ManualClock } from '../../core/clock.js';
import type { SlackDriver } from '../../slack-standin/driver.js';
import { buttonsOf, newTriggerId } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { Message } from '../../slack-standin/workspace.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { scratchRunbook, type ScratchDeps } from '../fixtures/runbooks/scratch-runbook.js';
import { sqliteScratch, type Scratch } from '../fixtures/runbooks/scratch-db.js';
import { SIGNING_SECRET } from '../helpers/bot-process.js';
import { startInProcessBot } from '../helpers/in-process-bot.js';

const CAROL = 'U0CAROL01';
const CAROL_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DP';
const codeAt = (at: number) => new TOTP({ secret: Secret.fromBase32(CAROL_SECRET), digits: 6, period: 30 }).generate({ timestamp: at });
/** A 6-digit code that is none of the codes the window accepts at `at`. */
const wrongCodeAt = (at: number) => {
  const valid = new Set([-30_000, 0, 30_000].map((d) => codeAt(at + d)));
  for (let n = 0; ; n++) {
    const c = String((Number(codeAt(at)) + 1 + n) % 1_000_000).padStart(6, '0');
    if (!valid.has(c)) return c;
  }
};

/** `/instance inspect`'s arguments, mapped onto the scratch runbook (one row per step in a scratch table). */
const inspectLike = {
  ...scratchRunbook,
  name: 'instance.inspect',
  input: z
    .object({ instance: z.string(), reason: z.string(), path: z.string(), device: z.string() })
    .transform((a) => ({ host: `ud-${a.instance.slice(0, 8)}`, reason: a.reason })),
};

describe.each(['http', 'socket'] as const)('user-data step-up over %s', (transport) => {
  let standin: SlackStandin;
  let store: Store;
  let scratch: Scratch;
  let bot: Bot<ScratchDeps>;
  let slack: SlackDriver;
  let dir: string;
  // The store's clock decides the code's validity; the test moves it in 30 s steps.
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const ws = () => standin.workspace;
  let uuidSeq = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepup-'));
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') }, clock);
    scratch = sqliteScratch(join(dir, 'scratch.sqlite'));
    const config = approvalsConfigSchema.parse({
      default: { requesters: { channels: ['C0OPS0001'] }, approvers: { groups: ['S0APPROVE'] } },
      userData: { approvers: { users: [CAROL] }, totp: {} },
    });
    // As compose/build-approvals.ts reads them: USERID=BASE32 pairs from the environment variable.
    const totpSecrets = parseTotpSecrets(`${CAROL}=${CAROL_SECRET}`, 'CHATOPS_TOTP_SECRETS');
    ({ bot, slack } = await startInProcessBot<ScratchDeps>({
      standin,
      transport,
      store,
      runbooks: [inspectLike as never],
      deps: { scratch },
      owner: `stepup-${transport}`,
      approvals: (groups) => new Approvals({ store, config, groups, totpSecrets }),
    }));
  });
  afterAll(async () => {
    await bot?.shutdown(5000);
    await store?.close();
    await scratch?.close();
    await standin?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** alice asks for an inspection; returns the plan preview once it is in the channel. */
  async function ask(): Promise<Message> {
    const uuid = `0f1e2d3c-4b5a-6978-8796-${String(++uuidSeq).padStart(12, '0')}`;
    const before = ws().messages('ops').length;
    const ack = await slack.command({
      user: 'alice',
      channel: 'ops',
      command: '/instance',
      text: `inspect ${uuid} reason="INC-4711 read config" path=/etc/hostname`,
    });
    expect(ack.timedOut).toBe(false);
    await ws().waitFor(() => ws().messages('ops').length > before, 10_000, 'the plan preview');
    return structuredClone(ws().messages('ops').at(-1)!);
  }
  const approveValue = (m: Message) => buttonsOf(m.blocks).find((b) => b.actionId === 'approval.approve')!.value!;
  const click = (user: string, m: Message, triggerId?: string) =>
    slack.click({ user, message: { channel: m.channel, ts: m.ts }, actionId: 'approval.approve', value: approveValue(m), ...(triggerId ? { triggerId } : {}) });
  const opIdOf = (m: Message) => /op-[a-z2-7]{12}/.exec(JSON.stringify(m.blocks))![0];
  const ephemeralsOf = (user: string) =>
    ws()
      .ephemerals(user)
      .map((e) => e.text);
  /** Clicks Approve as `user` and returns the step-up modal that opened for it. */
  async function openModal(user: string, m: Message) {
    const before = ws().calls.filter((c) => c.method === 'views.open').length;
    const trigger = newTriggerId();
    await click(user, m, trigger);
    await ws().waitFor(() => ws().calls.filter((c) => c.method === 'views.open').length > before, 10_000, 'views.open');
    const call = ws()
      .calls.filter((c) => c.method === 'views.open')
      .at(-1)!;
    expect(call.args.trigger_id).toBe(trigger); // opened with the click's own trigger_id …
    expect(call.result.ok).toBe(true); // … within Slack's 3 s, once
    const view = ws().openViews(user).at(-1)!;
    expect(view.view.callback_id).toBe('approval.step_up');
    return view;
  }
  const submit = (user: string, viewId: string, code: string) => slack.submitView({ user, viewId, values: { totp: { totp: code } } });
  const approval = async (opId: string) => (await store.listApprovals({ operationId: opId }))[0]!;

  it('an ordinary approver gets no modal and approves nothing; the requester neither', async () => {
    const preview = await ask();
    const opId = opIdOf(preview);
    await click('bob', preview);
    await ws().waitFor(() => ephemeralsOf('bob').length > 0, 10_000, "bob's refusal");
    expect(ephemeralsOf('bob').at(-1)).toMatch(/Not allowed/);
    await click('alice', preview);
    await ws().waitFor(() => ephemeralsOf('alice').some((t) => /Not allowed/.test(t)), 10_000, "alice's refusal");
    expect(ws().openViews('bob')).toHaveLength(0);
    expect(ws().openViews('alice')).toHaveLength(0);
    expect((await approval(opId)).state).toBe('pending');
    expect(await scratch.counts(opId)).toEqual({});
  });

  it('opens the modal with the click’s trigger_id; a malformed code keeps it open, a wrong code approves nothing, the right code approves and runs', async () => {
    const preview = await ask();
    const opId = opIdOf(preview);
    const modal = await openModal('carol', preview);
    expect(JSON.stringify(modal.view)).toContain(opId);

    // Not 6 digits: Slack keeps the dialog open with the message under the field; nothing is asked of the engine.
    const short = await submit('carol', modal.id, '12345');
    expect(short.ackBody).toMatchObject({ response_action: 'errors', errors: { totp: 'expected the 6 digits your authenticator app shows' } });
    expect(
      ws()
        .openViews('carol')
        .map((v) => v.id),
    ).toContain(modal.id);

    // Six digits, but not carol's code now: refused with a clear message, audited, nothing approved.
    const eph0 = ephemeralsOf('carol').length;
    await submit('carol', modal.id, wrongCodeAt(clock.now()));
    await ws().waitFor(() => ephemeralsOf('carol').length > eph0, 10_000, 'the wrong-code refusal');
    expect(ephemeralsOf('carol').at(-1)).toBe(':x: Not allowed: that TOTP code is not valid now; nothing was approved');
    expect((await approval(opId)).state).toBe('pending');
    expect((await approval(opId)).approvers).toEqual([]);
    expect(await scratch.counts(opId)).toEqual({});
    const refusals = (await store.listAudit({ operationId: opId })).filter((a) => /refus/.test(a.kind));
    expect(JSON.stringify(refusals)).toContain('totp wrong');

    // A new click, a new modal, the right code: approved, and the run starts.
    const again = await openModal('carol', preview);
    await submit('carol', again.id, codeAt(clock.now()));
    await ws().waitFor(() => ws().message('ops', preview.ts)!.text.includes('succeeded'), 20_000, 'the card to say succeeded');
    expect(
      ws()
        .thread('ops', preview.ts)
        .some((m) => /Approved by <@U0CAROL01> \(TOTP checked\)/.test(m.text)),
    ).toBe(true);
    expect((await approval(opId)).state).not.toBe('pending');
    expect(await scratch.counts(opId)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
  });

  it('refuses a code already used (RFC 6238 §5.2: one use per code); the next code works', async () => {
    clock.advance(30_000);
    const first = await ask();
    const code = codeAt(clock.now());
    await submit('carol', (await openModal('carol', first)).id, code);
    await ws().waitFor(() => ws().message('ops', first.ts)!.text.includes('succeeded'), 20_000, 'the first run');

    // Same code, another request, same 30 s step: someone who saw the code (or replays the submission) approves nothing.
    const second = await ask();
    const opId = opIdOf(second);
    const eph0 = ephemeralsOf('carol').length;
    await submit('carol', (await openModal('carol', second)).id, code);
    await ws().waitFor(() => ephemeralsOf('carol').length > eph0, 10_000, 'the replay refusal');
    expect(ephemeralsOf('carol').at(-1)).toMatch(/^:x: Not allowed: that TOTP code was already used; wait for the next code/);
    expect((await approval(opId)).state).toBe('pending');
    expect(await scratch.counts(opId)).toEqual({});

    clock.advance(30_000);
    await submit('carol', (await openModal('carol', second)).id, codeAt(clock.now()));
    await ws().waitFor(() => ws().message('ops', second.ts)!.text.includes('succeeded'), 20_000, 'the second run');
    expect(await scratch.counts(opId)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
  });

  it('a click that reaches the bot after its trigger_id expired: Slack refuses the modal, the approver is told to click again, nothing approved', async () => {
    const preview = await ask();
    const opId = opIdOf(preview);
    // A delivery Slack made 4 s ago (its trigger_id is good for 3 s): views.open gets expired_trigger_id.
    const late = newTriggerId();
    ws().triggers.set(late, { user: CAROL, at: ws().clock.now() - 4_000, used: false });
    const eph0 = ephemeralsOf('carol').length;
    await click('carol', preview, late);
    await ws().waitFor(() => ephemeralsOf('carol').length > eph0, 10_000, 'the expired-click answer');
    expect(
      ws()
        .calls.filter((c) => c.method === 'views.open')
        .at(-1)!.result,
    ).toMatchObject({ ok: false, error: 'expired_trigger_id' });
    expect(ephemeralsOf('carol').at(-1)).toMatch(/click Approve again.*Nothing was approved/);
    expect((await approval(opId)).state).toBe('pending');
    expect(await scratch.counts(opId)).toEqual({});
    expect(ws().problems).toEqual([]);
  });
});
