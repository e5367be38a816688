import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../core/clock.js';
import type { CloudConfig } from '../../../adapters/openstack/cloud-config.js';
import { OpenStackApiError } from '../../../adapters/openstack/openstack-errors.js';
import { RestCloud, type RestCloudOptions } from '../../../adapters/openstack/rest-cloud.js';
import { FakeOpenStackWire } from './fake-openstack-wire.js';

const svc = (over: Record<string, unknown> = {}) => ({
  id: 'aaaaaaaa-0000-4000-8000-000000000001',
  host: 'c01',
  binary: 'nova-compute',
  zone: 'nova',
  status: 'enabled',
  state: 'up',
  disabled_reason: null,
  forced_down: false,
  updated_at: '2026-11-25T12:00:00.000000',
  ...over,
});

let wire: FakeOpenStackWire;
let cloud: RestCloud;
const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));

function config(over: Partial<CloudConfig> = {}): CloudConfig {
  return wire.cloudConfig('test', over);
}
function open(opts: RestCloudOptions = {}, over: Partial<CloudConfig> = {}): RestCloud {
  cloud = new RestCloud(config(over), { clock, backoffMs: 1, timeoutMs: 2_000, ...opts });
  return cloud;
}
async function failure(p: Promise<unknown>): Promise<OpenStackApiError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(OpenStackApiError);
  return e as OpenStackApiError;
}

beforeEach(async () => {
  wire = await new FakeOpenStackWire().start();
  wire.expiresAt = () => new Date(clock.now() + 3600_000).toISOString();
  wire.route('GET', /^\/compute\/v2\.1\/os-services/, () => ({ status: 200, body: { services: [svc()] } }));
});
afterEach(async () => {
  await cloud?.close();
  await wire.stop();
});

