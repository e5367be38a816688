/** Group look-ups under a click storm: one Slack call per group per TTL, failures never cached. */
import { expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { cachedGroupResolver } from '../../approvals/cached-group-resolver.js';
import type { GroupResolver } from '../../approvals/group-resolver.js';

function counting(table: Record<string, string[]>, failNext = { n: 0 }) {
  const calls: string[] = [];
  const r: GroupResolver = {
    async members(g) {
      calls.push(g);
      await new Promise((res) => setImmediate(res)); // a real round trip is never synchronous
      if (failNext.n > 0) {
        failNext.n--;
        throw new Error('ratelimited');
      }
      return table[g] ?? [];
    },
  };
  return { r, calls };
}

it('shares one call among concurrent look-ups and asks again after the TTL', async () => {
  const clock = new ManualClock();
  const table = { S0LEADS: ['U1'] };
  const { r, calls } = counting(table);
  const c = cachedGroupResolver(r, clock, { ttlMs: 10_000 });
  const all = await Promise.all(Array.from({ length: 100 }, () => c.members('S0LEADS')));
  expect(all.every((m) => m.includes('U1'))).toBe(true);
  expect(calls).toEqual(['S0LEADS']);
  table.S0LEADS = ['U2'];
  clock.advance(9_999);
  expect(await c.members('S0LEADS')).toEqual(['U1']);
  clock.advance(1);
  expect(await c.members('S0LEADS')).toEqual(['U2']);
  expect(calls).toHaveLength(2);
});

it('does not cache a failure', async () => {
  const fail = { n: 1 };
  const { r, calls } = counting({ S0LEADS: ['U1'] }, fail);
  const c = cachedGroupResolver(r, new ManualClock());
  await expect(c.members('S0LEADS')).rejects.toThrow('ratelimited');
  expect(await c.members('S0LEADS')).toEqual(['U1']);
  expect(calls).toHaveLength(2);
});
