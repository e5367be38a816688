/**
 * Scheduled drains on the real lab through the Slack stand-in, with the real bot process
 * (compose/main.ts, test/helpers/bot-process.ts) so that it can be killed with SIGKILL and started
 * again on the same store. alice asks for `/node drain <a> … in=<seconds>`, bob approves at once.
 * One seed of two servers on a serves every case; the cases that run nothing come first, the one
 * that drains last, so no undrain is needed in between.
 *   - `/schedule cancel` before its time: its time passes and nothing runs (Nova untouched).
 *   - drift between the approval and its time (a server of ours appears on a): not run; the thread
 *     shows the difference and asks again.
 *   - kill -9 of the bot with two approved drains scheduled: it stays down across the time and the
 *     grace period of one, then is started again. That one is reported missed in its thread and never
 *     run; the other touches nothing before its time (Nova says so, before and after the restart) and
 *     runs once at its time (one start in the audit, one migration per server in Nova).
 * The times are as short as the steps between them allow (bot start-up, a plan, a click), the grace
 * period is configured short (schedules.grace), the sweep looks every second.
 *
 * a and b: the lab's pair (PAIR: c01/c02, or c04/c05 in the lab-c04c05 lane, where CI runs it).
 * Alone: LAB_NO_RESET=1 npx vitest run --project lab-c04c05 test/jobs/scheduled-drain.lab.test.ts
 */
import { execa } from 'execa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackDriver } from '../../slack-standin/driver.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { Message } from '../../slack-standin/workspace.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { SIGNING_SECRET, startBot, type BotProcess } from '../helpers/bot-process.js';
import { exitSignal } from '../helpers/crash-harness.js';
import { NOVA_URL, PAIR, bootServer, requireLab, Rest, restoreHost, uniquePrefix, waitFor } from '../lab/lab-helpers.js';
import { LAB_DIR } from '../actions/lab-bot.js';

const REPO = new URL('../../', import.meta.url).pathname;
/** Where the servers are seeded and drained from; the drain has no target and Nova keeps them in the pair (PAIR.b). */
const HOST = PAIR.a;
/** schedules.grace of the bot: a run found later than this after its time is missed. */
const GRACE_S = 10;
let prefix: string;
let rest: Rest;
let standin: SlackStandin;
let slack: SlackDriver;
let store: Store;
let bot: BotProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'scheduled-drain-'));

const config = `
defaultCloud: lab
clouds:
  lab:
    cloud: lab
    backend: rest
    nodeCommands: { preset: lab }
    ssh: { config: ${LAB_DIR}/ssh/ssh_config, knownHosts: ${LAB_DIR}/ssh/known_hosts }
    migrationTimeout: 5m
approvals:
  default:
    requesters: { channels: [C0OPS0001] }
    approvers: { groups: [S0APPROVE] }
schedules: { grace: ${GRACE_S}s, tick: 1s }
`;
/** The real bot (Socket Mode, so the driver reaches whichever process is connected), on the one store. */
const startLabBotProcess = async (): Promise<BotProcess> =>
  (bot = await startBot({
    mode: 'socket',
    standin,
    dir,
    configYaml: config,
    env: { OS_CLIENT_CONFIG_FILE: `${LAB_DIR}/clouds.yaml`, OS_COMPUTE_API_VERSION: '2.79', PYTHONWARNINGS: 'ignore' },
  }));

interface NovaServer {
  id: string;
  name: string;
  'OS-EXT-SRV-ATTR:host': string | null;
}
const ours = async (): Promise<NovaServer[]> =>
  (await rest.call<{ servers: NovaServer[] }>('GET', `${NOVA_URL}/servers/detail?all_tenants=1&name=${encodeURIComponent(`^${prefix}`)}`)).body.servers.filter(
    (s) => s.name.startsWith(prefix),
  );
