/**
 * Where an address sits on a network: which subnet holds it, and whether a port could ever hold it.
 * Pure (ipaddr.js, no I/O), so the runbooks' plans and the property tests share one answer. The
 * address is in canonical form already (core/values.ts `ipAddress`); so are Neutron's.
 */
import ipaddr from 'ipaddr.js';

/** The part of a Neutron subnet this needs (adapters/openstack/cloud.ts Subnet has it). */
export interface SubnetShape {
  id: string;
  name: string;
  cidr: string;
  ipVersion: number;
  gatewayIp: string | null;
  allocationPools: readonly { start: string; end: string }[];
}

export type Placement<S extends SubnetShape> =
  | {
      ok: true;
      subnet: S;
      /** Inside an allocation pool: Neutron may hand it out by itself (the probe fallback can only find such addresses). */
      inPool: boolean;
      /** How many addresses the subnet's pools hold together. */
      poolSize: bigint;
    }
  | { ok: false; problem: string };

/**
 * The address as a number (IPv4 and IPv6 alike), for range comparisons. Give it canonical forms only:
 * ipaddr.js reads the deprecated IPv4-compatible form `::1.2.3.4` as if it were `::ffff:1.2.3.4`.
 */
export function addressNumber(ip: string): bigint {
  return ipaddr
    .parse(ip)
    .toByteArray()
    .reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

function rangeOf(cidr: string): {
  first: bigint;
  last: bigint;
  bits: number;
  prefix: number;
} {
  const [addr, prefix] = ipaddr.parseCIDR(cidr);
  const bits = addr.kind() === 'ipv6' ? 128 : 32;
  const size = 1n << BigInt(bits - prefix);
  const first = addressNumber(addr.toString()) & ~(size - 1n);
  return { first, last: first + size - 1n, bits, prefix };
}

/** Addresses in the pools together. */
export function poolSizeOf(s: Pick<SubnetShape, 'allocationPools'>): bigint {
  return s.allocationPools.reduce((n, p) => n + (addressNumber(p.end) - addressNumber(p.start) + 1n), 0n);
}

/**
 * The subnet of `subnets` that holds `ip`, or the reason no port can hold it: outside every subnet,
 * the network or broadcast address of an IPv4 subnet (none on /31 and /32, RFC 3021), the
 * subnet-router anycast address of an IPv6 subnet, or the subnet's gateway.
 */
export function placeAddress<S extends SubnetShape>(ip: string, subnets: readonly S[], networkName: string): Placement<S> {
  const kind = ipaddr.parse(ip).kind();
  const n = addressNumber(ip);
  const version = kind === 'ipv6' ? 6 : 4;
  for (const subnet of subnets) {
    if (subnet.ipVersion !== version) continue;
    const r = rangeOf(subnet.cidr);
    if (n < r.first || n > r.last) continue;
    if (version === 4 && r.prefix <= 30 && n === r.first)
      return {
        ok: false,
        problem: `${ip} is the network address of ${subnet.cidr} (subnet ${subnet.name || subnet.id}): no port can hold it`,
      };
    if (version === 4 && r.prefix <= 30 && n === r.last)
      return {
        ok: false,
        problem: `${ip} is the broadcast address of ${subnet.cidr} (subnet ${subnet.name || subnet.id}): no port can hold it`,
      };
    if (version === 6 && r.prefix < 127 && n === r.first)
      return {
        ok: false,
        problem: `${ip} is the subnet-router anycast address of ${subnet.cidr} (subnet ${subnet.name || subnet.id}): no port can hold it`,
      };
    if (subnet.gatewayIp && addressNumber(subnet.gatewayIp) === n)
      return {
        ok: false,
        problem: `${ip} is the gateway of subnet ${subnet.name || subnet.id} (${subnet.cidr}): it is not for a server`,
      };
    const inPool = subnet.allocationPools.some((p) => n >= addressNumber(p.start) && n <= addressNumber(p.end));
    return { ok: true, subnet, inPool, poolSize: poolSizeOf(subnet) };
  }
  // IPv4 first, then IPv6, each in address order: the same message whatever order Neutron lists them in
  const cidrs = [...subnets]
    .map((s) => s.cidr)
    .sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')) || a.localeCompare(b, 'en', { numeric: true }))
    .join(', ');
  return {
    ok: false,
    problem: `${ip} is outside every IPv${version} subnet of network ${networkName} (${cidrs || 'it has no subnets'})`,
  };
}
