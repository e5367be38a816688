// Runbook §1/§2 on the real lab: server list by host across projects, live and block migration
// (with the modern CLI syntax), hard reboot; and the OSC 6.0.0 syntax change the bot must know.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootServer, cleanup, os, osJson, osOk, requireLab, showServer, uniquePrefix, waitServer } from './lab-helpers.js';

const P = uniquePrefix('srv');

interface ListedServer {
  ID: string;
  Name: string;
}
interface ListedPort {
  ID: string;
}

describe('servers (openstack CLI against the lab)', () => {
  beforeAll(() => requireLab());
  afterAll(() => cleanup(P));

  it('lists the servers of a host across projects only with --all-projects', async () => {
    // a member of "demo" cannot pick the host: boot there first and follow it
    const demo = await osJson<{ id: string }>(['server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros', '--nic', 'none', `${P}demo`], {
      cloud: 'lab-demo',
    });
    const host = (await waitServer(demo.id, 'ACTIVE')).host as 'c01' | 'c02';
    expect(['c01', 'c02']).toContain(host);
    const mine = await bootServer(`${P}admin`, host);

    const all = await osJson<ListedServer[]>(['server', 'list', '--host', host, '--all-projects']);
    expect(all.map((s) => s.ID)).toEqual(expect.arrayContaining([demo.id, mine]));
    const own = await osJson<ListedServer[]>(['server', 'list', '--host', host]);
    expect(own.map((s) => s.ID)).toContain(mine);
    expect(own.map((s) => s.ID)).not.toContain(demo.id);
    const other = host === 'c01' ? 'c02' : 'c01';
    const elsewhere = await osJson<ListedServer[]>(['server', 'list', '--host', other, '--all-projects']);
    expect(elsewhere.map((s) => s.ID)).not.toContain(mine);
  });

  it('live-migrates to c02 (--live-migration --host) and block-migrates back to c01', async () => {
    const id = await bootServer(`${P}live`, 'c01');
    await osOk(['server', 'migrate', id, '--live-migration', '--host', 'c02', '--wait']);
    expect(await waitServer(id, 'ACTIVE', 'c02')).toMatchObject({ host: 'c02' });

    await osOk(['server', 'migrate', id, '--live-migration', '--block-migration', '--host', 'c01', '--wait']);
    expect(await waitServer(id, 'ACTIVE', 'c01')).toMatchObject({ host: 'c01' });

    const migrations = await osJson<Record<string, unknown>[]>(['server', 'migration', 'list', '--server', id]);
    const live = migrations.filter((m) => m['Type'] === 'live-migration' && m['Status'] === 'completed');
    expect(live).toHaveLength(2);
  });

  it('moves the port binding with a live migration', async () => {
    const id = await bootServer(`${P}net`, 'c01', { network: 'Public_AGILE' });
    const ports = await osJson<ListedPort[]>(['port', 'list', '--server', id]);
    expect(ports).toHaveLength(1);
    const portId = ports[0]!.ID;
    expect((await osJson<Record<string, unknown>>(['port', 'show', portId]))['binding_host_id']).toBe('c01');

    await osOk(['server', 'migrate', id, '--live-migration', '--host', 'c02', '--wait']);
    await waitServer(id, 'ACTIVE', 'c02');
    const port = await osJson<Record<string, unknown>>(['port', 'show', portId]);
    expect(port['binding_host_id']).toBe('c02');
    expect(port['binding_vif_type']).toBe('bridge');
  });

  it('rejects the chapter\'s old syntax "migrate --live <host>" (OSC 6.0.0) and leaves the server alone', async () => {
    const id = await bootServer(`${P}old`, 'c01');
    const r = await os(['server', 'migrate', id, '--live', 'c02']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/unrecognized arguments: c02/);
    expect((await showServer(id)).host).toBe('c01');
  });

  it('hard-reboots a server (recorded as a reboot action, ACTIVE again)', async () => {
    const id = await bootServer(`${P}reboot`, 'c01');
    await osOk(['server', 'reboot', '--hard', '--wait', id]);
    expect((await waitServer(id, 'ACTIVE')).host).toBe('c01');
    const events = await osJson<Record<string, unknown>[]>(['server', 'event', 'list', id]);
    expect(events.map((e) => e['Action'])).toContain('reboot');
  });
});
