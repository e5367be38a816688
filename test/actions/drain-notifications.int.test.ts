/**
 * A drain woken by Nova's notifications, over the wire: MiniNova (FakeOpenStackWire) moves the servers
 * and tells of each move's end on the real RabbitMQ as nova-compute does (the destination's
 * `live_migration_post_dest.end`, then the source's `live_migration_post.end`); the bot's subscription
 * (NovaNotifications) wakes the moves. What is counted is what reached the wire.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CloudDeps } from '../../actions/deps.js';
import { NovaNotifications } from '../../adapters/openstack/nova-notifications.js';
import { RestCloud } from '../../adapters/openstack/rest-cloud.js';
import { DEFAULT_POLL_SCHEDULE, NovaObserver, type PollSchedule } from '../../actions/steps/nova-observer.js';
import { systemClock } from '../../core/clock.js';
import { FakeOpenStackWire } from '../adapters/openstack/fake-openstack-wire.js';
import { MiniNova } from '../adapters/openstack/mini-nova.js';
import { osloBody } from '../adapters/openstack/oslo-body.js';
import { waitFor } from '../helpers/wait-for.js';
import { drainOverWire } from './wire-drain.js';

const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672/';
const EXCHANGE = `chatops-drain-test-${randomBytes(4).toString('hex')}`;
const CONNECTION = `chatops-drain-test-${randomBytes(4).toString('hex')}`;
/** The default pace (a tick a second at best): what a move costs is what the events spare, not what a fast tick finds first. */
const SLOW: PollSchedule = { ...DEFAULT_POLL_SCHEDULE, overlapMs: 1_000 };
/** Ticks every 100–200 ms, the safety net as often: moves of a second or more see several. */
const QUICK: PollSchedule = {
  firstMs: 100,
  firstForMs: 400,
  thenMs: 200,
  thenForMs: 1_000,
  growth: 1.5,
  maxMs: 200,
  overlapMs: 1_000,
  verifyWithinMs: 200,
  safetyNetMs: 200,
};

let pub: ChannelModel;
let ch: Channel;
let sub: NovaNotifications;
let wire: FakeOpenStackWire | undefined;
let cloud: RestCloud | undefined;
let nova: MiniNova | undefined;

beforeAll(async () => {
  pub = await connect(URL);
  ch = await pub.createChannel();
  await ch.assertExchange(EXCHANGE, 'topic', { durable: false });
  sub = await NovaNotifications.start({ url: URL, exchange: EXCHANGE, connectionName: CONNECTION });
  await waitFor('the subscription to be bound', () => sub.connected);
});
afterAll(async () => {
  await sub?.close();
  await ch?.deleteExchange(EXCHANGE);
  await pub?.close();
});
afterEach(async () => {
  nova?.stop();
  await cloud?.close();
  await wire?.stop();
});

/** A drain of `n` servers off c01 at `parallel`, Nova's events passed through `send` (which may drop or change them). */
async function drain(
  n: number,
  parallel: number,
  send: (type: string, data: { uuid: string; host: string; state: string; task_state: string | null }) => void,
  o: { moveMs?: number; polling?: PollSchedule } = {},
) {
  wire = await new FakeOpenStackWire().start();
  nova = new MiniNova(wire, { moveMs: o.moveMs ?? 150, notify: send });
  cloud = new RestCloud(wire.cloudConfig(), { backoffMs: 1, timeoutMs: 2_000 });
  const deps = { name: 'test', cloud, clock: systemClock, migrationTimeoutMs: 60_000, polling: o.polling ?? SLOW, events: sub } as unknown as CloudDeps;
  const d = await drainOverWire({ nova, cloud: deps, n, parallel });
  for (const s of d.servers) expect(nova.servers.get(s.id)!.host, s.id).toBe('c02');
  const after = (id: string) => d.lines.slice(d.lines.findIndex((l) => l === `POST /compute/v2.1/servers/${id}/action`) + 1);
  return {
    ...d,
    /** Reads of a server or of its records after its move was requested. */
    readsAfterMove: d.servers.flatMap((s) =>
      after(s.id).filter((l) => l.startsWith('GET ') && (l.endsWith(`/servers/${s.id}`) || l.includes(`instance_uuid=${s.id}`))),
    ),
    moved: (d.results as { moved: { result: string; to: string }[] }[]).flatMap((r) => r.moved ?? []),
  };
}

const publish = (type: string, data: Record<string, unknown>) => void ch.publish(EXCHANGE, 'versioned_notifications.info', osloBody(type, data));

