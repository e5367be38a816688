/**
 * Batched observation of a step's moves (actions/steps/nova-observer.ts) over the wire: a small Nova
 * on FakeOpenStackWire (servers that migrate on their own a few hundred ms after the request, migration
 * records, `changes-since` honoured as Nova does: updated_at ≥ since), read by the real RestCloud. What
 * is counted is what reached the wire.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RestCloud } from '../../adapters/openstack/rest-cloud.js';
import type { CloudDeps } from '../../actions/deps.js';
import { moveInstance, observingMoves, type PlannedInstance } from '../../actions/steps/migrate-instances.js';
import { NovaObserver, tickDelay, type PollSchedule } from '../../actions/steps/nova-observer.js';
import { drainRunbook } from '../../actions/node/drain.js';
import type { NodeDeps } from '../../actions/deps.js';
import type { Plan } from '../../core/types.js';
import { configSchema } from '../../bot/config.js';
import { systemClock } from '../../core/clock.js';
import { FakeOpenStackWire } from '../adapters/openstack/fake-openstack-wire.js';
import { MiniNova } from '../adapters/openstack/mini-nova.js';
import { drainOverWire } from './wire-drain.js';

const FAST: PollSchedule = {
  firstMs: 30,
  firstForMs: 1_000,
  thenMs: 60,
  thenForMs: 2_000,
  growth: 1.5,
  maxMs: 200,
  overlapMs: 1_000,
  verifyWithinMs: 10_000,
  safetyNetMs: 200,
};

let wire: FakeOpenStackWire;
let nova: MiniNova;
let cloud: RestCloud;

const deps = (polling = FAST): CloudDeps => ({ name: 'test', cloud, clock: systemClock, migrationTimeoutMs: 60_000, polling }) as unknown as CloudDeps;

/** Moves `instances` off c01 the way a drain step does (one observer for the batch); the wire's reads during the moves. */
async function moveBatch(instances: PlannedInstance[]) {
  const c = deps();
  const before = wire.requests.length;
  let stats: NovaObserver['stats'] | undefined;
  const moved = await observingMoves(c, 'c01', (observer) => {
    stats = observer.stats;
    return Promise.all(
      instances.map((i) =>
        moveInstance(c, i, {
          seen: { id: i.id, name: i.name, status: 'ACTIVE', taskState: null, host: 'c01' },
          source: 'c01',
          dest: 'c02',
          blockMigration: 'auto',
          signal: new AbortController().signal,
          observer,
          beforeStart: async () => undefined,
        }),
      ),
    );
  });
  const reqs = wire.requests.slice(before).filter((r) => !r.path.startsWith('/v3/'));
  const gets = reqs.filter((r) => r.method === 'GET');
  return {
    moved,
    stats: stats!,
    posts: reqs.filter((r) => r.method === 'POST').length,
    gets: gets.length,
    serverLists: gets.filter((r) => r.path.includes('/servers/detail')).length,
    migrationLists: gets.filter((r) => r.path.includes('/os-migrations') && r.path.includes('changes-since')).length,
    serverGets: gets.filter((r) => /\/servers\/[0-9a-f-]{36}$/.test(r.path)).length,
    recordReads: gets.filter((r) => r.path.includes('instance_uuid=')).length,
    paths: gets.map((r) => r.path),
  };
}

beforeEach(async () => {
  wire = await new FakeOpenStackWire().start();
  nova = new MiniNova(wire, { moveMs: 250 });
  cloud = new RestCloud(wire.cloudConfig(), { backoffMs: 1, timeoutMs: 2_000 });
});
afterEach(async () => {
  nova.stop();
  await cloud.close();
  await wire.stop();
});

