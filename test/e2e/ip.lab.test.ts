/**
 * The /ip commands end to end on the real lab, through the Slack stand-in over HTTP: alice asks, bob
 * approves, the real Neutron and Nova do it. Assertions read Neutron and Nova over REST, never the
 * bot's own opinion. Everything is named with this file's prefix and deleted afterwards; the test
 * fails if a port of ours, or any probe port, is left.
 *
 * The probe fallback runs as the demo project (whose policy forbids choosing an address: 403) on a
 * small shared network of its own (a /27), not on Public_AGILE: the fallback holds its probes until
 * the address turns up, and holding most of the shared public pool would starve the other suites.
 */
import { execa } from 'execa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNBOOKS } from '../../actions/index.js';
import type { NodeDeps } from '../../actions/deps.js';
import { PROBE_OWNER } from '../../actions/ip/ip-network.js';
import { buildDeps } from '../../compose/build-deps.js';
import { configSchema } from '../../bot/config.js';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { systemClock } from '../../core/clock.js';
import { openStore } from '../../store/open-store.js';
import { SIGNING_SECRET } from '../helpers/bot-process.js';
import { startInProcessBot } from '../helpers/in-process-bot.js';
import { runApprovedOnLab, startLabBot, LAB_DIR, type LabBot } from '../actions/lab-bot.js';
import { labClouds, labInfo, LabSeeder, waitFor } from '../adapters/openstack/lab-fixtures.js';
import { uniquePrefix } from '../lab/lab-helpers.js';
import type { RestCloud } from '../../adapters/openstack/rest-cloud.js';

const REPO = new URL('../../', import.meta.url).pathname;
const prefix = uniquePrefix('ip').replace(/-$/, '');
let rest: RestCloud;
let seed: LabSeeder;
let lab: LabBot;
/** The demo bot's operations: only their probe ports are this file's (other suites may be recovering too). */
const demoOps: string[] = [];

/** A bot whose cloud is `cloud` of the lab's clouds.yaml (lab-demo for the 403 case). */
async function ipLabBot(cloud: string, ipRecovery = { probeBatch: 10, maxRounds: 20 }): Promise<LabBot> {
  const dir = mkdtempSync(join(tmpdir(), 'ip-lab-'));
  const env = { ...process.env, OS_CLIENT_CONFIG_FILE: `${LAB_DIR}/clouds.yaml`, PYTHONWARNINGS: 'ignore' };
  const standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  const store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
  const config = configSchema.parse({ defaultCloud: 'lab', clouds: { lab: { cloud, publicNetwork: 'Public_AGILE', ipRecovery } } });
  const built = buildDeps({ ...config, source: 'test' }, systemClock, store, env);
  const { bot, slack } = await startInProcessBot<NodeDeps>({
    standin,
    transport: 'http',
    store,
    runbooks: RUNBOOKS,
    deps: built.deps,
    owner: `ip-lab-${cloud}`,
  });
  return {
    standin,
    store,
    bot,
    deps: built.deps,
    slack,
    async close() {
      await bot.shutdown(5000);
      await built.close();
      await store.close();
      await standin.stop();
    },
  };
}

