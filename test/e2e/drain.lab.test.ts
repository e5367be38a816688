/**
 * Planned maintenance end to end on the real lab, through the Slack stand-in over HTTP and over
 * Socket Mode: alice asks for `/node drain c01`, bob approves, the real Nova moves ~20 servers off
 * c01 (some with ports on Public_AGILE, one with a volume, one SHUTOFF), nova-compute on c01 is
 * really stopped; then `/node undrain c01 migrate-back` brings every server home. Assertions read
 * Nova, Neutron and the node (CLI and SSH), never the bot's own opinion.
 *
 * The lab is shared: servers of other helpers on c01 move too (and come back with migrate-back);
 * afterAll leaves c01 running and enabled whatever happened. In the lane lab-c04c05 (LAB_PAIR) the
 * same runs on c04 → c05.
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../slack-standin/workspace.js';
import { NEUTRON_URL, NOVA_URL, os, osJson, osOk, PAIR, requireLab, Rest, sshHost, uniquePrefix, waitFor } from '../lab/lab-helpers.js';
import { holdLabHost, runApprovedOnLab, startLabBot, type LabBot } from '../actions/lab-bot.js';

// c01 → c02, or c04 → c05 in the lane beside (LAB_PAIR; test/lab/lab-helpers.ts)
const HOST = PAIR.a;
const DEST = PAIR.b;
const N = Number(process.env['DRAIN_LAB_SERVERS'] ?? 20);
const NET = Math.min(5, N - 2); // Nova names multi-created servers <name>-<n> only when more than one is asked for
const REPO = new URL('../../', import.meta.url).pathname;

type Row = Record<string, string>;
// Assertions read Nova and Neutron over REST with one token (the CLI's 1-5 s per call made them
// about a third of this file's time); test/lab/ pins the CLI itself.
let rest: Rest | undefined;
const api = async <T>(url: string): Promise<T> => {
  rest ??= await Rest.login();
  const r = await rest.call<T>('GET', url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
};
interface NovaServer {
  id: string;
  name: string;
  status: string;
  'OS-EXT-SRV-ATTR:host': string | null;
}
/** Our servers as `openstack server list --long` names the columns. */
const serversOf = async (prefix: string): Promise<Row[]> =>
  (await api<{ servers: NovaServer[] }>(`${NOVA_URL}/servers/detail?all_tenants=1&name=${encodeURIComponent(`^${prefix}`)}`)).servers
    .filter((s) => s.name.startsWith(prefix))
    .map((s) => ({ ID: s.id, Name: s.name, Status: s.status, Host: s['OS-EXT-SRV-ATTR:host'] ?? '' }));
const portHostsOf = async (serverId: string): Promise<string[]> =>
  (await api<{ ports: { 'binding:host_id': string }[] }>(`${NEUTRON_URL}/ports?device_id=${serverId}`)).ports.map((p) => p['binding:host_id']);
const serviceOf = async (host: string) =>
  (await api<{ services: { status: string; state: string; disabled_reason: string | null }[] }>(`${NOVA_URL}/os-services?binary=nova-compute&host=${host}`))
    .services[0]!;

async function restoreHost(): Promise<void> {
  await sshHost(HOST, 'lab-nova-compute start');
  await os(['compute', 'service', 'set', '--enable', HOST, 'nova-compute']);
}

// One set of servers for both transports (seeding and deleting 20 servers costs about a minute):
// over HTTP the bot drains c01 and brings everything home, then over Socket Mode a second bot does it
// again, batched, and pins the init files (the lab preset has none, so the test gives it one).
let prefix: string;
let lock: { release(): void } | undefined;

beforeAll(async () => {
  await requireLab();
  lock = await holdLabHost(HOST);
  prefix = uniquePrefix('drain').replace(/-$/, '');
  await restoreHost();
  const seeded = await execa('bash', [`${REPO}lab/seed`, '--servers', String(N), '--net-servers', String(NET), '--prefix', prefix, '--host', HOST], {
    reject: false,
    timeout: 600_000,
  });
  if (seeded.exitCode !== 0) throw new Error(`lab/seed failed: ${seeded.stderr.slice(-800)}`);
  const mine = await serversOf(prefix);
  const off = mine.find((s) => s['Name'] === `${prefix}-vm-1`)!;
  await osOk(['server', 'stop', off['ID']!]);
  await waitFor('the SHUTOFF server', async () => (await osJson<Row>(['server', 'show', off['ID']!]))['status'] === 'SHUTOFF');
}, 900_000);

afterAll(async () => {
  await restoreHost();
  if (prefix) await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
  lock?.release();
}, 900_000);

