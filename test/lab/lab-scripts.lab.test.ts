// The lab's own promises: everything it started listens on loopback only, lab/status sees it whole,
// lab/seed creates what it says through REST, lab/reset --prefix removes exactly that.
import { readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB, osJson, requireLab, uniquePrefix } from './lab-helpers.js';

const REPO = new URL('../../', import.meta.url).pathname;
const P = uniquePrefix('seed').slice(0, -1); // lab/seed appends "-"

/** PIDs of every process the lab started (from its PID files) and their children. */
function labPids(): Set<number> {
  const roots = readdirSync(`${LAB}/pids`)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(`${LAB}/pids/${f}`, 'utf8').trim()))
    .filter((n) => n > 0);
  const pids = new Set(roots);
  // children: one pass over /proc is enough (workers are direct children of the recorded process)
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      if (pids.has(ppid)) pids.add(Number(d));
    } catch {
      /* process ended meanwhile */
    }
  }
  return pids;
}

interface SeedOut {
  servers: string[];
  net_servers: string[];
  ports: string[];
  volumes: { id: string; server: string }[];
}

describe('lab scripts', () => {
  beforeAll(() => requireLab());
  afterAll(async () => {
    await execa('bash', [`${REPO}lab/reset`, '--prefix', `${P}-`]);
  });

  it('binds only loopback addresses with every process it started', async () => {
    const pids = labPids();
    expect(pids.size).toBeGreaterThanOrEqual(14);
    const { stdout } = await execa('ss', ['-H', '-ltunp']);
    const ours = stdout.split('\n').filter((l) => [...l.matchAll(/pid=(\d+)/g)].some((m) => pids.has(Number(m[1]))));
    expect(ours.length).toBeGreaterThanOrEqual(8); // 6 APIs + 2 sshd at least
    const addresses = ours.map((l) => l.trim().split(/\s+/)[4] ?? '');
    for (const a of addresses) expect(a).toMatch(/^(127\.\d+\.\d+\.\d+|\[::1\]):\d+$/);
    expect(addresses).toEqual(expect.arrayContaining(['127.0.0.11:22', '127.0.0.12:22', '127.0.0.1:5000', '127.0.0.1:8774']));
  });

  it('lab/status reports every process running, every API answering, c01 and c02 up', async () => {
    const r = await execa('bash', [`${REPO}lab/status`], { reject: false });
    // c04/c05 belong to the lane beside (LAB_PAIR=c04,c05), which stops and kills their processes
    // on purpose; everything else must run and answer, and the exit status says whether all did
    const bad = r.stdout.split('\n').filter((l) => /STOPPED|NOT ANSWERING/.test(l));
    expect(bad.filter((l) => !/^\S+-c0[45] /.test(l))).toEqual([]);
    expect(r.exitCode).toBe(bad.length > 0 ? 1 : 0);
    expect(r.stdout).toMatch(/nova-compute c01: enabled, up/);
    expect(r.stdout).toMatch(/nova-compute c02: enabled, up/);
    // the second pair, whose lane runs beside (LAB_PAIR=c04,c05): it may be draining or down right now
    expect(r.stdout).toMatch(/nova-compute c04: /);
    expect(r.stdout).toMatch(/nova-compute c05: /);
  });

  it('lab/seed creates servers on c01, ports with IPv4+IPv6, an attached volume; reset --prefix removes them', async () => {
    const r = await execa('bash', [`${REPO}lab/seed`, '--servers', '4', '--net-servers', '2', '--ports', '2', '--prefix', P], { timeout: 600_000 });
    const out = JSON.parse(r.stdout) as SeedOut;
    expect(out.servers).toHaveLength(2);
    expect(out.net_servers).toHaveLength(2);
    expect(out.ports).toHaveLength(2);
    expect(out.volumes).toHaveLength(1);

    const onC01 = await osJson<{ ID: string; Status: string }[]>(['server', 'list', '--host', 'c01', '--all-projects', '--name', `^${P}-`]);
    expect(onC01.map((s) => s.ID).sort()).toEqual([...out.servers, ...out.net_servers].sort());
    expect(onC01.every((s) => s.Status === 'ACTIVE')).toBe(true);
    const port = await osJson<{ fixed_ips: { ip_address: string }[] }>(['port', 'show', out.ports[0]!]);
    expect(port.fixed_ips.map((f) => f.ip_address.includes(':')).sort()).toEqual([false, true]);
    const vol = await osJson<{ status: string; attachments: { server_id: string }[] }>(['volume', 'show', out.volumes[0]!.id]);
    expect(vol.status).toBe('in-use');
    expect(vol.attachments[0]?.server_id).toBe(out.volumes[0]!.server);

    await execa('bash', [`${REPO}lab/reset`, '--prefix', `${P}-`], { timeout: 600_000 });
    expect(await osJson<unknown[]>(['server', 'list', '--all-projects', '--name', `^${P}-`])).toEqual([]);
    expect(await osJson<unknown[]>(['volume', 'list', '--all-projects', '--name', `${P}-vol`])).toEqual([]);
    const ports = await osJson<{ Name: string }[]>(['port', 'list']);
    expect(ports.filter((p) => p.Name.startsWith(`${P}-`))).toEqual([]);
  });
});