describe('Keystone session', () => {
  it('authenticates with a project-scoped password body and sends the pinned Nova microversion', async () => {
    const s = await open().getComputeService('c01');
    expect(s?.id).toBe('aaaaaaaa-0000-4000-8000-000000000001');
    const auth = wire.requests[0]!;
    expect(auth.body).toEqual({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'pw' } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    });
    const call = wire.requests[1]!;
    expect(call.path).toBe('/compute/v2.1/os-services?host=c01&binary=nova-compute');
    expect(call.headers['openstack-api-version']).toBe('compute 2.79');
    expect(call.headers['x-openstack-nova-api-version']).toBe('2.79');
    expect(call.headers['x-auth-token']).toBe('tok-1');
  });

  it('authenticates with an application credential and no explicit scope', async () => {
    await open(
      {},
      { auth: { type: 'v3applicationcredential', authUrl: `${wire.base}/v3`, applicationCredentialId: 'ac-1', applicationCredentialSecret: 's3cret' } },
    ).listComputeServices();
    expect(wire.requests[0]!.body).toEqual({
      auth: { identity: { methods: ['application_credential'], application_credential: { id: 'ac-1', secret: 's3cret' } } },
    });
  });

  it('picks the endpoint by interface and region', async () => {
    wire.route('GET', /^\/internal\/compute\/v2\.1\/os-services/, () => ({ status: 200, body: { services: [svc({ host: 'internal' })] } }));
    wire.route('GET', /^\/r2\/compute\/v2\.1\/os-services/, () => ({ status: 200, body: { services: [svc({ host: 'r2' })] } }));
    expect((await open({}, { interface: 'internal' }).listComputeServices())[0]?.host).toBe('internal');
    await cloud.close();
    expect((await open({}, { regionName: 'RegionTwo' }).listComputeServices())[0]?.host).toBe('r2');
    await cloud.close();
    const e = await failure(open({}, { regionName: 'Nowhere' }).listComputeServices());
    expect(e.message).toMatch(/no compute endpoint for interface public in region Nowhere/);
  });

  it('reuses the token, and renews it 5 minutes before expires_at', async () => {
    open();
    await cloud.listComputeServices();
    clock.advance(54 * 60_000);
    await cloud.listComputeServices();
    expect(wire.tokensIssued).toBe(1);
    clock.advance(2 * 60_000); // 4 minutes left: inside the margin
    await cloud.listComputeServices();
    expect(wire.tokensIssued).toBe(2);
    expect(wire.requests.at(-1)!.headers['x-auth-token']).toBe('tok-2');
  });

  it('renews once on a 401 and re-sends a write exactly once', async () => {
    wire.route('PUT', /os-services\//, () => ({ status: 200, body: { service: svc({ status: 'disabled', disabled_reason: 'maintenance' }) } }));
    open();
    await cloud.listComputeServices();
    wire.revokeAll(); // token revoked server-side while still "valid" by its expiry
    const s = await cloud.disableComputeService('c01', 'nova-compute', 'maintenance');
    expect(s.status).toBe('disabled');
    expect(wire.tokensIssued).toBe(2);
    expect(wire.count('PUT', /os-services\//)).toBe(1);
    expect(wire.requests.find((r) => r.method === 'PUT')!.body).toEqual({ status: 'disabled', disabled_reason: 'maintenance' });
  });

  it('gives up after one renewal when the service keeps answering 401', async () => {
    wire.route('GET', /^\/network\/v2\.0\/ports/, () => ({ status: 401, body: { error: { message: 'nope' } } }));
    const e = await failure(open().listPorts());
    expect(e.status).toBe(401);
    expect(wire.tokensIssued).toBe(2);
    expect(wire.count('GET', /ports/)).toBe(2);
  });

  it('shares one renewal between concurrent calls', async () => {
    open();
    await Promise.all([cloud.listComputeServices(), cloud.listComputeServices(), cloud.listComputeServices()]);
    expect(wire.tokensIssued).toBe(1);
  });

  it("reports Keystone's own message when authentication fails", async () => {
    wire.authReply = {
      status: 401,
      headers: { 'x-openstack-request-id': 'req-k1' },
      body: { error: { code: 401, title: 'Unauthorized', message: 'The account is locked for user: x.' } },
    };
    const e = await failure(open().stopServer('s-1'));
    expect(e).toMatchObject({
      code: 'OPENSTACK_API',
      status: 401,
      requestId: 'req-k1',
      apiMessage: 'The account is locked for user: x.',
      method: 'POST',
      outcome: 'not-sent',
    });
    expect(wire.count('POST', /action/)).toBe(0);
  });
});

describe('timeouts, retries and errors', () => {
  it('retries a read on 503 and 429, then succeeds', async () => {
    wire.route('GET', /^\/network\/v2\.0\/ports/, (_r, n) =>
      n === 1
        ? { status: 503, body: 'Service Unavailable' }
        : n === 2
          ? { status: 429, headers: { 'retry-after': '0' } }
          : { status: 200, body: { ports: [] } },
    );
    expect(await open().listPorts()).toEqual([]);
    expect(wire.count('GET', /ports/)).toBe(3);
  });

  it('never retries a write that got a 5xx, and says the API refused it', async () => {
    wire.route('POST', /\/action$/, () => ({
      status: 500,
      headers: { 'x-compute-request-id': 'req-n1' },
      body: { computeFault: { code: 500, message: 'Unexpected API Error.' } },
    }));
    const e = await failure(open().rebootServer('s-1', 'HARD'));
    expect(e).toMatchObject({ status: 500, outcome: 'rejected', requestId: 'req-n1', apiMessage: 'Unexpected API Error.', apiType: 'computeFault' });
    expect(wire.count('POST', /\/action$/)).toBe(1);
  });

  it('a write that times out has an unknown outcome and is sent once', async () => {
    wire.route('POST', /\/action$/, () => 'hang');
    const e = await failure(open({ timeoutMs: 300 }).liveMigrateServer('s-1', { blockMigration: 'auto' }));
    expect(e.outcome).toBe('unknown');
    expect(e.message).toMatch(/read the state back/);
    expect(wire.count('POST', /\/action$/)).toBe(1);
    expect(wire.requests.find((r) => r.method === 'POST' && /action/.test(r.path))!.body).toEqual({
      'os-migrateLive': { host: null, block_migration: 'auto' },
    });
  });

  it('a write whose connection drops has an unknown outcome too', async () => {
    wire.route('POST', /\/action$/, () => 'destroy');
    expect((await failure(open().evacuateServer('s-1', { host: 'c02' }))).outcome).toBe('unknown');
    expect(wire.count('POST', /\/action$/)).toBe(1);
  });

  it('a read that times out is retried up to its attempt limit', async () => {
    wire.route('GET', /^\/compute\/v2\.1\/servers\/s-1$/, () => 'hang');
    const e = await failure(open({ timeoutMs: 200, readAttempts: 3 }).getServer('s-1'));
    expect(e.outcome).not.toBe('unknown');
    expect(wire.count('GET', /servers\/s-1$/)).toBe(3);
  });

  it('a connection refused means the request was never sent', async () => {
    open({ readAttempts: 1 });
    await cloud.listComputeServices();
    await wire.stop();
    const e = await failure(cloud.stopServer('s-1'));
    expect(e.outcome).toBe('not-sent');
  });

  it.each([
    [
      'Nova conflictingRequest',
      { conflictingRequest: { code: 409, message: "Cannot 'os-migrateLive' instance while it is in task_state migrating" } },
      { apiType: 'conflictingRequest', apiMessage: "Cannot 'os-migrateLive' instance while it is in task_state migrating" },
    ],
    [
      'Neutron',
      { NeutronError: { type: 'IpAddressAlreadyAllocated', message: 'IP address 192.0.2.77 already allocated in subnet x', detail: '' } },
      { apiType: 'IpAddressAlreadyAllocated', apiMessage: 'IP address 192.0.2.77 already allocated in subnet x' },
    ],
    ['Placement', { errors: [{ status: 409, title: 'Conflict', detail: 'consumer generation conflict' }] }, { apiMessage: 'consumer generation conflict' }],
    ['plain text', '<html><body><h1>409 Conflict</h1>There was a conflict.</body></html>', { apiMessage: '409 Conflict There was a conflict.' }],
  ])('shapes a %s error body', async (_name, body, expected) => {
    wire.route('POST', /^\/network\/v2\.0\/ports$/, () => ({ status: 409, headers: { 'x-openstack-request-id': 'req-q1' }, body }));
    const e = await failure(open().createPort({ networkId: 'n-1', fixedIp: { ipAddress: '192.0.2.77' } }));
    expect(e).toMatchObject({ method: 'POST', url: `${wire.base}/network/v2.0/ports`, status: 409, requestId: 'req-q1', outcome: 'rejected', ...expected });
  });

  it('refuses a response that does not match its schema', async () => {
    wire.route('GET', /^\/compute\/v2\.1\/servers\/s-1$/, () => ({ status: 200, body: { server: { id: 's-1' } } }));
    const e = await failure(open().getServer('s-1'));
    expect(e.apiMessage).toMatch(/server\.name/);
  });

  it('returns undefined for a 404 on a get', async () => {
    expect(await open().getServer('gone')).toBeUndefined();
  });
});

describe('REST requests', () => {
  const server = (id: string) => ({ id, name: id, status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'c01', 'OS-EXT-STS:task_state': null });

  it('pages through servers on a host across projects with limit/marker', async () => {
    wire.route('GET', /^\/compute\/v2\.1\/servers\/detail/, (r) => {
      const q = new URL(r.path, 'http://x').searchParams;
      const marker = q.get('marker');
      const page = marker === null ? ['a', 'b'] : marker === 'b' ? ['c'] : [];
      return { status: 200, body: { servers: page.map(server), ...(page.length === 2 ? { servers_links: [{ rel: 'next', href: 'x' }] } : {}) } };
    });
    const list = await open().listServersOnHost({ host: 'c01', pageSize: 2 });
    expect(list.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    const first = new URL(wire.requests[1]!.path, 'http://x').searchParams;
    expect(Object.fromEntries(first)).toEqual({ host: 'c01', all_tenants: '1', limit: '2' });
  });

  it('filters ports by fixed IP and creates several in one request', async () => {
    const port = (id: string, ip: string) => ({
      id,
      name: 'ip-recovery',
      network_id: 'n-1',
      mac_address: 'fa:16:3e:00:00:01',
      status: 'DOWN',
      fixed_ips: [{ subnet_id: 's-1', ip_address: ip }],
      device_id: '',
      device_owner: '',
      'binding:host_id': '',
      'binding:profile': {},
    });
    wire.route('GET', /^\/network\/v2\.0\/ports/, () => ({ status: 200, body: { ports: [port('p-1', '192.0.2.77')] } }));
    wire.route('POST', /^\/network\/v2\.0\/ports$/, (r) => ({
      status: 201,
      body: { ports: (r.body as { ports: unknown[] }).ports.map((_, i) => port(`p-${i}`, `192.0.2.${10 + i}`)) },
    }));
    open();
    const found = await cloud.listPorts({ fixedIp: '192.0.2.77', networkId: 'n-1' });
    expect(found[0]?.fixedIps).toEqual([{ subnetId: 's-1', ipAddress: '192.0.2.77' }]);
    expect(wire.requests[1]!.path).toBe('/network/v2.0/ports?network_id=n-1&fixed_ips=ip_address%3D192.0.2.77');
    const made = await cloud.createPorts(Array.from({ length: 10 }, () => ({ networkId: 'n-1', name: 'ip-recovery' })));
    expect(made).toHaveLength(10);
    expect(wire.count('POST', /ports$/)).toBe(1);
  });

  it('clears a port binding with one PUT', async () => {
    wire.route('PUT', /^\/network\/v2\.0\/ports\/p-1$/, () => ({
      status: 200,
      body: { port: { id: 'p-1', network_id: 'n', mac_address: 'm', status: 'DOWN' } },
    }));
    const p = await open().updatePort('p-1', { deviceId: '', deviceOwner: '', bindingHostId: '', bindingProfile: {} });
    expect(p.deviceId).toBe('');
    expect(wire.requests.at(-1)!.body).toEqual({ port: { device_id: '', device_owner: '', 'binding:host_id': '', 'binding:profile': {} } });
  });

  it('asks Cinder for attachments with its microversion and Placement for a host', async () => {
    wire.route('GET', /^\/volume\/v3\/p-1\/attachments\/detail/, () => ({
      status: 200,
      body: { attachments: [{ id: 'at-1', volume_id: 'v-1', instance: 's-1', status: 'attached' }] },
    }));
    wire.route('GET', /^\/placement\/resource_providers\?/, () => ({ status: 200, body: { resource_providers: [{ uuid: 'rp-1', name: 'c01' }] } }));
    wire.route('GET', /^\/placement\/resource_providers\/rp-1\/usages/, () => ({ status: 200, body: { usages: { VCPU: 2 } } }));
    wire.route('GET', /^\/placement\/resource_providers\/rp-1\/allocations/, () => ({
      status: 200,
      body: { allocations: { 's-1': { resources: { VCPU: 2 } } } },
    }));
    open();
    expect(await cloud.listVolumeAttachments({ instanceId: 's-1' })).toEqual([
      { id: 'at-1', volumeId: 'v-1', instanceId: 's-1', status: 'attached', attachedAt: null },
    ]);
    expect(wire.requests.at(-1)!.headers['openstack-api-version']).toBe('volume 3.27');
    expect(await cloud.getHostUsage('c01')).toEqual({ providerId: 'rp-1', providerName: 'c01', usages: { VCPU: 2 }, allocations: { 's-1': { VCPU: 2 } } });
    expect(wire.requests.at(-1)!.headers['openstack-api-version']).toBe('placement 1.28');
  });

  it("reads a host's capacity from Placement: (total − reserved) × allocation ratio, and its usages", async () => {
    wire.route('GET', /^\/placement\/resource_providers\?name=c02$/, () => ({ status: 200, body: { resource_providers: [{ uuid: 'rp-2', name: 'c02' }] } }));
    wire.route('GET', /^\/placement\/resource_providers\?name=gone$/, () => ({ status: 200, body: { resource_providers: [] } }));
    wire.route('GET', /^\/placement\/resource_providers\/rp-2\/inventories$/, () => ({
      status: 200,
      body: {
        resource_provider_generation: 7,
        inventories: {
          VCPU: { total: 8, reserved: 0, allocation_ratio: 4.0, min_unit: 1, max_unit: 8, step_size: 1 },
          MEMORY_MB: { total: 16384, reserved: 512, allocation_ratio: 1.5, min_unit: 1, max_unit: 16384, step_size: 1 },
        },
      },
    }));
    wire.route('GET', /^\/placement\/resource_providers\/rp-2\/usages$/, () => ({ status: 200, body: { usages: { VCPU: 3, MEMORY_MB: 2048 } } }));
    open();
    expect(await cloud.getHostCapacity('c02')).toEqual({
      providerId: 'rp-2',
      providerName: 'c02',
      capacity: { VCPU: 32, MEMORY_MB: 23808 },
      used: { VCPU: 3, MEMORY_MB: 2048 },
    });
    expect(wire.requests.at(-1)!.headers['openstack-api-version']).toBe('placement 1.28');
    expect(await cloud.getHostCapacity('gone')).toBeUndefined();
  });
});
