/**
 * A compute node dies, end to end on the real lab through the Slack stand-in: c01 is made really
 * dead (lab/kill-host: nova-compute and sshd stopped), alice asks for `/node evacuate c01 c02`, bob
 * approves, and the `openstack` client is the oracle: every server ACTIVE on c02, its Public_AGILE
 * port bound to c02, its volume still attached, its Placement allocation on c02. Then c01 comes
 * back (lab/revive-host) and `/node undrain c01` is refused while c01 is not clean, accepted after.
 * Both methods: api (Nova's evacuate) and db (the chapter's SQL, the Placement move, a hard reboot
 * and the volume re-attached; then /op undo restores the rows' pre-images and the allocations).
 *
 * Bad input first: onto itself, onto a disabled host, from a host that is up, an unknown host —
 * each refused, nothing changed. Run it under `flock /run/lock/chatops-lab-c01c02.lock`.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOVA_URL, Rest, os, osJson, osOk, requireLab, uniquePrefix, waitFor, bootServer, cleanup, volumeStatus } from '../lab/lab-helpers.js';
import { runApprovedOnLab, startLabBot, type LabBot } from '../actions/lab-bot.js';

const REPO = new URL('../../', import.meta.url).pathname;
const P = uniquePrefix('evac');
type Row = Record<string, unknown>;

let lab: LabBot;
let rest: Rest;

const service = async (host: string) =>
  (
    await rest.call<{ services: { status: string; state: string; forced_down: boolean; disabled_reason: string | null }[] }>(
      'GET',
      `${NOVA_URL}/os-services?binary=nova-compute&host=${host}`,
    )
  ).body.services[0]!;

/** Asks for `/node <text>` as alice; resolves with what the bot answered (ephemeral or channel message). */
async function ask(text: string): Promise<string> {
  const ws = lab.standin.workspace;
  const eph = ws.ephemerals('alice').length;
  const msgs = ws.messages('ops').length;
  await lab.slack.command({ user: 'alice', channel: 'ops', command: '/node', text });
  const answer = () => {
    const e = ws
      .ephemerals('alice')
      .slice(eph)
      .map((x) => x.text)
      .filter((t) => !/Planning `/.test(t));
    const m = ws
      .messages('ops')
      .slice(msgs)
      .map((x) => `${x.text} ${JSON.stringify(x.blocks ?? [])}`);
    return [...e, ...m].join('\n');
  };
  await ws.waitFor(() => answer() !== '', 120_000, `an answer to /node ${text}`);
  return answer();
}

async function killHost(h: string): Promise<void> {
  await execa('bash', [`${REPO}lab/kill-host`, h]);
  await waitFor(`Nova to see ${h} down`, async () => (await service(h)).state === 'down', { timeoutMs: 90_000, intervalMs: 1000 });
}
async function reviveHost(h: string): Promise<void> {
  await execa('bash', [`${REPO}lab/revive-host`, h], { timeout: 120_000 });
}

/** Two servers on c01: one with a port on Public_AGILE and a volume, one without a NIC. */
async function seed(tag: string): Promise<{ withPort: string; plain: string; volume: string }> {
  const withPort = await bootServer(`${P}${tag}-net`, 'c01', { network: 'Public_AGILE' });
  const plain = await bootServer(`${P}${tag}-plain`, 'c01');
  const vol = await osJson<{ id: string }>(['volume', 'create', '--size', '1', `${P}${tag}-vol`]);
  await waitFor('volume available', async () => (await volumeStatus(vol.id)) === 'available', { intervalMs: 1000 });
  await osOk(['server', 'add', 'volume', withPort, vol.id]);
  await waitFor('volume in-use', async () => (await volumeStatus(vol.id)) === 'in-use', { intervalMs: 1000 });
  return { withPort, plain, volume: vol.id };
}

/** The oracle: the openstack client's view of one evacuated server. */
async function expectOnC02(id: string, volume?: string): Promise<void> {
  const s = await osJson<Row>(['server', 'show', id]);
  expect(s['OS-EXT-SRV-ATTR:host']).toBe('c02');
  expect(s['status']).toBe('ACTIVE');
  for (const p of await osJson<{ ID: string }[]>(['port', 'list', '--server', id])) {
    expect((await osJson<Row>(['port', 'show', p.ID]))['binding_host_id']).toBe('c02');
  }
  if (volume) expect((await osJson<{ 'Volume ID': string }[]>(['server', 'volume', 'list', id])).map((v) => v['Volume ID'])).toContain(volume);
  const c02 = (await osJson<{ uuid: string }[]>(['--os-placement-api-version', '1.28', 'resource', 'provider', 'list', '--name', 'c02']))[0]!.uuid;
  const alloc = await osJson<{ resource_provider: string }[]>(['--os-placement-api-version', '1.28', 'resource', 'provider', 'allocation', 'show', id]);
  expect(alloc.map((a) => a.resource_provider)).toContain(c02);
}

beforeAll(async () => {
  await requireLab();
  rest = await Rest.login();
  // with Nova's notifications: the api method's waits end on Nova's rebuild end (polls as the safety net)
  lab = await startLabBot({ transport: 'http', backend: 'rest', db: true, notifications: true });
});

afterAll(async () => {
  await reviveHost('c01').catch(() => undefined);
  await lab?.close();
  // c01 must be left up, enabled and not forced down whatever happened
  await waitFor('c01 forced up', async () => (await os(['compute', 'service', 'set', '--up', 'c01', 'nova-compute'])).exitCode === 0, {
    timeoutMs: 120_000,
    intervalMs: 2000,
  });
  await osOk(['compute', 'service', 'set', '--enable', 'c01', 'nova-compute']);
  await cleanup(P);
});

describe('bad input: a clear refusal that changes nothing', () => {
  it('refuses onto itself, an unknown host, a disabled destination, and a source that is up', async () => {
    expect(await ask('evacuate c01 c01 reason=test')).toMatch(/differ|same host|itself/i);
    expect(await ask('evacuate c01 nowhere reason=test')).toMatch(/no nova-compute service on nowhere/);
    expect(await ask('evacuate nowhere c02 reason=test')).toMatch(/no nova-compute service on nowhere/);
    await osOk(['compute', 'service', 'set', '--disable', '--disable-reason', `${P} test`, 'c02', 'nova-compute']);
    try {
      expect(await ask('evacuate c01 c02 reason=test')).toMatch(/c02 is disabled/);
    } finally {
      await osOk(['compute', 'service', 'set', '--enable', 'c02', 'nova-compute']);
    }
    const up = await ask('evacuate c01 c02 reason=test');
    expect(up).toMatch(/Nova still reports nova-compute on c01 up/);
    expect(up).toMatch(/force-down=yes/);
    expect(await service('c01')).toMatchObject({ status: 'enabled', state: 'up', forced_down: false });
    expect(await lab.store.listOperations({ runbook: 'node.evacuate' })).toHaveLength(0);
  });
});

describe('method=api', () => {
  let s: { withPort: string; plain: string; volume: string };
  beforeAll(async () => {
    s = await seed('api');
    await killHost('c01');
  });

  it('evacuates c01 to c02: servers ACTIVE there, ports bound there, volume attached, allocations there', async () => {
    const run = await runApprovedOnLab(lab, 'evacuate c01 c02 reason=mainboard-dead', 600_000);
    expect(`${run.card.text}\n${run.story()}`).toMatch(/succeeded/i);
    await expectOnC02(s.withPort, s.volume);
    await expectOnC02(s.plain);
    expect(await service('c01')).toMatchObject({ status: 'disabled', forced_down: true });
  }, 900_000);

  it('keeps c01 fenced while it is dead, and brings it back once its nova-compute cleaned up', async () => {
    expect(await ask('undrain c01')).toMatch(/evacuat/i);
    expect(await service('c01')).toMatchObject({ status: 'disabled', forced_down: true });
    await reviveHost('c01');
    const run = await runApprovedOnLab(lab, 'undrain c01', 300_000);
    expect(`${run.card.text}\n${run.story()}`).toMatch(/succeeded/i);
    expect(await service('c01')).toMatchObject({ status: 'enabled', state: 'up', forced_down: false });
    const evac = await osJson<Row[]>(['server', 'migration', 'list', '--type', 'evacuation', '--host', 'c01']);
    expect(evac.filter((m) => [s.withPort, s.plain].includes(String(m['Server UUID']))).map((m) => m['Status'])).toEqual(['completed', 'completed']);
  }, 900_000);
});

describe('method=db', () => {
  let s: { withPort: string; plain: string; volume: string };
  let opId: string;
  const sql = async (q: string): Promise<string> => (await execa('mysql', ['-uroot', '-h127.0.0.1', '-N', '-e', q])).stdout.trim();
  const rows = (ids: string[]) => sql(`select uuid, host, node from nova.instances where uuid in ('${ids.join("','")}') order by uuid`);
  const bindings = (id: string) => sql(`select b.host from neutron.ml2_port_bindings b join neutron.ports p on p.id = b.port_id where p.device_id = '${id}'`);
  const allOn = (text: string, host: string) => text.split('\n').every((l) => l.endsWith(`\t${host}\t${host}`));

  beforeAll(async () => {
    s = await seed('db');
    await killHost('c01');
  });

  it('moves the rows and allocations, reboots and re-attaches: the openstack client sees everything on c02', async () => {
    expect(allOn(await rows([s.withPort, s.plain]), 'c01')).toBe(true);
    const run = await runApprovedOnLab(lab, 'evacuate c01 c02 method=db reason=INC-4711', 900_000);
    opId = run.opId;
    expect(`${run.card.text}\n${run.story()}`).toMatch(/succeeded/i);
    expect(allOn(await rows([s.withPort, s.plain]), 'c02')).toBe(true);
    expect(await bindings(s.withPort)).toBe('c02');
    await expectOnC02(s.withPort, s.volume);
    await expectOnC02(s.plain);
    // the pre-images were journaled before the write (invariant 3)
    const audit = await lab.store.listAudit({ operationId: opId, limit: 1000 });
    expect(audit.filter((a) => a.kind === 'step.saved' && (a.payload as { stepId?: string }).stepId === 'sql-move').length).toBeGreaterThan(0);
  }, 900_000);

  it('refuses to bring c01 back while a moved guest is left on it, and accepts once it is gone', async () => {
    await reviveHost('c01');
    const left = `/var/lib/nova/instances-c01/${s.plain}`;
    await execa('mkdir', ['-p', left]);
    try {
      const refused = await ask('undrain c01');
      expect(refused).toContain(`${left} exists`);
      expect(await service('c01')).toMatchObject({ status: 'disabled', forced_down: true });
    } finally {
      await execa('rmdir', [left]);
    }
    const run = await runApprovedOnLab(lab, 'undrain c01', 300_000);
    expect(`${run.card.text}\n${run.story()}`).toMatch(/succeeded/i);
    expect(await service('c01')).toMatchObject({ status: 'enabled', state: 'up', forced_down: false });
  }, 600_000);

  it('/op undo restores exactly the pre-images of the SQL move and the allocations', async () => {
    const run = await runApprovedOnLab(lab, `undo ${opId}`, 300_000, { command: '/op' });
    expect(`${run.card.text}\n${run.story()}`).toMatch(/succeeded/i);
    expect(allOn(await rows([s.withPort, s.plain]), 'c01')).toBe(true);
    expect(await bindings(s.withPort)).toBe('c01');
  }, 600_000);
});