describe("a drain woken by Nova's notifications (MiniNova over the wire, the real RabbitMQ)", () => {
  it("verifies each move from Nova's two end events: no read of a moved server or its record; a check and a request per instance", async () => {
    const d = await drain(12, 4, publish);
    expect(d.readsAfterMove, d.lines.join('\n')).toEqual([]);
    expect(d.lines.filter((l) => l.startsWith('POST '))).toHaveLength(12);
    // the checks: one list of the host for the first window, then each server's own GET; nothing else
    expect(d.reqs.length / 12, d.lines.join('\n')).toBeLessThanOrEqual(2);
  });

  it('moves that outlast the interval (queued behind others on the host) wait on the shared ticks, never on reads of their own', async () => {
    // Nova takes 900 ms a move, the safety net's interval is 200 ms: each move sees several ticks first
    const d = await drain(12, 4, publish, { moveMs: 900, polling: QUICK });
    expect(d.readsAfterMove, d.lines.join('\n')).toEqual([]);
    const lists = d.lines.filter((l) => l.includes('/os-migrations?') && l.includes('changes-since'));
    expect(lists.length, 'the safety net ticked').toBeGreaterThan(0);
    // a tick is one list for the four moves in flight: far fewer than a read per move and interval
    expect(lists.length, d.lines.join('\n')).toBeLessThan(12 * 3);
    expect(d.reqs.length / 12, d.lines.join('\n')).toBeLessThanOrEqual(3);
  });

  it("while the subscription is up, moves that all wait on their events are read at the safety net's pace, not the polls'", async () => {
    // Nova takes 2.5 s a move; the polls would tick every 200 ms, the safety net comes every 1 s
    const net: PollSchedule = { ...QUICK, safetyNetMs: 1_000 };
    const t0 = Date.now();
    const d = await drain(8, 4, publish, { moveMs: 2_500, polling: net });
    const ms = Date.now() - t0;
    expect(d.readsAfterMove, d.lines.join('\n')).toEqual([]);
    expect(d.moved.map((m) => m.result)).toEqual(Array(8).fill('moved'));
    // at the polls' pace this drain lists the records ~5 times a second (~25 lists in ~5.5 s)
    const lists = d.lines.filter((l) => l.includes('/os-migrations?') && l.includes('changes-since'));
    expect(lists.length, `${lists.length} lists in ${ms} ms:\n${d.lines.join('\n')}`).toBeLessThanOrEqual(Math.ceil(ms / net.safetyNetMs) + 1);
  });

  it('a move whose events are all lost is still seen to end, by the safety net', async () => {
    const net: PollSchedule = { ...SLOW, maxMs: 200, thenMs: 200, firstMs: 100, safetyNetMs: 500 };
    let lost = '';
    const d = await drain(
      3,
      3,
      (type, data) => {
        lost ||= data.uuid;
        if (data.uuid !== lost) publish(type, data);
      },
      { polling: net },
    );
    expect(d.moved.map((m) => m.result)).toEqual(['moved', 'moved', 'moved']);
    // the lost one was verified by reads; the others by their events alone
    const read = new Set(d.readsAfterMove.map((l) => /instance_uuid=([0-9a-f-]{36})/.exec(l)?.[1] ?? /servers\/([0-9a-f-]{36})$/.exec(l)?.[1]));
    expect([...read], d.lines.join('\n')).toEqual([lost]);
  });

  it("a wait at the polls' pace joining waits on the safety net is answered at the polls' pace", async () => {
    wire = await new FakeOpenStackWire().start();
    nova = new MiniNova(wire, { moveMs: 150 });
    cloud = new RestCloud(wire.cloudConfig(), { backoffMs: 1, timeoutMs: 2_000 });
    const [a, b] = nova.add(2);
    const observer = new NovaObserver(cloud, { host: 'c01', schedule: { ...SLOW, safetyNetMs: 60_000 }, clock: systemClock, events: sub });
    try {
      await observer.settled(a!.id, undefined, false, true); // the first tick comes at once
      const net = observer.settled(a!.id, undefined, false, true); // the next one a minute later
      const t0 = Date.now();
      const paced = await observer.settled(b!.id);
      // the polls' tick (1 s after the previous one here) answers both, not the safety net's a minute on
      expect(paced !== 'gone' && paced !== 'moving' && paced.host).toBe('c01');
      expect(Date.now() - t0).toBeLessThan(30_000);
      await net;
      expect(observer.stats.ticks).toBe(2);
    } finally {
      observer.close();
    }
  });

  it("reads the record when the destination's event is missing, and does not take an event naming the source as the move's end", async () => {
    // half the moves lose their post_dest.end, the other half get one that says the instance is still on c01
    let k = 0;
    const d = await drain(6, 3, (type, data) => {
      if (type === 'instance.live_migration_post_dest.end') {
        if (k++ % 2 === 0) return;
        return publish(type, { ...data, host: 'c01' });
      }
      publish(type, data);
    });
    // every move verified by a read instead (its record: completed, on c02)
    const verified = new Set(d.readsAfterMove.map((l) => /instance_uuid=([0-9a-f-]{36})/.exec(l)?.[1] ?? /servers\/([0-9a-f-]{36})$/.exec(l)?.[1]));
    expect([...verified].sort(), d.lines.join('\n')).toEqual(d.servers.map((s) => s.id).sort());
  });

  describe("at parallel=1, the next check read while the move lands (between the destination's event and the source's)", () => {
    /** Nova's events with the source's post.end `gapMs` after the destination's (~0.1 s on the lab), `also` published in between; where the wire's log stood at each post.end. */
    const spaced = (gapMs: number, also?: () => void) => {
      const endAt = new Map<string, number>();
      const send = (type: string, data: { uuid: string; host: string; state: string; task_state: string | null }) => {
        if (type !== 'instance.live_migration_post.end') return publish(type, data);
        if (also) setTimeout(also, gapMs / 3);
        setTimeout(() => {
          endAt.set(data.uuid, wire!.requests.length);
          publish(type, data);
        }, gapMs);
      };
      return { send, endAt };
    };
    const getsOf = (lines: string[], id: string) => lines.filter((l) => l === `GET /compute/v2.1/servers/${id}`).length;

    it("nothing is asked of Nova between one move's end and the next request: the check's GET went out before", async () => {
      const { send, endAt } = spaced(150);
      const d = await drain(5, 1, send);
      const all = wire!.requests.map((r) => `${r.method} ${r.path}`);
      for (let k = 1; k < d.servers.length; k++) {
        const from = endAt.get(d.servers[k - 1]!.id)!;
        const between = all.slice(from).filter((l) => !l.includes('/v3/'));
        // the first request after the previous move's end is this one's move
        expect(between[0], all.join('\n')).toBe(`POST /compute/v2.1/servers/${d.servers[k]!.id}/action`);
        expect(getsOf(d.lines, d.servers[k]!.id), 'one read of it, made ahead').toBe(1);
      }
      expect(d.reqs.length / 5, d.lines.join('\n')).toBeLessThanOrEqual(2);
    });

    it('a read ahead is not taken when Nova tells of its server meanwhile: the check reads it again', async () => {
      // something happens to the servers still on c01 while each move lands (Nova sends an event about each)
      const { send } = spaced(150, () => {
        for (const [id, x] of nova!.servers)
          if (x.host === 'c01') publish('instance.power_off.start', { uuid: id, host: 'c01', state: 'active', task_state: 'powering-off' });
      });
      const d = await drain(4, 1, send);
      for (const s of d.servers.slice(1)) expect(getsOf(d.lines, s.id), d.lines.join('\n')).toBe(2);
    });

    it("a move past the fastest tick but within the first interval is ended by its events alone: the destination's event does not bring the tick forward", async () => {
      // 1.1 s a move (the first tick would be due at 1 s), the source's event 150 ms after the destination's
      const { send } = spaced(150);
      const d = await drain(3, 1, send, { moveMs: 1_100 });
      expect(
        d.lines.filter((l) => l.includes('/os-migrations')),
        d.lines.join('\n'),
      ).toEqual([]);
    });

    it('a read ahead that no check takes (the drain stopped) leaves no watch behind', async () => {
      wire = await new FakeOpenStackWire().start();
      nova = new MiniNova(wire, { moveMs: 150 });
      cloud = new RestCloud(wire.cloudConfig(), { backoffMs: 1, timeoutMs: 2_000 });
      const [i] = nova.add(1);
      const observer = new NovaObserver(cloud, { host: 'c01', schedule: { ...SLOW, firstMs: 100 }, clock: systemClock, events: sub });
      const before = sub.listening;
      observer.readAhead([i!.id]);
      expect(sub.listening).toBe(before + 1);
      await waitFor('the read ahead to expire', () => sub.listening === before);
      expect(observer.stats.aheadReads).toBe(1);
      observer.readAhead([i!.id]);
      observer.close();
      expect(sub.listening).toBe(before);
    });

    it('nor when the subscription was reconnected since (events of the gap may be lost): the check reads again', async () => {
      wire = await new FakeOpenStackWire().start();
      nova = new MiniNova(wire, { moveMs: 150 });
      cloud = new RestCloud(wire.cloudConfig(), { backoffMs: 1, timeoutMs: 2_000 });
      const [i] = nova.add(1);
      const gets = () => wire!.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/servers/${i!.id}`)).length;
      // a minute's age allowed: only the reconnection may disqualify the read
      const observer = new NovaObserver(cloud, { host: 'c01', schedule: { ...SLOW, firstMs: 60_000 }, clock: systemClock, events: sub });
      try {
        const before = sub.connections;
        observer.readAhead([i!.id]);
        await waitFor('the read ahead', () => gets() === 1);
        const { stdout } = await execa('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties']);
        const pid = stdout
          .split('\n')
          .find((l) => l.includes(CONNECTION))!
          .split('\t')[0]!;
        await execa('rabbitmqctl', ['-q', 'close_connection', pid, 'chatops test: a gap in the events']);
        await waitFor('the subscription to come back', () => sub.connected && sub.connections === before + 1, 20_000);
        const s = await observer.server(i!.id, undefined, true);
        expect(s !== 'gone' && s.host).toBe('c01');
        expect(gets(), 'read again').toBe(2);
        expect(observer.stats.aheadUsed).toBe(0);
      } finally {
        observer.close();
      }
    });

    it('nor when it is older than the fastest tick', async () => {
      const { send } = spaced(300);
      const d = await drain(4, 1, send, { polling: { ...SLOW, firstMs: 100 } });
      for (const s of d.servers.slice(1)) expect(getsOf(d.lines, s.id), d.lines.join('\n')).toBe(2);
    });
  });
});