const service = async () =>
  (await rest.call<{ services: { status: string; disabled_reason: string | null }[] }>('GET', `${NOVA_URL}/os-services?binary=nova-compute&host=${HOST}`)).body
    .services[0]!;
const migrations = async (id: string) =>
  (await rest.call<{ migrations: { migration_type: string }[] }>('GET', `${NOVA_URL}/os-migrations?instance_uuid=${id}`)).body.migrations;
/** What Nova must still show while nothing of ours ran: the host enabled, every server of ours on it. */
async function untouched(): Promise<void> {
  expect((await service()).status).toBe('enabled');
  expect((await ours()).map((s) => s['OS-EXT-SRV-ATTR:host']).filter((h) => h !== HOST)).toEqual([]);
}

beforeAll(async () => {
  await requireLab();
  rest = await Rest.login();
  prefix = uniquePrefix('sched').replace(/-$/, '');
  standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  // the bot starts (and creates its store) while the servers are seeded
  const [seeded] = await Promise.all([
    execa('bash', [`${REPO}lab/seed`, '--servers', '2', '--net-servers', '0', '--no-volume', '--prefix', prefix, '--host', HOST], {
      reject: false,
      timeout: 600_000,
    }),
    startLabBotProcess(),
  ]);
  if (seeded.exitCode !== 0) throw new Error(`lab/seed failed: ${seeded.stderr.slice(-800)}`);
  slack = new SlackDriver(standin, { kind: 'socket' });
  store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
}, 900_000);

afterAll(async () => {
  await bot?.stop('SIGKILL');
  await store?.close();
  await standin?.stop();
  await restoreHost(HOST);
  if (prefix) await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
}, 900_000);

/** alice asks, bob approves at once; resolves with the card, the operation, its schedule and the time it is due. */
async function askScheduled(text: string): Promise<{ card: () => Message; opId: string; scheduleId: string; runAt: number }> {
  const ws = standin.workspace;
  const before = ws.messages('ops').length;
  const asked = Date.now();
  await slack.command({ user: 'alice', channel: 'ops', command: '/node', text });
  await ws.waitFor(() => ws.messages('ops').length > before, 120_000, `the plan of ${text}`);
  const ts = ws.messages('ops').at(-1)!.ts;
  const card = () => ws.message('ops', ts)!;
  const opId = /op-[a-z2-7]{12}/.exec(JSON.stringify(card().blocks))![0];
  const detail = (await store.getOperation(opId))!.detail;
  const runAt = Number(detail.runAt);
  expect(runAt).toBeGreaterThanOrEqual(asked);
  const approve = buttonsOf(card().blocks).find((b) => b.actionId === 'approval.approve')!;
  await slack.click({ user: 'bob', message: { channel: card().channel, ts }, actionId: 'approval.approve', value: approve.value! });
  await ws.waitFor(() => buttonsOf(card().blocks).length === 0, 60_000, 'the approval');
  expect(Date.now(), `${text}: approved only after its time; use a longer in=`).toBeLessThan(runAt);
  return { card, opId, scheduleId: String(detail.scheduleId), runAt };
}

/** The thread, the card's edits, the journal and the audit of an operation, and the bot's last output, for a failure message. */
async function story(card: Message, opId: string): Promise<string> {
  const thread = standin.workspace
    .thread('ops', card.ts)
    .map((m) => `${m.text} ${JSON.stringify(m.blocks ?? []).slice(0, 1500)}`)
    .join('\n');
  const journal = (await store.listJournal(opId)).map(
    (e) => `${e.stepId}#${e.attempt}: ${e.status ?? 'in doubt'} ${JSON.stringify(e.output ?? {}).slice(0, 600)}`,
  );
  const audit = (await store.listAudit({ operationId: opId })).map((a) => `${a.kind} ${JSON.stringify(a.payload).slice(0, 300)}`);
  const updates = standin.workspace.calls
    .filter((c) => c.method === 'chat.update' && c.args.ts === card.ts)
    .map((c) => `${new Date(c.at).toISOString()} ${c.status} ${JSON.stringify(c.result).slice(0, 300)}`);
  return `THREAD\n${thread}\nCARD EDITS\n${updates.join('\n')}\nJOURNAL\n${journal.join('\n')}\nAUDIT\n${audit.join('\n')}\nBOT\n${bot?.output().slice(-2000) ?? ''}`.slice(
    0,
    14_000,
  );
}

