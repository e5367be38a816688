/**
 * A scheduled drain on the real lab through the Slack stand-in: alice asks for `/node drain c01 …
 * in=<seconds>`, bob approves at once; until its time Nova shows c01 enabled with our servers on it;
 * at its time the drain runs (c01 disabled, servers on c02). A second one whose plan drifts before
 * its time (a server of ours appears on c01) is not run: the thread shows the difference and asks again.
 *
 * Run it under the shared lock of c01/c02:
 *   LAB_NO_RESET=1 flock /run/lock/chatops-lab-c01c02.lock npx vitest run test/jobs/scheduled-drain.lab.test.ts
 */
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buttonsOf } from '../../slack-standin/payloads.js';
import type { Message } from '../../slack-standin/workspace.js';
import { NOVA_URL, bootServer, requireLab, Rest, restoreHost, uniquePrefix, waitFor } from '../lab/lab-helpers.js';
import { runApprovedOnLab, startLabBot, type LabBot } from '../actions/lab-bot.js';

const REPO = new URL('../../', import.meta.url).pathname;
const HOST = 'c01';
let prefix: string;
let lab: LabBot;
let rest: Rest;

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

beforeAll(async () => {
  await requireLab();
  rest = await Rest.login();
  prefix = uniquePrefix('sched').replace(/-$/, '');
  const seeded = await execa('bash', [`${REPO}lab/seed`, '--servers', '2', '--net-servers', '0', '--no-volume', '--prefix', prefix, '--host', HOST], {
    reject: false,
    timeout: 600_000,
  });
  if (seeded.exitCode !== 0) throw new Error(`lab/seed failed: ${seeded.stderr.slice(-800)}`);
  lab = await startLabBot({ transport: 'socket', backend: 'rest', schedules: { tickMs: 1000, graceMs: 5 * 60_000 } });
}, 900_000);

afterAll(async () => {
  await lab?.close();
  await restoreHost(HOST);
  if (prefix) await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
}, 900_000);

/** alice asks, bob approves at once; resolves with the card and the time the run is due. */
async function askScheduled(text: string): Promise<{ card: () => Message; opId: string; runAt: number }> {
  const ws = lab.standin.workspace;
  const before = ws.messages('ops').length;
  const asked = Date.now();
  await lab.slack.command({ user: 'alice', channel: 'ops', command: '/node', text });
  await ws.waitFor(() => ws.messages('ops').length > before, 120_000, `the plan of ${text}`);
  const ts = ws.messages('ops').at(-1)!.ts;
  const card = () => ws.message('ops', ts)!;
  const opId = /op-[a-z2-7]{12}/.exec(JSON.stringify(card().blocks))![0];
  const runAt = Number((await lab.store.getOperation(opId))!.detail.runAt);
  expect(runAt).toBeGreaterThanOrEqual(asked);
  const approve = buttonsOf(card().blocks).find((b) => b.actionId === 'approval.approve')!;
  await lab.slack.click({ user: 'bob', message: { channel: card().channel, ts }, actionId: 'approval.approve', value: approve.value! });
  await ws.waitFor(() => buttonsOf(card().blocks).length === 0, 60_000, 'the approval');
  return { card, opId, runAt };
}

/** The thread and the journal of an operation, for a failure message. */
async function story(card: Message, opId: string): Promise<string> {
  const thread = lab.standin.workspace
    .thread('ops', card.ts)
    .map((m) => `${m.text} ${JSON.stringify(m.blocks ?? []).slice(0, 1500)}`)
    .join('\n');
  const journal = (await lab.store.listJournal(opId)).map(
    (e) => `${e.stepId}#${e.attempt}: ${e.status ?? 'in doubt'} ${JSON.stringify(e.output ?? {}).slice(0, 600)}`,
  );
  const audit = (await lab.store.listAudit({ operationId: opId })).map((a) => `${a.kind} ${JSON.stringify(a.payload).slice(0, 300)}`);
  // every edit of the card the bot asked for, and what the stand-in answered
  const updates = lab.standin.workspace.calls
    .filter((c) => c.method === 'chat.update' && c.args.ts === card.ts)
    .map((c) => `${new Date(c.at).toISOString()} ${c.status} ${JSON.stringify(c.result).slice(0, 300)}`);
  return `THREAD\n${thread}\nCARD EDITS\n${updates.join('\n')}\nJOURNAL\n${journal.join('\n')}\nAUDIT\n${audit.join('\n')}`.slice(0, 14_000);
}