describe('batched observation of a step’s moves', () => {
  it('reads Nova once a tick for the whole batch: 8 moves cost what 1 costs; a lone server is read with its own GET', async () => {
    const one = await moveBatch(nova.add(1));
    const eight = await moveBatch(nova.add(8));
    for (const r of [one, eight]) {
      expect(r.moved.every((m) => m.result === 'moved' && m.to === 'c02')).toBe(true);
      expect(r.recordReads, r.paths.join('\n')).toBe(0);
      // every GET is one read of a tick (the records' list, the servers' list or the one server's GET), each at most once per tick
      expect(r.gets).toBe(r.serverLists + r.migrationLists + r.serverGets);
      expect(r.migrationLists).toBeLessThanOrEqual(r.stats.ticks);
      expect(r.stats).toMatchObject({ serverLists: r.serverLists, migrationLists: r.migrationLists, serverGets: r.serverGets, singleReads: 0 });
      // while the records say the moves are under way (or Nova has not shown a just-requested move's
      // record yet: a new record has no updated_at) only the records are read; the servers once, to
      // verify every move of the batch when they have all ended: one list for the 8, one GET for the 1
      expect(r.serverLists + r.serverGets, r.paths.join('\n')).toBe(1);
    }
    expect([one.serverGets, eight.serverGets]).toEqual([1, 0]);
    expect(one.posts).toBe(1);
    expect(eight.posts).toBe(8);
    // the issue's floor: ≤ 3 nova-api requests per moved instance (8 moves and ~8 ticks: ~2.1)
    expect((eight.posts + eight.gets) / 8, eight.paths.join('\n')).toBeLessThanOrEqual(3);
    // a move takes MOVE_MS either way (the 8 end within a few ticks of each other): per-move polling would read ~8× as often
    expect(eight.gets, `1 move: ${one.gets} reads, 8 moves: ${eight.gets}`).toBeLessThan(4 * one.gets);
  });

  it('a check asked at once is one GET of its server: the moves waiting at the pace are not read for it', async () => {
    const [moving, next] = nova.add(2);
    const obs = new NovaObserver(cloud, { host: 'c01', schedule: { ...FAST, firstMs: 300, thenMs: 300, maxMs: 300 }, clock: systemClock });
    try {
      await obs.server(moving!.id, undefined, true); // the step's check: the observer's first tick
      await cloud.liveMigrateServer(moving!.id, { host: 'c02', blockMigration: 'auto' });
      obs.started(moving!.id);
      const before = wire.requests.length;
      const waiting = obs.settled(moving!.id); // at the pace: 300 ms after the start
      expect(await obs.server(next!.id, undefined, true)).toMatchObject({ id: next!.id, host: 'c01' });
      const asked = wire.requests.slice(before).map((r) => `${r.method} ${r.path}`);
      expect(asked, asked.join('\n')).toEqual([`GET /compute/v2.1/servers/${next!.id}`]);
      // the move's own tick comes at its pace, reading the records
      await waiting;
      expect(wire.requests.slice(before).filter((r) => r.path.includes('/os-migrations?')).length).toBeGreaterThanOrEqual(1);
    } finally {
      obs.close();
    }
  });

  it('asks only for what changed since the previous tick (less the overlap), host-filtered for the records', async () => {
    const t0 = Date.now();
    await moveBatch(nova.add(2));
    const lists = wire.requests.filter((r) => r.path.includes('changes-since'));
    const sinces = (re: RegExp) => lists.filter((r) => re.test(r.path)).map((r) => Date.parse(new URL(r.path, 'http://x').searchParams.get('changes-since')!));
    for (const s of [sinces(/servers\/detail/), sinces(/os-migrations/)]) {
      expect(s.length).toBeGreaterThan(0);
      expect(s[0]).toBeGreaterThanOrEqual(t0 - FAST.overlapMs - 50);
      expect(s[0]).toBeLessThanOrEqual(Date.now() - FAST.overlapMs);
      for (let k = 1; k < s.length; k++) expect(s[k]).toBeGreaterThanOrEqual(s[k - 1]!);
    }
    expect(sinces(/os-migrations/).at(-1)).toBeGreaterThan(sinces(/os-migrations/)[0]!);
    for (const r of lists.filter((x) => x.path.includes('os-migrations'))) expect(new URL(r.path, 'http://x').searchParams.get('host')).toBe('c01');
    for (const r of lists.filter((x) => x.path.includes('servers/detail'))) expect(new URL(r.path, 'http://x').searchParams.get('all_tenants')).toBe('1');
  });

  it('reads on its own, once, a server or record the window cannot show, and says gone for a deleted server', async () => {
    const [quiet, other, deleted] = nova.add(3, 'c01', Date.now() - 60_000); // last changed long before the observer
    const obs = new NovaObserver(cloud, { host: 'c01', schedule: FAST, clock: systemClock });
    try {
      // two servers wanted in one tick: one list, and each server the window cannot show read once
      const [s1, s2, m1] = await Promise.all([obs.server(quiet!.id), obs.server(other!.id), obs.migration(quiet!.id)]);
      expect([s1, s2]).toMatchObject([
        { id: quiet!.id, host: 'c01' },
        { id: other!.id, host: 'c01' },
      ]);
      expect(m1).toBeUndefined();
      expect(obs.stats).toMatchObject({ serverLists: 1, singleReads: 3, serverGets: 0 });
      await Promise.all([obs.server(quiet!.id), obs.server(other!.id)]);
      await obs.migration(quiet!.id);
      expect(obs.stats).toMatchObject({ serverLists: 2, singleReads: 3 }); // kept, and kept fresh by the lists
      Object.assign(nova.servers.get(deleted!.id)!, { status: 'DELETED', updated: Date.now() });
      expect(await Promise.all([obs.server(deleted!.id), obs.server(quiet!.id)])).toMatchObject(['gone', { id: quiet!.id }]);
      expect(obs.stats).toMatchObject({ serverLists: 3, singleReads: 3 });
      // one server wanted: its own GET, which says gone as the list did
      expect(await obs.server(deleted!.id)).toBe('gone');
      expect(await obs.server(quiet!.id)).toMatchObject({ id: quiet!.id, host: 'c01' });
      expect(obs.stats).toMatchObject({ serverLists: 3, singleReads: 3, serverGets: 2 });
    } finally {
      obs.close();
    }
  });

  it('a failed read fails the moves waiting on that tick (not silently polled forever)', async () => {
    wire.route('GET', /^\/compute\/v2\.1\/servers\//, () => ({ status: 403, body: { forbidden: { code: 403, message: 'Policy does not allow this' } } }));
    const [i, j] = nova.add(2);
    const obs = new NovaObserver(cloud, { host: 'c01', schedule: FAST, clock: systemClock });
    try {
      // the list of a tick that wants two, and the GET of a tick that wants one
      const both = Promise.allSettled([obs.server(i!.id), obs.server(j!.id)]);
      expect((await both).map((r) => (r.status === 'rejected' ? String(r.reason) : 'resolved'))).toEqual([
        expect.stringMatching(/403|Policy/),
        expect.stringMatching(/403|Policy/),
      ]);
      await expect(obs.server(i!.id)).rejects.toThrow(/403|Policy/);
      const paths = wire.requests.filter((r) => r.method === 'GET' && r.path.includes('/servers/')).map((r) => r.path.replace(/\?.*/, ''));
      expect(paths).toEqual(['/compute/v2.1/servers/detail', `/compute/v2.1/servers/${i!.id}`]);
      expect(obs.stats.ticks).toBe(2);
    } finally {
      obs.close();
    }
  });

  it('an aborted wait leaves at once; close() fails the waits still open', async () => {
    const [i] = nova.add(1);
    const obs = new NovaObserver(cloud, { host: 'c01', schedule: { ...FAST, firstMs: 5_000, thenMs: 5_000, maxMs: 5_000 }, clock: systemClock });
    await obs.server(i!.id); // the first tick is immediate; the next one is 5 s away
    const ac = new AbortController();
    const waiting = obs.server(i!.id, ac.signal);
    ac.abort(new Error('operator aborted'));
    await expect(waiting).rejects.toThrow('operator aborted');
    const open = obs.migration(i!.id);
    obs.close();
    await expect(open).rejects.toThrow(/closed/);
    expect(obs.stats.ticks).toBe(1);
  });
});

describe('a drain over the wire: what each instance costs Nova', () => {
  const drainMoves = (n: number, parallel: number) => drainOverWire({ nova, cloud: deps(AS_DEFAULT), n, parallel });
  /** The default schedule's pace relative to a lab move (1 s, then 2 s, against moves of 3–8 s), scaled to 250-ms moves. */
  const AS_DEFAULT: PollSchedule = {
    firstMs: 50,
    firstForMs: 100,
    thenMs: 100,
    thenForMs: 250,
    growth: 1.5,
    maxMs: 100,
    overlapMs: 1_000,
    verifyWithinMs: 100,
    safetyNetMs: 500,
  };

  it('16 instances, parallel=4: one step each, 4 at a time; the first checks are one list of the host; ≤ 3 requests per instance', async () => {
    const d = await drainMoves(16, 4);
    expect(d.steps).toHaveLength(16);
    expect(d.steps.map((s) => s.window)).toEqual(d.steps.map(() => ({ group: 'migrate', size: 4 })));
    expect(d.most).toBe(4);
    for (const s of d.servers) expect(nova.servers.get(s.id)!.host).toBe('c02');
    // the four first checks, asked together, are one read of the host's servers
    expect(d.lines[0]).toMatch(/^GET \/compute\/v2\.1\/servers\/detail\?.*host=c01/);
    expect(d.lines.filter((l) => /servers\/detail\?.*host=c01/.test(l))).toHaveLength(1);
    expect(d.lines.filter((l) => l.startsWith('POST '))).toHaveLength(16);
    expect(
      d.lines.filter((l) => /instance_uuid=/.test(l)),
      'records read on their own',
    ).toEqual([]);
    // per instance: its check (the server's GET once the host is known), the request, its share of
    // the record lists and of the verifications (a list when several ended together)
    const perInstance = d.reqs.length / 16;
    expect(perInstance, d.lines.join('\n')).toBeLessThanOrEqual(3);
  });

  it('a plan stored before the window (migrate-batch steps) runs as its batches, as approved', async () => {
    nova.add(6);
    const nodeDeps: NodeDeps = { node: deps(AS_DEFAULT) };
    const draft = await drainRunbook.plan(
      { host: 'c01', reason: 'wire', to: 'c02', mode: 'auto', parallel: 3, stopService: false, pinInit: false },
      nodeDeps,
      {} as never,
    );
    const ids = draft.steps.map((x) => x.id);
    expect(ids.filter((x) => x.startsWith('migrate:'))).toHaveLength(6);
    // the same plan as the version before the window stored it
    const legacy = {
      ...draft,
      steps: [
        ...draft.steps.filter((x) => !x.id.startsWith('migrate:')).slice(0, 2),
        { ...draft.steps[2]!, id: 'migrate-batch:1' },
        { ...draft.steps[3]!, id: 'migrate-batch:2' },
        ...draft.steps.slice(8),
      ],
    } as unknown as Plan;
    const steps = drainRunbook.steps(legacy, nodeDeps);
    expect(steps.map((x) => x.id)).toEqual(legacy.steps.map((x) => x.id));
    expect(steps.filter((x) => x.id.startsWith('migrate-batch:')).map((x) => [x.touches?.length, x.window])).toEqual([
      [3, undefined],
      [3, undefined],
    ]);
  });
});

describe('the polling schedule', () => {
  it('fast after a start, then slower, then growing to the cap', () => {
    const s: PollSchedule = {
      firstMs: 100,
      firstForMs: 2_000,
      thenMs: 250,
      thenForMs: 5_000,
      growth: 1.5,
      maxMs: 2_000,
      overlapMs: 5_000,
      verifyWithinMs: 1_000,
      safetyNetMs: 10_000,
    };
    expect(tickDelay(s, 0, 0)).toBe(100);
    expect(tickDelay(s, 1_999, 0)).toBe(100);
    expect(tickDelay(s, 2_000, 0)).toBe(250);
    expect(tickDelay(s, 5_000, 0)).toBe(375);
    expect(tickDelay(s, 9_000, 3)).toBe(Math.round(250 * 1.5 ** 4));
    expect(tickDelay(s, 60_000, 40)).toBe(2_000);
  });

  it('is configured per cloud, validated with the key and what is expected', () => {
    const parse = (polling: unknown) => configSchema.safeParse({ clouds: { lab: { cloud: 'lab', polling } } });
    const ok = parse({ first: '100ms', firstFor: '3s', max: '5s' });
    expect(ok.success && ok.data.clouds['lab']!.polling).toEqual({
      firstMs: 100,
      firstForMs: 3_000,
      thenMs: 2_000,
      thenForMs: 5_000,
      growth: 1.5,
      maxMs: 5_000,
      overlapMs: 5_000,
      verifyWithinMs: 1_000,
      safetyNetMs: 10_000,
    });
    const problems = (polling: unknown) => {
      const r = parse(polling);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ first: '10ms' })).toEqual(['clouds.lab.polling.first: expected a duration such as 200ms or 2s, from 50 ms to 60 s']);
    expect(problems({ first: '1s', then: '200ms' })).toEqual(['clouds.lab.polling.then: expected at least first (1000 ms)']);
    expect(problems({ max: '100ms' })).toEqual(['clouds.lab.polling.max: expected at least then (2000 ms)']);
    expect(problems({ max: '20s', safetyNet: '15s' })).toEqual(['clouds.lab.polling.safetyNet: expected at least max (20000 ms)']);
    expect(problems({ every: '1s' })[0]).toMatch(/every|Unrecognized/);
  });
});