/** Waits until a moment `ms` after `at`, checking on the way that nothing of ours ran. */
async function untouchedUntil(at: number, what: string): Promise<void> {
  await waitFor(
    what,
    async () => {
      await untouched();
      return Date.now() >= at;
    },
    { timeoutMs: Math.max(0, at - Date.now()) + 60_000, intervalMs: 1000 },
  );
}

it('/schedule cancel before its time: its time passes and nothing runs', async () => {
  const { card, opId, scheduleId, runAt } = await askScheduled(`drain ${HOST} reason="cancelled ${prefix}" in=5s`);
  const ws = standin.workspace;
  await slack.command({ user: 'alice', channel: 'ops', command: '/schedule', text: `cancel ${scheduleId}` });
  await ws.waitFor(() => ws.ephemerals('alice').some((e) => e.text.includes(`Schedule ${scheduleId} cancelled`)), 30_000, 'the answer to the cancel');
  expect(Date.now(), 'cancelled only after its time; use a longer in=').toBeLessThan(runAt);
  expect((await store.getSchedule(scheduleId))?.state).toBe('cancelled');
  // three sweeps past its time: Nova untouched all the while, nothing journaled, no start
  await untouchedUntil(runAt + 3000, 'three sweeps past the cancelled time');
  expect((await store.getOperation(opId))?.state, await story(card(), opId)).toBe('cancelled');
  expect(await store.listJournal(opId)).toEqual([]);
  const kinds = (await store.listAudit({ operationId: opId })).map((a) => a.kind);
  expect(kinds).toContain('schedule.cancelled');
  expect(kinds.filter((k) => k === 'operation.started' || k === 'schedule.claimed')).toEqual([]);
}, 300_000);