it('a drain with in=2m approved now touches nothing before its time and runs at its time', async () => {
  const t0 = Date.now();
  const { card, opId, runAt } = await askScheduled(`drain ${HOST} reason="scheduled ${prefix}" in=2m`);
  expect(Date.now()).toBeLessThan(runAt); // approved ahead of its time
  // Nova, up to just before its time: c01 enabled, our servers still there; the bot journaled nothing.
  await waitFor(
    'a moment just before the scheduled time',
    async () => {
      const svc = await service();
      expect(svc.status).toBe('enabled');
      expect((await ours()).map((s) => s['OS-EXT-SRV-ATTR:host'])).toEqual([HOST, HOST]);
      expect(await lab.store.listJournal(opId)).toEqual([]);
      return Date.now() >= runAt - 3000;
    },
    { timeoutMs: 180_000, intervalMs: 2000 },
  );
  await lab.standin.workspace.waitFor(() => /: (succeeded|failed|aborted|needs-operator),/.test(card().text), 600_000, 'the scheduled drain to finish');
  expect(card().text, await story(card(), opId)).toMatch(/succeeded/);
  const started = (await lab.store.listAudit({ operationId: opId })).filter((a) => a.kind === 'operation.started');
  expect(started).toHaveLength(1);
  expect(started[0]!.at).toBeGreaterThanOrEqual(runAt);
  expect((await service()).status).toBe('disabled');
  expect((await ours()).every((s) => s['OS-EXT-SRV-ATTR:host'] === 'c02')).toBe(true);
  console.log(`scheduled drain: asked at +0 s, due at +${((runAt - t0) / 1000).toFixed(1)} s, started at +${((started[0]!.at - t0) / 1000).toFixed(1)} s`);
  // bring c01 and our servers home for the next test
  const undrain = await runApprovedOnLab(lab, `undrain ${HOST} migrate-back`, 600_000);
  expect(undrain.card.text, undrain.story()).toMatch(/succeeded/);
}, 1_200_000);

it('drift between the approval and its time: the thread shows the difference and asks again; nothing runs', async () => {
  const { card, opId, runAt } = await askScheduled(`drain ${HOST} reason="scheduled ${prefix}" in=2m`);
  await bootServer(`${prefix}-late`, HOST);
  const ws = lab.standin.workspace;
  try {
    await ws.waitFor(() => ws.thread('ops', card().ts).some((m) => /plan changed/.test(m.text)), 180_000, 'the drift report');
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${await story(card(), opId)}`, { cause: e });
  }
  expect(Date.now()).toBeGreaterThanOrEqual(runAt);
  const drift = ws.thread('ops', card().ts).find((m) => /plan changed/.test(m.text))!;
  expect(drift.text).toContain(`${prefix}-late`);
  // By the time the reply is there, the card shows the new plan (with the late server) and its Approve
  // button (the bot edits the card before it replies). Nova: nothing moved, c01 still enabled.
  expect(JSON.stringify(card().blocks), await story(card(), opId)).toContain(`${prefix}-late`);
  expect(
    buttonsOf(card().blocks).map((b) => b.actionId),
    await story(card(), opId),
  ).toContain('approval.approve');
  expect((await lab.store.getOperation(opId))?.state).toBe('pending_approval');
  expect(await lab.store.listJournal(opId)).toEqual([]);
  expect((await service()).status).toBe('enabled');
  expect((await ours()).every((s) => s['OS-EXT-SRV-ATTR:host'] === HOST)).toBe(true);
}, 600_000);
