// Runbook §6 (API way) on the real lab: c01's nova-compute is really stopped over SSH, Nova sees
// it down, it is forced down, its servers are evacuated to c02 and hard-rebooted there; then c01
// comes back (AMQP line in its log), cleans up, is forced up and enabled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NOVA_URL,
  Rest,
  bootServer,
  cleanup,
  computeService,
  novaService,
  os,
  osJson,
  osOk,
  requireLab,
  restoreHost,
  sshHost,
  uniquePrefix,
  waitFor,
  waitServer,
} from './lab-helpers.js';

const P = uniquePrefix('evac');

describe('evacuate after c01 is really down (openstack CLI against the lab)', () => {
  let plain = '';
  let withPort = '';

  beforeAll(async () => {
    await requireLab();
    plain = await bootServer(`${P}a`, 'c01');
    withPort = await bootServer(`${P}b`, 'c01', { network: 'Public_AGILE' });
  });
  afterAll(async () => {
    await restoreHost('c01');
    await cleanup(P);
  });

  it('stops nova-compute on c01 over SSH, and Nova then reports c01 down', async () => {
    await osOk(['compute', 'service', 'set', '--disable', '--disable-reason', `lab-test ${P}`, 'c01', 'nova-compute']);
    const stop = await sshHost('c01', 'lab-nova-compute stop');
    expect(stop.exitCode).toBe(0);
    const status = await sshHost('c01', 'lab-nova-compute status');
    expect(status.exitCode).toBe(3);
    expect(status.stdout).toMatch(/not running/);
    // service_down_time is 15 s in the lab
    await waitFor('Nova to see c01 down', async () => (await novaService('c01')).state === 'down', { timeoutMs: 60_000, intervalMs: 2000 });
  });

  it('forces c01 down and evacuates its servers to c02 (CLI, then REST for the second)', async () => {
    await osOk(['compute', 'service', 'set', '--down', 'c01', 'nova-compute']);
    expect((await computeService('c01'))['Forced Down']).toBe(true);

    // OSC 6.0.0 evacuates correctly but may exit 1 ('TupleWithMeta' object has no attribute 'to_dict')
    const r = await os(['server', 'evacuate', '--host', 'c02', plain]);
    if (r.exitCode !== 0) expect(r.stderr).toMatch(/TupleWithMeta/);
    expect((await waitServer(plain, 'ACTIVE', 'c02')).host).toBe('c02');

    const rest = await Rest.login();
    const res = await rest.call('POST', `${NOVA_URL}/servers/${withPort}/action`, { evacuate: { host: 'c02' } });
    expect(res.status).toBe(200);
    await waitServer(withPort, 'ACTIVE', 'c02');
    const port = (await osJson<{ ID: string }[]>(['port', 'list', '--server', withPort]))[0];
    expect(port).toBeDefined();
    expect((await osJson<Record<string, unknown>>(['port', 'show', port!.ID]))['binding_host_id']).toBe('c02');

    const migrations = await osJson<Record<string, unknown>[]>(['server', 'migration', 'list', '--type', 'evacuation', '--host', 'c01']);
    const ours = migrations.filter((m) => m['Server UUID'] === plain || m['Server UUID'] === withPort);
    expect(ours).toHaveLength(2);
    expect(ours.every((m) => m['Status'] === 'done')).toBe(true);
  });

  it('hard-reboots an evacuated server on c02', async () => {
    await osOk(['server', 'reboot', '--hard', '--wait', plain]);
    expect((await waitServer(plain, 'ACTIVE')).host).toBe('c02');
  });

  it('brings c01 back: AMQP connection logged, evacuations completed, forced up, enabled, empty', async () => {
    const since = (await sshHost('c01', 'date -u "+%F %T"')).stdout.trim();
    expect((await sshHost('c01', 'lab-nova-compute start')).exitCode).toBe(0);
    expect((await sshHost('c01', 'lab-nova-compute status')).exitCode).toBe(0);
    const amqp = await waitFor(
      '"Connected to AMQP" in c01\'s log after the start',
      async () => {
        const r = await sshHost('c01', 'grep "Connected to AMQP server on" /var/log/nova/nova-compute-c01.log | tail -1');
        const line = r.stdout.trim();
        return line && line.slice(0, 19) >= since ? line : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(amqp).toMatch(/Connected to AMQP server on 127\.0\.0\.1:5672/);

    // the restarted compute marks the evacuations completed; only then is --up accepted
    await waitFor(
      'evacuations of c01 completed',
      async () => {
        const ms = await osJson<Record<string, unknown>[]>(['server', 'migration', 'list', '--type', 'evacuation', '--host', 'c01']);
        return ms.filter((m) => m['Server UUID'] === plain || m['Server UUID'] === withPort).every((m) => m['Status'] === 'completed');
      },
      { timeoutMs: 90_000, intervalMs: 2000 },
    );
    await osOk(['compute', 'service', 'set', '--up', 'c01', 'nova-compute']);
    await osOk(['compute', 'service', 'set', '--enable', 'c01', 'nova-compute']);
    const s = await waitFor('c01 up', async () => {
      const v = await computeService('c01');
      return v.State === 'up' ? v : undefined;
    });
    expect(s).toMatchObject({ Status: 'enabled', 'Forced Down': false });
    const left = await osJson<{ ID: string }[]>(['server', 'list', '--host', 'c01', '--all-projects']);
    expect(left.map((x) => x.ID)).not.toContain(plain);
    expect(left.map((x) => x.ID)).not.toContain(withPort);
  });
});