it('drift between the approval and its time: the thread shows the difference and asks again; nothing runs', async () => {
  const t0 = Date.now();
  // in=45s: the late server must be up before the time, and a boot on a loaded CI machine took over 20 s
  const { card, opId, runAt } = await askScheduled(`drain ${HOST} reason="scheduled ${prefix}" in=45s`);
  await bootServer(`${prefix}-late`, HOST);
  const upAt = Date.now();
  expect(upAt, 'the late server was up only after the time; use a longer in=').toBeLessThan(runAt);
  const ws = standin.workspace;
  try {
    await ws.waitFor(() => ws.thread('ops', card().ts).some((m) => /plan changed/.test(m.text)), 120_000, 'the drift report');
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${await story(card(), opId)}`, { cause: e });
  }
  expect(Date.now()).toBeGreaterThanOrEqual(runAt);
  const drift = ws.thread('ops', card().ts).find((m) => /plan changed/.test(m.text))!;
  expect(drift.text).toContain(`${prefix}-late`);
  // By the time the reply is there, the card shows the new plan (with the late server) and its Approve
  // button (the bot edits the card before it replies). Nova: nothing moved, the host still enabled.
  expect(JSON.stringify(card().blocks), await story(card(), opId)).toContain(`${prefix}-late`);
  expect(
    buttonsOf(card().blocks).map((b) => b.actionId),
    await story(card(), opId),
  ).toContain('approval.approve');
  expect((await store.getOperation(opId))?.state).toBe('pending_approval');
  expect(await store.listJournal(opId)).toEqual([]);
  await untouched();
  console.log(`drift: asked at +0 s, late server up at +${((upAt - t0) / 1000).toFixed(1)} s, due at +${((runAt - t0) / 1000).toFixed(1)} s`);
}, 300_000);

it('kill -9 with two approved drains scheduled: the one whose time and grace passed while no bot ran is reported missed and never run; the other runs once at its time', async () => {
  const t0 = Date.now();
  // The one to run first, the one to miss second, so the kill follows the latter's approval at once
  // (the bot must be gone before its time). The one to run is due once the restarted bot is surely
  // up: the other's time + its grace + a start-up (3 s here), with room.
  const due = await askScheduled(`drain ${HOST} reason="scheduled ${prefix}" in=${5 + GRACE_S + 15}s`);
  const missed = await askScheduled(`drain ${HOST} reason="missed ${prefix}" in=5s`);
  const killed = bot!;
  killed.child.kill('SIGKILL');
  expect(await exitSignal(killed)).toBe('SIGKILL');
  expect(Date.now(), 'the bot was killed only after the time of the one to miss; use a longer in=').toBeLessThan(missed.runAt);
  await untouchedUntil(missed.runAt + GRACE_S * 1000 + 1000, "the missed one's time and grace period, no bot running");
  const restartedAt = Date.now();
  await startLabBotProcess();
  const readyAt = Date.now();
  expect(readyAt, `the bot took ${(readyAt - restartedAt) / 1000} s to start: make the other in= longer`).toBeLessThan(due.runAt);

  // The missed one: reported missed in its thread (its card says so too), never run. Nova untouched.
  const ws = standin.workspace;
  const missedText = (m: Message) => m.text.includes(missed.scheduleId) && /\*Nothing was run\*/.test(m.text);
  try {
    // the reply, then the card edited to say the same
    await ws.waitFor(() => ws.thread('ops', missed.card().ts).slice(1).some(missedText) && missedText(missed.card()), 30_000, 'the missed report');
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${await story(missed.card(), missed.opId)}`, { cause: e });
  }
  expect((await store.getSchedule(missed.scheduleId))?.state).toBe('missed');
  expect((await store.getOperation(missed.opId))?.state).toBe('expired');
  expect(await store.listJournal(missed.opId)).toEqual([]);
  expect((await store.listAudit({ operationId: missed.opId })).map((a) => a.kind)).not.toContain('operation.started');

  // The other: nothing before its time (after the restart too), then it runs, once.
  await untouchedUntil(due.runAt - 1500, 'a moment just before the other one is due');
  expect(await store.listJournal(due.opId)).toEqual([]);
  await ws.waitFor(() => /: (succeeded|failed|aborted|needs-operator),/.test(due.card().text), 600_000, 'the scheduled drain to finish');
  expect(due.card().text, await story(due.card(), due.opId)).toMatch(/succeeded/);
  const audit = await store.listAudit({ operationId: due.opId });
  const started = audit.filter((a) => a.kind === 'operation.started');
  expect(started).toHaveLength(1);
  expect(started[0]!.at).toBeGreaterThanOrEqual(due.runAt);
  expect(audit.filter((a) => a.kind === 'schedule.claimed')).toHaveLength(1);
  expect((await service()).status).toBe('disabled');
  const servers = await ours();
  expect(servers.length).toBeGreaterThanOrEqual(2);
  for (const s of servers) {
    expect(s['OS-EXT-SRV-ATTR:host'], s.name).toBe(PAIR.b);
    expect((await migrations(s.id)).length, `${s.name} moved once`).toBe(1);
  }
  // the missed one is still as it was: nothing ran for it after the other one's run either
  expect(await store.listJournal(missed.opId)).toEqual([]);
  console.log(
    `kill -9: asked at +0 s, one due at +${((missed.runAt - t0) / 1000).toFixed(1)} s (missed), bot started again at +${((restartedAt - t0) / 1000).toFixed(1)} s (ready in ${((readyAt - restartedAt) / 1000).toFixed(1)} s), the other due at +${((due.runAt - t0) / 1000).toFixed(1)} s, started at +${((started[0]!.at - t0) / 1000).toFixed(1)} s`,
  );
}, 900_000);
