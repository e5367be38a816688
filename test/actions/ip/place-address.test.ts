import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import ipaddr from 'ipaddr.js';
import { addressNumber, placeAddress, poolSizeOf, type SubnetShape } from '../../../actions/ip/place-address.js';
import { canonicalIp, ipAddress } from '../../../core/values.js';

// The lab's Public_AGILE, as Neutron describes it.
const V4: SubnetShape = {
  id: 'v4',
  name: 'Public_AGILE_v4',
  cidr: '192.0.2.0/24',
  ipVersion: 4,
  gatewayIp: '192.0.2.1',
  allocationPools: [{ start: '192.0.2.10', end: '192.0.2.250' }],
};
const V6: SubnetShape = {
  id: 'v6',
  name: 'Public_AGILE_v6',
  cidr: '2001:db8:a61e::/64',
  ipVersion: 6,
  gatewayIp: '2001:db8:a61e::1',
  allocationPools: [{ start: '2001:db8:a61e::10', end: '2001:db8:a61e::ffff' }],
};
const NET = [V4, V6];
const place = (ip: string) => placeAddress(ipAddress.parse(ip), NET, 'Public_AGILE');

describe('placeAddress', () => {
  it('finds the subnet of an IPv4 or IPv6 address, in canonical form whatever was typed', () => {
    expect(place('192.0.2.107')).toMatchObject({
      ok: true,
      subnet: { id: 'v4' },
      inPool: true,
      poolSize: 241n,
    });
    expect(place('2001:DB8:A61E:0:0:0:0:dc')).toMatchObject({
      ok: true,
      subnet: { id: 'v6' },
      inPool: true,
      poolSize: 0xfff0n,
    });
    expect(place('192.0.2.5')).toMatchObject({ ok: true, inPool: false });
    expect(place('2001:db8:a61e::1:0')).toMatchObject({
      ok: true,
      inPool: false,
    });
  });

  it('refuses network, broadcast, anycast and gateway addresses, and addresses outside every subnet, saying which', () => {
    expect(place('192.0.2.0')).toEqual({
      ok: false,
      problem: '192.0.2.0 is the network address of 192.0.2.0/24 (subnet Public_AGILE_v4): no port can hold it',
    });
    expect(place('192.0.2.255')).toEqual({
      ok: false,
      problem: '192.0.2.255 is the broadcast address of 192.0.2.0/24 (subnet Public_AGILE_v4): no port can hold it',
    });
    expect(place('192.0.2.1')).toEqual({
      ok: false,
      problem: '192.0.2.1 is the gateway of subnet Public_AGILE_v4 (192.0.2.0/24): it is not for a server',
    });
    expect(place('2001:db8:a61e::')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('subnet-router anycast address'),
    });
    expect(place('2001:db8:a61e::1')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('gateway'),
    });
    expect(place('96.118.182.107')).toEqual({
      ok: false,
      problem: '96.118.182.107 is outside every IPv4 subnet of network Public_AGILE (192.0.2.0/24, 2001:db8:a61e::/64)',
    });
    // the same words whatever order Neutron lists the subnets in
    expect(placeAddress(ipAddress.parse('96.118.182.107'), [V6, V4], 'Public_AGILE')).toEqual(place('96.118.182.107'));
    expect(place('2001:db8:a61f::7')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('outside every IPv6 subnet'),
    });
    expect(placeAddress('10.0.0.5', [], 'empty')).toEqual({
      ok: false,
      problem: '10.0.0.5 is outside every IPv4 subnet of network empty (it has no subnets)',
    });
  });

  it('has no network or broadcast address on /31 and /32 (RFC 3021)', () => {
    const p2p: SubnetShape = {
      id: 'p',
      name: 'p2p',
      cidr: '198.51.100.0/31',
      ipVersion: 4,
      gatewayIp: null,
      allocationPools: [{ start: '198.51.100.0', end: '198.51.100.1' }],
    };
    expect(placeAddress('198.51.100.0', [p2p], 'n')).toMatchObject({
      ok: true,
      poolSize: 2n,
    });
    expect(placeAddress('198.51.100.1', [p2p], 'n')).toMatchObject({
      ok: true,
    });
  });

  it('property: every address of a random IPv4 subnet but network, broadcast and gateway has a place; no address outside it does', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 8, max: 30 }), fc.ipV4(), (base, prefix, probe) => {
        const size = 1n << BigInt(32 - prefix);
        const first = addressNumber(base) & ~(size - 1n);
        const text = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
        const subnet: SubnetShape = {
          id: 's',
          name: 's',
          cidr: `${text(first)}/${prefix}`,
          ipVersion: 4,
          gatewayIp: text(first + 1n),
          allocationPools: [{ start: text(first + 2n), end: text(first + size - 2n) }],
        };
        const n = addressNumber(probe);
        const r = placeAddress(probe, [subnet], 'n');
        const inside = n >= first && n < first + size;
        const special = n === first || n === first + size - 1n || n === first + 1n;
        expect(r.ok).toBe(inside && !special);
        if (r.ok) expect(r.inPool).toBe(n >= first + 2n && n <= first + size - 2n);
        if (!r.ok) expect(r.problem.startsWith(`${probe} is `)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: the canonical form is what Neutron stores (RFC 5952: compressed, lower-case), typed any way', () => {
    fc.assert(
      fc.property(fc.ipV6(), (typed) => {
        const c = canonicalIp(typed);
        expect(c).toBeDefined();
        // an independent formatter leaves it as it is, and so does a second pass
        expect(ipaddr.IPv6.parse(c!).toRFC5952String()).toBe(c);
        expect(canonicalIp(c!)).toBe(c);
        expect(canonicalIp(typed.toUpperCase())).toBe(c);
        if (!typed.includes('.')) expect(addressNumber(c!)).toBe(addressNumber(typed));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps an IPv4-compatible address apart from an IPv4-mapped one (ipaddr.js alone would merge them)', () => {
    expect(canonicalIp('::1.2.3.4')).toBe('::102:304');
    expect(canonicalIp('::ffff:1.2.3.4')).toBe('::ffff:102:304');
    expect(addressNumber('::102:304')).not.toBe(addressNumber('::ffff:102:304'));
  });

  it('counts pool sizes across several pools', () => {
    expect(
      poolSizeOf({
        allocationPools: [
          { start: '10.0.0.2', end: '10.0.0.9' },
          { start: '10.0.0.20', end: '10.0.0.20' },
        ],
      }),
    ).toBe(9n);
  });
});
