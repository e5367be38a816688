/**
 * After a reboot (runbook §2 and §5), on the real lab through the Slack stand-in: c01's nova-compute
 * is stopped and started again (the fake driver forgets its guests, as a rebooted hypervisor does),
 * then
 *   - `/node check c01`: nova-compute runs and reached AMQP after the node's boot, instances listed;
 *   - `/node check c01 reboot-instances`: each instance soft-rebooted; Nova cannot (the guest is
 *     gone), so each is hard-rebooted with the tail of c01's nova-compute log in the thread, and the
 *     fsck reminder closes it; both servers ACTIVE again (the openstack client says so);
 *   - `/volume reattach c01`: the server's volume is removed, seen `available`, added back and
 *     `in-use` on the same device (Cinder's status polled during the run, Nova's instance actions
 *     and the new Cinder attachment are the oracle).
 * Bad input first: unknown hosts, an instance not on the host, an evacuation onto a host that is
 * forced down — each refused, nothing changed. Run it under `flock /run/lock/chatops-lab-c01c02.lock`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NOVA_URL,
  Rest,
  bootServer,
  cleanup,
  novaService,
  os,
  osJson,
  osOk,
  requireLab,
  restoreHost,
  sshHost,
  uniquePrefix,
  waitFor,
} from '../lab/lab-helpers.js';
import { runApprovedOnLab, startLabBot, type LabBot } from './lab-bot.js';

const P = uniquePrefix('check');
const CINDER_URL = 'http://127.0.0.1:8776/v3';
type Row = Record<string, unknown>;

let lab: LabBot;
let rest: Rest;
let withVolume = '';
let plain = '';
let volume = '';
let device = '';

/** Asks for `<command> <text>` as alice; resolves with what the bot answered (ephemeral or channel message). */
async function ask(command: string, text: string): Promise<string> {
  const ws = lab.standin.workspace;
  const eph = ws.ephemerals('alice').length;
  const msgs = ws.messages('ops').length;
  await lab.slack.command({ user: 'alice', channel: 'ops', command, text });
  const answer = () =>
    [
      ...ws
        .ephemerals('alice')
        .slice(eph)
        .map((x) => x.text)
        .filter((t) => !/Planning `/.test(t)),
      ...ws
        .messages('ops')
        .slice(msgs)
        .map((x) => `${x.text} ${JSON.stringify(x.blocks ?? [])}`),
    ].join('\n');
  await ws.waitFor(() => answer() !== '', 120_000, `an answer to ${command} ${text}`);
  return answer();
}

/** Cinder's view of the volume (project-less URL, volume API 3.67). */
async function cinderVolume(): Promise<{ status: string; attachments: { server_id: string; device: string; attachment_id: string }[] }> {
  const r = await fetch(`${CINDER_URL}/volumes/${volume}`, { headers: { 'x-auth-token': rest.token, 'openstack-api-version': 'volume 3.67' } });
  return ((await r.json()) as { volume: { status: string; attachments: { server_id: string; device: string; attachment_id: string }[] } }).volume;
}

/**
 * A read-only `/node check` needs no approval: the plan is posted, then the operation's own card;
 * resolves with that card's final text and every new thread once it ended.
 */
async function runUnapproved(text: string, timeoutMs: number): Promise<string> {
  const ws = lab.standin.workspace;
  const before = ws.messages('ops').length;
  await lab.slack.command({ user: 'alice', channel: 'ops', command: '/node', text });
  const done = () =>
    ws
      .messages('ops')
      .slice(before)
      .find((m) => /^node\.check \S+: (succeeded|failed|aborted|needs-operator),/.test(m.text));
  await ws.waitFor(() => done() !== undefined, timeoutMs, `/node ${text} to finish`);
  const story = () =>
    [
      done()!.text,
      ...ws
        .messages('ops')
        .slice(before)
        .flatMap((m) => ws.thread('ops', m.ts).map((t) => t.text)),
    ].join('\n');
  // The card says how it ended before the thread's last replies arrive (one reply a second at most):
  // the story is whole once the final summary is in the thread.
  await ws.waitFor(() => /(succeeded|failed|aborted) in /.test(story()), 60_000, `/node ${text}: the final summary in the thread`).catch(() => undefined);
  return story();
}

beforeAll(async () => {
  await requireLab();
  rest = await Rest.login();
  withVolume = await bootServer(`${P}vol`, 'c01', { network: 'Public_AGILE' });
  plain = await bootServer(`${P}plain`, 'c01');
  volume = (await osJson<{ id: string }>(['volume', 'create', '--size', '1', `${P}data`])).id;
  await waitFor('volume available', async () => (await cinderVolume()).status === 'available');
  await osOk(['server', 'add', 'volume', withVolume, volume]);
  await waitFor('volume in-use', async () => (await cinderVolume()).status === 'in-use');
  device = (await cinderVolume()).attachments[0]!.device;
  lab = await startLabBot({ transport: 'http', backend: 'rest', db: true });
}, 600_000);

afterAll(async () => {
  await lab?.close();
  await os(['compute', 'service', 'set', '--up', 'c02', 'nova-compute']);
  await restoreHost('c01');
  await cleanup(P);
}, 600_000);

describe('bad input: a clear refusal that changes nothing', () => {
  it('refuses unknown hosts, an instance that is not on the host, and an evacuation onto a host that is forced down', async () => {
    expect(await ask('/node', 'check nowhere')).toMatch(/no nova-compute service on nowhere/);
    expect(await ask('/volume', 'reattach nowhere')).toMatch(/no nova-compute service on nowhere/);
    expect(await ask('/volume', 'reattach c02 instance=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0')).toMatch(
      /no instance 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 on c02/,
    );
    expect(await ask('/volume', 'reattach c01 instance=not-a-uuid')).toMatch(/instance/i);
    // onto a host Nova reports down (forced down here, so that no compute has to die for it)
    await osOk(['compute', 'service', 'set', '--down', 'c02', 'nova-compute']);
    try {
      expect(await ask('/node', 'evacuate c01 c02 reason=test')).toMatch(/c02 is enabled and down \(forced down\)/);
    } finally {
      await osOk(['compute', 'service', 'set', '--up', 'c02', 'nova-compute']);
    }
    expect((await cinderVolume()).status).toBe('in-use');
    expect(await lab.store.listOperations({})).toHaveLength(0);
  }, 300_000);
});

describe('after a stop/start of c01', () => {
  let since = 0;
  beforeAll(async () => {
    expect((await sshHost('c01', 'lab-nova-compute stop')).exitCode).toBe(0);
    await waitFor('c01 down', async () => (await novaService('c01')).state === 'down', { timeoutMs: 90_000 });
    since = Date.now();
    expect((await sshHost('c01', 'lab-nova-compute start')).exitCode).toBe(0);
    await waitFor('c01 up', async () => (await novaService('c01')).state === 'up', { timeoutMs: 90_000 });
  }, 300_000);

  it('/node check c01: nova-compute runs, reached AMQP after the boot, instances listed', async () => {
    const story = await runUnapproved('check c01', 300_000);
    expect(story).toMatch(/succeeded/);
    expect(story).toMatch(/nova-compute runs on c01; booted [^;]+; AMQP: connected/);
    const amqp = /AMQP: connected (\S+?)(?: to|;)/.exec(story)?.[1];
    expect(Date.parse(amqp!)).toBeGreaterThanOrEqual(since - 2000); // this start's connection, not an older one
    expect(story).toContain(`${P}vol`);
    expect(story).toContain(`${P}plain`);
  }, 400_000);

  it('/node check c01 reboot-instances: soft, then hard where the guest is gone, log tail and fsck reminder; all ACTIVE', async () => {
    const run = await runApprovedOnLab(lab, 'check c01 reboot-instances', 600_000);
    // The whole thread once its final summary is in (the card ends before the 1-reply-a-second queue
    // empties; run.story() is cut at 6,000 characters, and a log tail with a traceback fills that).
    const ws = lab.standin.workspace;
    const thread = () =>
      ws
        .thread('ops', run.card.ts)
        .map((m) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`)
        .join('\n');
    await ws.waitFor(() => /(succeeded|failed|aborted) in /.test(thread()), 60_000, 'the final summary in the thread').catch(() => undefined);
    const story = `${run.card.text}\n${thread()}`;
    expect(story).toMatch(/succeeded/);
    expect(story).toMatch(/did not come back from a soft reboot/);
    expect(story).toMatch(/nova-compute/); // the log tail
    expect(story).toMatch(/fsck/);
    for (const id of [withVolume, plain]) {
      const s = await osJson<Row>(['server', 'show', id]);
      expect([s['status'], s['OS-EXT-SRV-ATTR:host']]).toEqual(['ACTIVE', 'c01']);
      const actions = (await rest.call<{ instanceActions: Row[] }>('GET', `${NOVA_URL}/servers/${id}/os-instance-actions`)).body.instanceActions;
      expect(actions.filter((a) => a['action'] === 'reboot' && Date.parse(`${String(a['start_time']).replace(/Z?$/, 'Z')}`) >= since - 2000).length).toBe(2);
    }
  }, 700_000);

  it('/volume reattach c01: removed, available, added back in-use on the same device', async () => {
    const before = (await cinderVolume()).attachments[0]!;
    const seen: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const st = (await cinderVolume()).status;
        if (seen.at(-1) !== st) seen.push(st);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const started = Date.now();
    try {
      const run = await runApprovedOnLab(lab, 'reattach c01', 300_000, { command: '/volume' });
      expect(`${run.card.text}\n${run.story()}`).toMatch(/succeeded/);
    } finally {
      polling = false;
      await poller;
    }
    // Cinder's states as sampled (every ~200 ms; `available` may last less: run 2 saw in-use → detaching
    // → reserved → in-use, and Cinder reserves only an available volume): it left in-use and came back.
    // Nova's actions (detach, then attach) and the new attachment on the same device are the proof.
    expect(
      seen.some((st) => st !== 'in-use'),
      seen.join(' → '),
    ).toBe(true);
    expect(
      seen.filter((st) => st !== 'in-use').every((st) => ['detaching', 'available', 'reserved', 'attaching'].includes(st)),
      seen.join(' → '),
    ).toBe(true);
    expect(seen.at(-1), seen.join(' → ')).toBe('in-use');
    const after = await cinderVolume();
    expect(after.attachments).toHaveLength(1);
    expect(after.attachments[0]!.server_id).toBe(withVolume);
    expect(after.attachments[0]!.device).toBe(device);
    expect(after.attachments[0]!.attachment_id).not.toBe(before.attachment_id);
    const nova = await osJson<{ 'Volume ID': string; Device: string }[]>(['server', 'volume', 'list', withVolume]);
    expect(nova.map((v) => [v['Volume ID'], v.Device])).toEqual([[volume, device]]);
    const actions = (await rest.call<{ instanceActions: Row[] }>('GET', `${NOVA_URL}/servers/${withVolume}/os-instance-actions`)).body.instanceActions
      .filter((a) => Date.parse(`${String(a['start_time']).replace(/Z?$/, 'Z')}`) >= started - 2000)
      .map((a) => a['action'])
      .reverse();
    expect(actions).toEqual(['detach_volume', 'attach_volume']);
  }, 400_000);
});