const ip = (text: string, timeoutMs = 300_000, on: LabBot = lab) => runApprovedOnLab(on, text, timeoutMs, { command: '/ip' });
const thread = (on: LabBot, ts: string) =>
  on.standin.workspace
    .thread('ops', ts)
    .map((m) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`)
    .join('\n');
const holders = async (addr: string) => rest.listPorts({ fixedIp: addr });
/** A free IPv4 address of Public_AGILE, found by making a port and deleting it. */
async function freedAddress(networkId: string, name: string): Promise<string> {
  const p = await rest.createPort({ networkId, name });
  await rest.deletePort(p.id);
  return p.fixedIps.find((f) => !f.ipAddress.includes(':'))!.ipAddress;
}
/**
 * A read-only plan runs at once, before its preview is posted: its status card is a message of its
 * own (`<runbook> <target>: <state>, …`), not the preview. Resolves with that card once it finished.
 */
async function readOnly(on: LabBot, text: string, head: string) {
  const ws = on.standin.workspace;
  const before = ws.messages('ops').length;
  await on.slack.command({ user: 'alice', channel: 'ops', command: '/ip', text });
  const card = () =>
    ws
      .messages('ops')
      .slice(before)
      .find((m) => m.text.startsWith(`${head}: `));
  await ws.waitFor(() => /: (succeeded|failed|aborted|needs-operator),/.test(card()?.text ?? ''), 300_000, `/ip ${text} to finish`);
  expect(
    ws
      .messages('ops')
      .slice(before)
      .some((m) => buttonsOf(m.blocks ?? []).some((b) => b.actionId === 'approval.approve')),
  ).toBe(false);
  return card()!;
}

/** alice's private answers to `/ip text`: `n` of them (2: the acknowledgement and the answer; 1: a usage error). */
async function ask(on: LabBot, text: string, n = 2): Promise<string> {
  const ws = on.standin.workspace;
  const before = ws.ephemerals('alice').length;
  await on.slack.command({ user: 'alice', channel: 'ops', command: '/ip', text });
  await ws.waitFor(() => ws.ephemerals('alice').length >= before + n, 60_000, `the answer to /ip ${text}`);
  return ws
    .ephemerals('alice')
    .slice(before)
    .map((e) => `${e.text}\n${JSON.stringify(e.blocks ?? [])}`)
    .join('\n');
}

beforeAll(async () => {
  labInfo(); // Neutron and Keystone only: these tests do not need c01/c02 enabled (another suite's drain may hold one)
  rest = labClouds(labInfo()).rest;
  seed = new LabSeeder(rest);
  lab = await startLabBot({ transport: 'http', backend: 'rest' });
}, 120_000);

afterAll(async () => {
  await lab?.close();
  await seed?.cleanup();
  await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
  // No test of this file may leave a port behind: ours, or any probe port.
  const left = (await rest.listPorts({})).filter(
    (p) => p.name.startsWith(prefix) || (p.deviceOwner === PROBE_OWNER && demoOps.some((op) => p.name === `ip-probe-${op}`)),
  );
  for (const p of left) await rest.deletePort(p.id).catch(() => undefined);
  await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
  await rest.close();
  expect(left.map((p) => `${p.name} ${p.id}`)).toEqual([]);
}, 900_000);

describe('/ip through the Slack stand-in on the lab', () => {
  const fqdn = `${prefix}-web01.sys.example.com`;
  let portId = '';
  let v4 = '';

  it('port create: a port named after the FQDN, its IPv4 and IPv6 addresses and the boot command; a second ask reports it', async () => {
    const r = await ip(`port create ${fqdn}`);
    expect(r.card.text, r.story()).toMatch(/succeeded/);
    const mine = (await rest.listPorts({ name: fqdn })).filter((p) => p.name === fqdn);
    expect(mine).toHaveLength(1);
    portId = mine[0]!.id;
    seed.ports.add(portId);
    v4 = mine[0]!.fixedIps.find((f) => !f.ipAddress.includes(':'))!.ipAddress;
    const v6 = mine[0]!.fixedIps.find((f) => f.ipAddress.includes(':'))!.ipAddress;
    const said = thread(lab, r.card.ts);
    expect(said).toContain(`IPv4 ${v4}, IPv6 ${v6}`);
    expect(said).toContain(`--nic port-id=${portId} \\"${fqdn}\\"`);
    const again = await readOnly(lab, `port create ${fqdn}`, `ip.port-create ${fqdn}`);
    expect(again.text).toMatch(/succeeded/);
    expect(thread(lab, again.ts)).toContain(`Already there: port ${fqdn} (${portId})`);
    expect((await rest.listPorts({ name: fqdn })).filter((p) => p.name === fqdn)).toHaveLength(1);
  }, 600_000);

  it("detach: Nova detaches the server's port; the server is deleted and the address survives in the port", async () => {
    const s = await seed.server('c02', { portId, name: `${prefix}-vm` });
    await waitFor('port bound', async () => ((await rest.getPort(portId))?.deviceId === s.id ? true : undefined));
    const r = await ip(`detach ${v4}`);
    expect(r.card.text, r.story()).toMatch(/succeeded/);
    expect(JSON.stringify(r.card.blocks) + r.story()).toMatch(/through Nova/);
    expect(await rest.getPort(portId)).toMatchObject({ deviceId: '', deviceOwner: '', bindingHostId: '' });
    expect((await rest.listServerInterfaces(s.id)).map((i) => i.portId)).not.toContain(portId);
    await rest.http.delete('compute', `/servers/${s.id}`);
    await waitFor('server deleted', async () => ((await rest.getServer(s.id)) ? undefined : true));
    seed.servers.delete(s.id);
    expect((await holders(v4)).map((p) => p.id)).toEqual([portId]);
  }, 600_000);

  it("check: the lab's sshd answers with its banner; a closed port is refused — privately, nothing posted", async () => {
    const before = lab.standin.workspace.messages('ops').length;
    expect(await ask(lab, 'check 127.0.0.11')).toMatch(/127\.0\.0\.11:22 is open \(connected in \d+ ms\); banner: SSH-2\.0-OpenSSH/);
    expect(await ask(lab, 'check 127.0.0.11 port=1')).toMatch(/127\.0\.0\.11:1 refused: the host answered, nothing listens on that port/);
    expect(lab.standin.workspace.messages('ops').length).toBe(before);
  }, 600_000);

  it('recover: an address whose port was deleted comes back in one write; asked again, the held address changes nothing', async () => {
    const net = (await rest.findNetwork('Public_AGILE'))!;
    const addr = await freedAddress(net.id, `${prefix}-lost`);
    const r = await ip(`recover ${addr} name=${prefix}-rec`);
    expect(r.card.text, r.story()).toMatch(/succeeded/);
    const held = await holders(addr);
    expect(held.map((p) => p.name)).toEqual([`${prefix}-rec`]);
    seed.ports.add(held[0]!.id);
    expect(thread(lab, r.card.ts)).toMatch(
      new RegExp(
        `${addr.replace(/\./g, '\\.')} is back in port ${prefix}-rec \\(${held[0]!.id}\\) through the fixed-IP request \\(one write\\)\\. Neutron calls: \\d+ \\(1 writes,`,
      ),
    );
    const again = await readOnly(lab, `recover ${addr}`, `ip.recover ${addr}`);
    expect(again.text).toMatch(/succeeded/);
    expect(thread(lab, again.ts)).toContain(`${addr} is held by port ${prefix}-rec (${held[0]!.id}), attached to nothing. Nothing was changed.`);
    expect((await holders(addr)).map((p) => p.id)).toEqual([held[0]!.id]);
    const ops = await lab.store.listOperations({ runbook: 'ip.recover' });
    expect(ops.find((o) => o.plan.risk === 'read')?.state).toBe('succeeded');
  }, 600_000);

  it('bad input: not an address, outside every subnet, an unknown network, a network or broadcast address — a clear error, nothing created', async () => {
    // Other lanes make and delete ports meanwhile: "nothing created" is about what these asks name.
    const asked = ['300.1.2.3', '198.18.0.7', '192.0.2.77', '192.0.2.255', '192.0.2.0'];
    const created = async () =>
      (await rest.listPorts({})).filter((p) => p.fixedIps.some((f) => asked.includes(f.ipAddress)) || p.name.startsWith('bad_name')).map((p) => p.id);
    const ports0 = await created();
    const ops0 = (await lab.store.listOperations({})).length;
    expect(await ask(lab, 'recover 300.1.2.3', 1)).toMatch(/expected an IPv4 address/);
    expect(await ask(lab, 'recover 198.18.0.7')).toMatch(
      /198\.18\.0\.7 is outside every IPv4 subnet of network Public_AGILE \(192\.0\.2\.0\/24, 2001:db8:a61e::\/64\)/,
    );
    expect(await ask(lab, `recover 192.0.2.77 network=${prefix}-nowhere`)).toMatch(new RegExp(`Neutron has no network named ${prefix}-nowhere`));
    expect(await ask(lab, 'recover 192.0.2.255')).toMatch(/192\.0\.2\.255 is the broadcast address of 192\.0\.2\.0\/24/);
    expect(await ask(lab, 'recover 192.0.2.0')).toMatch(/192\.0\.2\.0 is the network address of 192\.0\.2\.0\/24/);
    expect(await ask(lab, 'detach 198.18.0.7')).toMatch(/no port holds 198\.18\.0\.7/);
    expect(await ask(lab, 'port create bad_name.example.com', 1)).toMatch(/expected a fully qualified domain name|host name/);
    expect(await created()).toEqual(ports0);
    expect((await lab.store.listOperations({})).length).toBe(ops0);
  }, 600_000);
});

describe('/ip recover as the demo project: policy forbids choosing an address (403), the probe fallback finds it', () => {
  let demo: LabBot;
  let netName = '';
  beforeAll(async () => {
    // A shared network of admin's: the demo project may make ports on it, but not choose their address.
    netName = `${prefix}-net`;
    const n = await rest.http.post('network', '/networks', {
      body: { network: { name: netName, shared: true } },
      schema: z.object({ network: z.object({ id: z.string() }) }),
    });
    await rest.http.post('network', '/subnets', {
      body: { subnet: { network_id: n.network.id, name: `${prefix}-sub`, ip_version: 4, cidr: '198.51.100.0/27', enable_dhcp: false } },
    });
    demo = await ipLabBot('lab-demo', { probeBatch: 8, maxRounds: 20 });
  }, 120_000);
  afterAll(async () => demo?.close());

  it('falls back to probe rounds, keeps the one port that got the address, deletes every other probe', async () => {
    const net = (await rest.findNetwork(netName))!;
    const addr = await freedAddress(net.id, `${prefix}-lost6`);
    const r = await ip(`recover ${addr} network=${netName} name=${prefix}-kept`, 600_000, demo);
    demoOps.push(r.opId);
    expect(r.card.text, r.story()).toMatch(/succeeded/);
    const said = thread(demo, r.card.ts);
    expect(said).toMatch(/forbids this project to choose an address \(403\)/);
    expect(said).toMatch(
      new RegExp(`is back in port ${prefix}-kept \\([0-9a-f-]+\\) through the probe fallback \\(\\d+ rounds, \\d+ probe ports, all others deleted\\)`),
    );
    const held = await holders(addr);
    expect(held.map((p) => p.name)).toEqual([`${prefix}-kept`]);
    expect(held[0]!.deviceOwner).toBe('');
    expect((await rest.listPorts({ deviceOwner: PROBE_OWNER })).filter((p) => p.networkId === net.id)).toEqual([]);
    // Each probe round was one bulk POST: the journal's output says how many rounds and probes.
    const op = (await demo.store.listOperations({ runbook: 'ip.recover' }))[0]!;
    const probe = (await demo.store.listJournal(op.id)).find((e) => e.stepId === 'probe-rounds' && e.status === 'ok')!;
    const out = (probe.output as { value: { rounds: number; probes: number; calls: { writes: number } } }).value;
    expect(out.calls.writes).toBe(out.rounds);
    expect(out.probes).toBeLessThanOrEqual(8 * out.rounds);
  }, 600_000);
});
