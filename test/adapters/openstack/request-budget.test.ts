import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serviceOfCommand } from '../../../adapters/openstack/cli-cloud.js';
import { cliCommands } from '../../../adapters/openstack/cli-commands.js';
import { RequestBudget } from '../../../adapters/openstack/request-budget.js';

/** Start times the budget grants to requests made at `calls` (ms), for one service. */
function grants(limit: { perSecond: number; burst: number }, calls: number[]): number[] {
  let now = 0;
  const waits: number[] = [];
  const b = new RequestBudget({ default: limit, now: () => now, onWait: (_s, ms) => waits.push(ms) });
  return calls.map((t) => {
    now = t;
    const before = waits.length;
    void b.acquire('compute').catch(() => undefined);
    return t + (waits.length > before ? waits.at(-1)! : 0);
  });
}

describe('RequestBudget', () => {
  it('lets a burst through, then spaces requests at the rate', () => {
    const g = grants({ perSecond: 10, burst: 3 }, [0, 0, 0, 0, 0, 0]);
    expect(g).toEqual([0, 0, 0, 100, 200, 300]);
  });

  it('refills while quiet, never beyond the burst', () => {
    const g = grants({ perSecond: 10, burst: 2 }, [0, 0, 5_000, 5_000, 5_000]);
    expect(g).toEqual([0, 0, 5_000, 5_000, 5_100]);
  });

  it('keeps services apart and leaves an unnamed service unlimited when there is no default', async () => {
    const waited: string[] = [];
    const b = new RequestBudget({ services: { compute: { perSecond: 1, burst: 1 } }, onWait: (s) => waited.push(s) });
    expect(b.limitOf('network')).toBeUndefined();
    await Promise.all(Array.from({ length: 50 }, () => b.acquire('network')));
    await b.acquire('compute');
    expect(waited).toEqual([]);
    void b.acquire('compute').catch(() => undefined);
    expect(waited).toEqual(['compute']);
  });

  it('never grants more than burst + T·rate in any window (property)', () => {
    fc.assert(
      fc.property(
        fc.record({ perSecond: fc.integer({ min: 1, max: 200 }), burst: fc.integer({ min: 1, max: 20 }) }),
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 200 }),
        (limit, raw) => {
          const calls = [...raw].sort((a, b) => a - b);
          const g = grants(limit, calls).sort((a, b) => a - b);
          const interval = 1000 / limit.perSecond;
          for (let i = 0; i < g.length; i++) {
            for (let j = i; j < g.length; j++) {
              const allowed = limit.burst + (g[j]! - g[i]!) / interval + 1e-6;
              if (j - i + 1 > allowed) return false;
            }
          }
          // and no request waits longer than the queue in front of it needs
          return g.every((t, k) => t >= calls[k]!);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an aborted wait rejects with the signal’s reason', async () => {
    const b = new RequestBudget({ default: { perSecond: 0.1, burst: 1 } });
    await b.acquire('compute');
    const ac = new AbortController();
    const waiting = b.acquire('compute', ac.signal);
    ac.abort(new Error('operation aborted'));
    await expect(waiting).rejects.toThrow('operation aborted');
  });
});

describe('serviceOfCommand (the CLI backend’s budget)', () => {
  it('names the service each command talks to, past global options', () => {
    expect(serviceOfCommand(cliCommands.getServer('x').argv)).toBe('compute');
    expect(serviceOfCommand(cliCommands.getConsumerAllocations('x').argv)).toBe('placement');
    expect(serviceOfCommand(['openstack', '--os-cloud', 'lab', 'port', 'list'])).toBe('network');
    expect(serviceOfCommand(['openstack', '--os-volume-api-version', '3.27', 'volume', 'attachment', 'list'])).toBe('volume');
  });
});
