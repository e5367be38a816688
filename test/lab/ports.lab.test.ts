// Runbook §4 on the real lab: ports on Public_AGILE (IPv4 + IPv6), asking for an exact fixed IP,
// detaching a port from its device, bulk create in one request, delete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEUTRON_URL, Rest, cleanup, os, osJson, osOk, requireLab, uniquePrefix } from './lab-helpers.js';

const P = uniquePrefix('port');

interface FixedIp {
  subnet_id: string;
  ip_address: string;
}
interface PortView {
  id: string;
  name: string;
  fixed_ips: FixedIp[];
  device_id: string;
  device_owner: string;
  binding_host_id: string | null;
}
interface ListedPort {
  ID: string;
  Name: string;
  'Fixed IP Addresses': FixedIp[];
}

const v4 = (p: { fixed_ips: FixedIp[] }) => p.fixed_ips.map((f) => f.ip_address).filter((a) => !a.includes(':'));
const v6 = (p: { fixed_ips: FixedIp[] }) => p.fixed_ips.map((f) => f.ip_address).filter((a) => a.includes(':'));

/** A free IPv4 address of the pool's upper end (other tests may hold some). */
async function freeV4(): Promise<string> {
  const used = new Set(
    (await osJson<ListedPort[]>(['port', 'list', '--network', 'Public_AGILE'])).flatMap((p) => p['Fixed IP Addresses'].map((f) => f.ip_address)),
  );
  for (let i = 250; i > 200; i--) if (!used.has(`192.0.2.${i}`)) return `192.0.2.${i}`;
  throw new Error('no free address in 192.0.2.201-250');
}

describe('ports on Public_AGILE (openstack CLI against the lab)', () => {
  beforeAll(() => requireLab());
  afterAll(() => cleanup(P));

  it('creates a port named after the FQDN with an IPv4 and an IPv6 address', async () => {
    const name = `${P}example-fqdn-01.sys.example.com`;
    const port = await osJson<PortView>(['port', 'create', '--network', 'Public_AGILE', name]);
    expect(port.name).toBe(name);
    expect(v4(port)).toHaveLength(1);
    expect(v4(port)[0]).toMatch(/^192\.0\.2\.\d+$/);
    expect(v6(port)).toHaveLength(1);
    expect(v6(port)[0]).toMatch(/^2001:db8:a61e::/);
  });

  it('gets an exact IP back with --fixed-ip, and is refused when that IP is taken', async () => {
    const ip = await freeV4();
    const port = await osJson<PortView>([
      'port',
      'create',
      '--network',
      'Public_AGILE',
      '--fixed-ip',
      `subnet=Public_AGILE_v4,ip-address=${ip}`,
      `${P}lost-ip`,
    ]);
    expect(v4(port)).toEqual([ip]);
    const again = await os(['port', 'create', '--network', 'Public_AGILE', '--fixed-ip', `subnet=Public_AGILE_v4,ip-address=${ip}`, `${P}lost-ip-2`]);
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toMatch(/already allocated|IpAddressAlreadyAllocated|in use/i);
    await osOk(['port', 'set', '--name', `${P}don't delete`, port.id]);
    expect((await osJson<PortView>(['port', 'show', port.id])).name).toBe(`${P}don't delete`);
  });

  it('detaches a port: OSC 6.0.0 clears device_owner but ignores --device "", REST clears the rest', async () => {
    const port = await osJson<PortView>(['port', 'create', '--network', 'Public_AGILE', `${P}detach`]);
    await osOk(['port', 'set', port.id, '--device-owner', 'compute:nova', '--device', `${P}fake-device`, '--host', 'c01']);
    const bound = await osJson<PortView>(['port', 'show', port.id]);
    expect(bound).toMatchObject({ device_owner: 'compute:nova', device_id: `${P}fake-device`, binding_host_id: 'c01' });

    await osOk(['port', 'set', port.id, '--device', '', '--device-owner', '', '--no-binding-profile']);
    const half = await osJson<PortView>(['port', 'show', port.id]);
    expect(half.device_owner).toBe('');
    // the client bug the bot routes around: an empty --device is never sent
    expect(half.device_id).toBe(`${P}fake-device`);

    const rest = await Rest.login();
    const r = await rest.call<{ port: Record<string, unknown> }>('PUT', `${NEUTRON_URL}/ports/${port.id}`, {
      port: { device_id: '', device_owner: '', 'binding:host_id': '', 'binding:profile': {} },
    });
    expect(r.status).toBe(200);
    const clean = await osJson<PortView>(['port', 'show', port.id]);
    expect(clean.device_id).toBe('');
    expect(clean.binding_host_id ?? '').toBe('');
  });

  it('bulk-creates 10 ports in one request and deletes them with one CLI call', async () => {
    const net = (await osJson<{ id: string }>(['network', 'show', 'Public_AGILE'])).id;
    const rest = await Rest.login();
    const body = { ports: Array.from({ length: 10 }, (_, i) => ({ network_id: net, name: `${P}bulk-${i}` })) };
    const r = await rest.call<{ ports: PortView[] }>('POST', `${NEUTRON_URL}/ports`, body);
    expect(r.status).toBe(201);
    expect(r.body.ports).toHaveLength(10);
    const ips = r.body.ports.map((p) => v4(p)[0]);
    expect(new Set(ips).size).toBe(10);

    const listed = await osJson<ListedPort[]>(['port', 'list', '--network', 'Public_AGILE']);
    const ids = listed.filter((p) => p.Name.startsWith(`${P}bulk-`)).map((p) => p.ID);
    expect(ids.sort()).toEqual(r.body.ports.map((p) => p.id).sort());
    await osOk(['port', 'delete', ...ids]);
    const after = await osJson<ListedPort[]>(['port', 'list', '--network', 'Public_AGILE']);
    expect(after.filter((p) => p.Name.startsWith(`${P}bulk-`))).toEqual([]);
  });
});
