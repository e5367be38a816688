/**
 * What the /ip runbooks share: the network a command means (named, or the cloud's public one), where
 * an address sits on it, who holds an address, and the names of the ports /ip recover makes.
 */
import type { Cloud, Network, Port, Subnet } from '../../adapters/openstack/cloud.js';
import { InputError } from '../../core/errors.js';
import type { CloudDeps } from '../deps.js';
import { placeAddress } from './place-address.js';

/** device_owner of /ip recover's probe ports: one filtered list finds every one of them. */
export const PROBE_OWNER = 'chatops:ip-probe';
/** Every probe port of an operation carries its id, so a sweep knows whose it is. */
export const probeName = (opId: string): string => `ip-probe-${opId}`;
export const PROBE_NAME = /^ip-probe-(op-[a-z2-7]{12})$/;
/** The name of the port that keeps a recovered address when the operator gives none. */
export const defaultKeptName = (ip: string): string => `recovered-${ip}`;

/** The network named by `network=`, else the cloud's `publicNetwork`; a clear refusal otherwise. */
export async function resolveNetwork(c: CloudDeps, name: string | undefined, usage: string): Promise<Network> {
  const wanted = name ?? c.publicNetwork;
  if (!wanted) {
    throw new InputError(
      [{ path: 'network', message: `no network= given and cloud ${c.name} has no publicNetwork configured (clouds.${c.name}.publicNetwork)` }],
      usage,
    );
  }
  const net = await c.cloud.findNetwork(wanted);
  if (!net)
    throw new InputError([{ path: 'network', message: `Neutron has no network named ${wanted} (expected a network name or id, e.g. Public_AGILE)` }], usage);
  return net;
}

/** The subnet of `network` that holds `ip`, or an input error saying why none can. */
export async function subnetOf(c: CloudDeps, ip: string, network: Network, usage: string): Promise<{ subnet: Subnet; inPool: boolean; poolSize: bigint }> {
  const subnets = await c.cloud.listSubnets({ networkId: network.id });
  const place = placeAddress(ip, subnets, network.name);
  if (!place.ok) throw new InputError([{ path: 'ip', message: place.problem }], usage);
  return place;
}

/** The ports holding `ip` (Neutron's fixed-IP filter; canonical form on both sides). */
export function holdersOf(cloud: Cloud, ip: string): Promise<Port[]> {
  return cloud.listPorts({ fixedIp: ip });
}

/** "port web01 (id) on server web01 (uuid, ACTIVE)": who holds an address, for the thread. */
export async function describeHolder(cloud: Cloud, p: Port): Promise<string> {
  const port = `port ${p.name ? `${p.name} ` : ''}(${p.id})`;
  if (!p.deviceId) return `${port}, attached to nothing`;
  if (p.deviceOwner.startsWith('compute:')) {
    const s = await cloud.getServer(p.deviceId).catch(() => undefined);
    return s ? `${port} of server ${s.name} (${s.id}, ${s.status})` : `${port} of server ${p.deviceId}, which Nova no longer knows`;
  }
  return `${port}, owned by ${p.deviceOwner || 'nobody'} (${p.deviceId})`;
}
