/**
 * The start-up sweep of /ip recover's probe ports over a wire-level Neutron (FakeOpenStackWire): it
 * cleans up after operations of its own store and leaves alone the probes of an operation another
 * live replica runs, and those of an operation its store does not know — another bot on the same
 * cloud, whose probe rounds would lose their count if their ports vanished under them.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sweepProbes } from '../../../actions/ip/probe-sweep.js';
import { PROBE_OWNER, probeName } from '../../../actions/ip/ip-network.js';
import { RestCloud } from '../../../adapters/openstack/rest-cloud.js';
import type { OperationRecord as Operation } from '../../../store/store.js';
import { FakeOpenStackWire } from '../../adapters/openstack/fake-openstack-wire.js';

const MINE = 'op-aaaaaaaaaaaa'; // ended in this store: its probes are leftovers of a killed process
const OTHER_REPLICA = 'op-cccccccccccc'; // running on another replica of this store, lease valid
const FOREIGN = 'op-bbbbbbbbbbbb'; // not in this store: another bot's

interface WirePort {
  id: string;
  name: string;
  network_id: string;
  mac_address: string;
  status: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  device_owner: string;
}

let wire: FakeOpenStackWire;
let cloud: RestCloud;
let ports: WirePort[];

const probe = (op: string, n: number, ip: string): WirePort => ({
  id: `${op}-${n}`,
  name: probeName(op),
  network_id: 'net-1',
  mac_address: 'fa:16:3e:00:00:01',
  status: 'DOWN',
  fixed_ips: [{ subnet_id: 'sub-1', ip_address: ip }],
  device_owner: PROBE_OWNER,
});

beforeEach(async () => {
  ports = [probe(MINE, 1, '198.51.100.44'), probe(MINE, 2, '198.51.100.45'), probe(FOREIGN, 1, '198.51.100.46'), probe(FOREIGN, 2, '198.51.100.47')];
  ports.push(probe(OTHER_REPLICA, 1, '198.51.100.48'));
  wire = await new FakeOpenStackWire().start();
  wire.route('GET', /^\/network\/v2\.0\/ports(\?|$)/, (r) => {
    const q = new URL(r.path, 'http://x').searchParams;
    const match = (p: WirePort) => (!q.get('name') || p.name === q.get('name')) && (!q.get('device_owner') || p.device_owner === q.get('device_owner'));
    return { status: 200, body: { ports: ports.filter(match) } };
  });
  wire.route('DELETE', /^\/network\/v2\.0\/ports\/[^/]+$/, (r) => {
    const id = decodeURIComponent(r.path.split('/').at(-1)!);
    const before = ports.length;
    ports = ports.filter((p) => p.id !== id);
    return before === ports.length ? { status: 404, body: { NeutronError: { message: 'not found' } } } : { status: 204 };
  });
  wire.route('PUT', /^\/network\/v2\.0\/ports\/[^/]+$/, (r) => {
    const id = decodeURIComponent(r.path.split('/').at(-1)!);
    const p = ports.find((x) => x.id === id)!;
    Object.assign(p, (r.body as { port: Partial<WirePort> }).port);
    return { status: 200, body: { port: p } };
  });
  cloud = new RestCloud(wire.cloudConfig(), { backoffMs: 1, timeoutMs: 2_000 });
});
afterEach(async () => {
  await cloud.close();
  await wire.stop();
});

it("clears its own operations' probes (keeping the one holding the address), and never touches another bot's or a live replica's", async () => {
  const now = 1_000_000;
  const ops: Record<string, Partial<Operation>> = {
    [MINE]: {
      id: MINE,
      runbook: 'ip.recover',
      state: 'failed',
      plan: { resolved: { ip: '198.51.100.45', keptName: 'kept-mine' } } as unknown as Operation['plan'],
    },
    [OTHER_REPLICA]: {
      id: OTHER_REPLICA,
      runbook: 'ip.recover',
      state: 'running',
      owner: 'replica-b',
      leaseUntil: now + 30_000,
      plan: { resolved: {} } as unknown as Operation['plan'],
    },
  };
  const store = {
    getOperation: async (id: string) => ops[id] as Operation | undefined,
    clock: { now: () => now },
  } as unknown as Parameters<typeof sweepProbes>[1];

  const r = await sweepProbes(cloud, store, 'replica-a');

  expect(r).toEqual({ deleted: 1, kept: [`${MINE}-2`], leftToOthers: [OTHER_REPLICA], foreign: [FOREIGN] });
  expect(ports.map((p) => `${p.id} ${p.name}`).sort()).toEqual([
    `${MINE}-2 kept-mine`,
    `${FOREIGN}-1 ${probeName(FOREIGN)}`,
    `${FOREIGN}-2 ${probeName(FOREIGN)}`,
    `${OTHER_REPLICA}-1 ${probeName(OTHER_REPLICA)}`,
  ]);
  // nothing was deleted but this store's own leftover
  expect(wire.requests.filter((q) => q.method === 'DELETE').map((q) => q.path.split('/').at(-1))).toEqual([`${MINE}-1`]);
});