describe.each([
  ['http', ''],
  ['socket', ` to=${DEST} parallel=2 pin-init=yes`],
] as const)('drain and undrain over %s', (transport, extra) => {
  let lab: LabBot;
  const ws = () => lab.standin.workspace;
  const pinInit = extra.includes('pin-init=yes');
  let initFile: string | undefined;
  const aside = (f: string) => `/root/tmp/chatops-init${f}`;

  beforeAll(async () => {
    if (pinInit) {
      initFile = `/var/tmp/lab-init-${prefix}/nova-compute.conf`;
      mkdirSync(dirname(initFile), { recursive: true });
      writeFileSync(initFile, '# a stand-in for /etc/init/nova-compute.conf\n');
    }
    lab = await startLabBot({ transport, backend: 'rest', ...(initFile ? { initFiles: [initFile] } : {}) });
  }, 900_000);

  afterAll(async () => {
    await lab?.close();
    // whatever happened, the next transport starts from a running, enabled c01
    await restoreHost();
    if (initFile) for (const f of [initFile, aside(initFile)]) rmSync(dirname(f), { recursive: true, force: true });
  }, 900_000);

  const runApproved = (text: string, timeoutMs: number) => runApprovedOnLab(lab, text, timeoutMs);

  /** The thread as text, for failure messages. */
  const story = (card: Message) =>
    ws()
      .thread('ops', card.ts)
      .map((m) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`)
      .join('\n')
      .slice(0, 6000);

  it(`drains ${HOST}: Nova shows it empty and disabled with the reason, nova-compute stopped, ports bound elsewhere; undrain brings everything home`, async () => {
    const mine = await serversOf(prefix);
    expect(mine).toHaveLength(N);
    const reason = `lab test ${prefix}`;

    const drain = await runApproved(`drain ${HOST} reason="${reason}"${extra}`, 1_800_000);
    expect(drain.card.text, story(drain.card)).toMatch(/succeeded/);
    // Nova: nothing of ours on c01; everything else that is left is in a state Nova cannot migrate.
    const after = await serversOf(prefix);
    expect(after.filter((s) => s['Host'] === HOST)).toEqual([]);
    expect(after.every((s) => s['Host'] === DEST)).toBe(true);
    expect(after.find((s) => s['Name'] === `${prefix}-vm-1`)!['Status']).toBe('SHUTOFF');
    const svc = await serviceOf(HOST);
    expect(svc.status).toBe('disabled');
    expect(svc.disabled_reason).toBe(reason);
    expect((await sshHost(HOST, 'lab-nova-compute status')).exitCode).toBe(3);
    if (initFile) {
      // pin-init: the init file is aside (where the plan said), so config management can't restart nova-compute.
      expect([existsSync(initFile), existsSync(aside(initFile))]).toEqual([false, true]);
    }
    // Ports on Public_AGILE follow their servers.
    const netvms = after.filter((s) => s['Name']!.startsWith(`${prefix}-netvm-`));
    expect(netvms.length).toBe(NET);
    for (const s of netvms) expect(await portHostsOf(s['ID']!), s['Name']).toEqual([DEST]);
    // The volume is still attached to its server.
    const withVolume = netvms.find((s) => s['Name'] === `${prefix}-netvm-1`)!;
    expect((await api<{ volumeAttachments: unknown[] }>(`${NOVA_URL}/servers/${withVolume['ID']!}/os-volume_attachments`)).volumeAttachments).toHaveLength(1);
    // A readable thread: replies only for approval, milestones and the summary.
    const thread = ws().thread('ops', drain.card.ts);
    expect(thread.length).toBeLessThanOrEqual(15);
    expect(
      thread.some(
        (m) => m.text.includes(`${prefix}-netvm-1: ${HOST} → ${DEST}`) || JSON.stringify(m.blocks ?? []).includes(`${prefix}-netvm-1: ${HOST} → ${DEST}`),
      ),
    ).toBe(true);

    const undrain = await runApproved(`undrain ${HOST} migrate-back`, 1_800_000);
    expect(undrain.card.text, story(undrain.card)).toMatch(/succeeded/);
    const home = await serversOf(prefix);
    expect(home.filter((s) => s['Host'] !== HOST).map((s) => s['Name'])).toEqual([]);
    expect(home.find((s) => s['Name'] === `${prefix}-vm-1`)!['Status']).toBe('SHUTOFF');
    const back = await serviceOf(HOST);
    expect(back.status).toBe('enabled');
    expect(back.state).toBe('up');
    expect((await sshHost(HOST, 'lab-nova-compute status')).exitCode).toBe(0);
    if (initFile) expect([existsSync(initFile), existsSync(aside(initFile))]).toEqual([true, false]);
    for (const s of netvms) expect(await portHostsOf(s['ID']!), s['Name']).toEqual([HOST]);
    // Each approved plan ran once: one operation per command, each succeeded.
    const ops = await lab.store.listOperations({});
    expect(ops.map((o) => `${o.runbook}:${o.state}`).sort()).toEqual(['node.drain:succeeded', 'node.undrain:succeeded']);
  }, 3_600_000);
});
