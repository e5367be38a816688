/**
 * Contract of `moveConsumerAllocations` on the lab, REST and CLI backends: a server's Placement
 * allocations go from c01's provider to c02's and back (what the SQL way of /node evacuate needs),
 * a second move is a no-op, and the provider usages follow. Run under the c01/c02 lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cloud } from '../../../adapters/openstack/cloud.js';
import type { RestCloud } from '../../../adapters/openstack/rest-cloud.js';
import { labClouds, labInfo, LabSeeder } from './lab-fixtures.js';

describe('Cloud contract: moving Placement allocations', () => {
  let rest: RestCloud;
  let clouds: Record<'rest' | 'cli', Cloud>;
  let seed: LabSeeder;

  beforeAll(async () => {
    const c = labClouds(labInfo());
    rest = c.rest;
    clouds = { rest: c.rest, cli: c.cli };
    seed = new LabSeeder(rest);
  });
  afterAll(async () => {
    await seed?.cleanup();
    await rest?.close();
  });

  it.each(['rest', 'cli'] as const)("%s: moves a server's allocations c01 → c02 and back, idempotently", async (backend) => {
    const cloud = clouds[backend];
    const s = await seed.server('c01');
    const c01 = (await rest.getHostUsage('c01'))!.providerId;
    const c02 = (await rest.getHostUsage('c02'))!.providerId;
    const before = await rest.getConsumerAllocations(s.id);
    expect(Object.keys(before)).toEqual([c01]);

    const moved = await cloud.moveConsumerAllocations(s.id, c01, c02);
    expect(moved).toEqual({ [c02]: before[c01] });
    expect(await rest.getConsumerAllocations(s.id)).toEqual({ [c02]: before[c01] });
    expect((await rest.getHostUsage('c02'))!.allocations[s.id]).toEqual(before[c01]);
    expect((await rest.getHostUsage('c01'))!.allocations[s.id]).toBeUndefined();
    // nothing left on c01: a second move changes nothing
    expect(await cloud.moveConsumerAllocations(s.id, c01, c02)).toEqual({ [c02]: before[c01] });

    await cloud.moveConsumerAllocations(s.id, c02, c01);
    expect(await rest.getConsumerAllocations(s.id)).toEqual(before);
  });
});
