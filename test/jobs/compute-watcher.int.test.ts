/**
 * The watcher's dedupe on real parts: two watcher replicas on one MariaDB store, Nova and Placement
 * spoken over HTTP by a wire fake (the REST adapter as in production), cards posted to the Slack
 * stand-in through the Web API. One card per incident however the replicas' ticks interleave and
 * across a restart; one follow-up when the service is back; nothing for the bot's own maintenance;
 * one compute-services call per cloud and tick.
 */
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestCloud } from '../../adapters/openstack/rest-cloud.js';
import { slackIncidentPoster } from '../../bot/incident-poster.js';
import { ManualClock } from '../../core/clock.js';
import { ComputeWatcher } from '../../jobs/compute-watcher.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { Store } from '../../store/store.js';
import { FakeOpenStackWire } from '../adapters/openstack/fake-openstack-wire.js';
import { alice, mariadbBackend } from '../store/backends.js';

const GRACE = 60_000;
const clock = new ManualClock(Date.UTC(2026, 11, 3, 10));
const backend = mariadbBackend();
const services: Record<string, { state: 'up' | 'down'; status: 'enabled' | 'disabled'; reason: string | null; updated: string }> = {
  c01: { state: 'up', status: 'enabled', reason: null, updated: '2026-12-03T09:59:50.000000' },
  c02: { state: 'up', status: 'enabled', reason: null, updated: '2026-12-03T09:59:55.000000' },
  c04: { state: 'up', status: 'enabled', reason: null, updated: '2026-12-03T09:59:55.000000' },
};
let wire: FakeOpenStackWire;
let standin: SlackStandin;
let client: WebClient;
let cloud: RestCloud;
const stores: Store[] = [];

function watcher(store: Store, owner: string): ComputeWatcher {
  return new ComputeWatcher({
    store,
    clouds: [{ name: 'lab', commandable: true, ...bind(cloud) }],
    poster: slackIncidentPoster(client),
    channel: 'C0OPS0001',
    graceMs: GRACE,
    leaseMs: 30_000,
    owner,
    clock,
  });
}
const bind = (c: RestCloud) => ({
  listComputeServices: (f: { binary: string }) => c.listComputeServices(f),
  listServersOnHost: (f: { host: string }) => c.listServersOnHost(f),
  getHostCapacity: (h: string) => c.getHostCapacity(h),
});
const open = async () => {
  const s = await backend.open(clock);
  stores.push(s);
  return s;
};
const cards = () => standin.workspace.messages('ops').filter((m) => /is down since/.test(m.text));
const servicesCalls = () => wire.count('GET', /\/os-services/);

beforeAll(async () => {
  await backend.setup();
  standin = await new SlackStandin().start();
  client = new WebClient(standin.botToken, { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 } });
  wire = await new FakeOpenStackWire().start();
  wire.route('GET', /^\/compute\/v2\.1\/os-services/, () => ({
    status: 200,
    body: {
      services: Object.entries(services).map(([host, s], i) => ({
        id: `aaaaaaaa-0000-4000-8000-00000000000${i}`,
        host,
        binary: 'nova-compute',
        zone: 'nova',
        status: s.status,
        state: s.state,
        disabled_reason: s.reason,
        forced_down: false,
        updated_at: s.updated,
      })),
    },
  }));
  wire.route('GET', /^\/compute\/v2\.1\/servers\/detail\?/, (r) => ({
    status: 200,
    body: {
      servers: r.path.includes('host=c01')
        ? [
            { id: 'srv-1', name: 'web-1', status: 'ACTIVE' },
            { id: 'srv-2', name: 'db-1', status: 'SHUTOFF' },
          ]
        : [],
    },
  }));
  wire.route('GET', /^\/placement\/resource_providers\?name=/, (r) => {
    const host = /name=([a-z0-9]+)/.exec(r.path)![1]!;
    return { status: 200, body: { resource_providers: [{ uuid: `rp-${host}`, name: host }] } };
  });
  wire.route('GET', /^\/placement\/resource_providers\/rp-[a-z0-9]+\/inventories/, (r) => ({
    status: 200,
    body: {
      inventories: {
        VCPU: { total: 8, reserved: 0, allocation_ratio: 1 },
        MEMORY_MB: { total: r.path.includes('rp-c04') ? 32768 : 8192, reserved: 0, allocation_ratio: 1 },
      },
    },
  }));
  wire.route('GET', /^\/placement\/resource_providers\/rp-[a-z0-9]+\/usages/, (r) => ({
    status: 200,
    body: { usages: r.path.includes('rp-c01') ? { VCPU: 2, MEMORY_MB: 1024 } : { VCPU: 0, MEMORY_MB: 0 } },
  }));
  const config = wire.cloudConfig('lab');
  cloud = new RestCloud(config, { clock, backoffMs: 1, timeoutMs: 2000 });
});

afterAll(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  await cloud?.close();
  await wire?.stop();
  await standin?.stop();
  await backend.teardown();
});

describe('two watcher replicas on one MariaDB store', () => {
  it('post one card per incident, keep quiet while it stays down and across a restart, and follow up once', async () => {
    const [sa, sb] = [await open(), await open()];
    let a = watcher(sa, 'replica-a');
    const b = watcher(sb, 'replica-b');

    // all up: one compute-services call per replica and tick, nothing else
    const before = servicesCalls();
    await Promise.all([a.tick(), b.tick()]);
    expect(servicesCalls() - before).toBe(2);
    expect(wire.count('GET', /servers\/detail|placement/)).toBe(0);

    services.c01 = { ...services.c01!, state: 'down' };
    const first = await Promise.all([a.tick(), b.tick()]);
    expect(first.flatMap((r) => r.opened)).toHaveLength(1); // one replica recorded the incident
    expect(cards()).toHaveLength(0); // within the grace period

    clock.advance(GRACE - 1);
    await Promise.all([a.tick(), b.tick()]);
    expect(cards()).toHaveLength(0);

    clock.advance(1);
    // a.tick() while a's tick runs is that same tick (never two at once): count distinct reports
    const due = new Set(await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]));
    expect([...due].flatMap((r) => r.posted)).toHaveLength(1);
    expect(cards()).toHaveLength(1);
    const card = cards()[0]!;
    const shown = `${card.text} ${JSON.stringify(card.blocks)}`;
    expect(shown).toContain('nova-compute on c01 (cloud lab) is down since 2026-12-03T09:59:50.000000 UTC');
    expect(shown).toMatch(/web-1.*srv-1.*ACTIVE/);
    expect(shown).toMatch(/db-1.*srv-2.*SHUTOFF/);
    // c04 has the most free memory; c02 has room too
    expect(shown).toContain('/node evacuate c01 c04 reason=\\"nova-compute down since 2026-12-03T09:59:50.000000, watcher incident in-');
    expect(shown).toContain('"action_id":"incident.evacuate"');

    // still down, many ticks of both, an updated_at that moved (a disable writes the row): no second card
    services.c01 = { ...services.c01!, updated: '2026-12-03T10:01:00.000000' };
    for (let i = 0; i < 5; i++) {
      clock.advance(GRACE);
      await Promise.all([a.tick(), b.tick()]);
    }
    expect(cards()).toHaveLength(1);

    // replica A restarts: a new process, a new store connection, no memory of what it did
    await sa.close();
    a = watcher(await open(), 'replica-a');
    clock.advance(GRACE);
    await Promise.all([a.tick(), b.tick()]);
    expect(cards()).toHaveLength(1);

    // back up: exactly one follow-up in the card's thread
    services.c01 = { ...services.c01!, state: 'up', updated: '2026-12-03T10:20:00.000000' };
    const back = new Set(await Promise.all([a.tick(), b.tick(), a.tick()]));
    expect([...back].flatMap((r) => r.recovered)).toHaveLength(1);
    await Promise.all([a.tick(), b.tick()]);
    const thread = standin.workspace.thread('ops', card.ts).slice(1);
    expect(thread.map((m) => m.text)).toEqual([
      expect.stringMatching(/nova-compute on c01 \(cloud lab\) reports again .* Incident in-[a-z2-7]{12} is resolved/),
    ]);
    const [row] = await sb.listIncidents({ host: 'c01' });
    expect(row).toMatchObject({ state: 'resolved', cardTs: card.ts, owner: null });
    const audit = (await sb.listAudit({ limit: 1000 })).filter((e) => e.kind.startsWith('incident.')).map((e) => e.kind);
    expect(audit).toEqual(['incident.seen-down', 'incident.card.intent', 'incident.card.posted', 'incident.recovery.intent', 'incident.recovered']);

    // down again later: a new incident, a new card
    services.c01 = { ...services.c01!, state: 'down', updated: '2026-12-03T10:30:00.000000' };
    await Promise.all([a.tick(), b.tick()]);
    clock.advance(GRACE);
    await Promise.all([a.tick(), b.tick()]);
    expect(cards()).toHaveLength(2);
  });

  it('raises nothing for a host the bot drained or holds a lock on, and still raises one for a host disabled by someone else', async () => {
    const s = await open();
    const w = watcher(s, 'replica-c');
    const drain = await s.createOperation({
      runbook: 'node.drain',
      target: 'c02',
      plan: { runbook: 'node.drain', target: 'c02', args: { host: 'c02', reason: 'kernel update' } },
      planHash: 'h',
      state: 'succeeded',
      requester: alice,
      channelId: 'C0OPS0001',
    });
    services.c02 = { state: 'down', status: 'disabled', reason: 'kernel update', updated: '2026-12-03T11:00:00.000000' };
    const evac = await s.createOperation({ runbook: 'node.check', target: 'c04', plan: {}, planHash: 'h', requester: alice, channelId: 'C0OPS0001' });
    expect((await s.acquireLock('host:c04', evac.id, alice)).acquired).toBe(true);
    services.c04 = { ...services.c04!, state: 'down' };
    const r = await w.tick();
    expect(r.opened).toEqual([]);
    expect(r.skipped.map((x) => x.why).join('\n')).toContain(`c02 was drained by the bot (operation ${drain.id}`);
    expect(r.skipped.map((x) => x.why).join('\n')).toContain(`c04 is locked by operation ${evac.id}`);
    // disabled by hand with another reason: that is not the bot's maintenance
    services.c02 = { ...services.c02!, reason: 'someone else' };
    expect((await w.tick()).opened).toHaveLength(1);
  });

  it('gives a refused post back, and takes over the post of a replica that stopped after its claim (saying so on the card)', async () => {
    const s = await open();
    const w = watcher(s, 'replica-d');
    // the hosts of the test before come back first (their pending incidents are cleared)
    services.c02 = { ...services.c02!, state: 'up', status: 'enabled', reason: null };
    services.c04 = { ...services.c04!, state: 'up' };
    expect((await w.tick()).cleared).toHaveLength(1);
    services.c05 = { state: 'down', status: 'enabled', reason: null, updated: '2026-12-03T12:00:00.000000' };
    const c05Cards = () => standin.workspace.messages('ops').filter((m) => /nova-compute on c05 /.test(m.text));
    const [opened] = (await w.tick()).opened;
    clock.advance(GRACE);
    // Slack answers 500 (the client does not retry here): nothing posted, the claim is given back
    standin.inject5xx({ method: 'chat.postMessage', count: 1 });
    const refused = await w.tick();
    expect(refused.errors.map((e) => e.message).join()).toMatch(/c05/);
    expect(c05Cards()).toHaveLength(0);
    expect(await s.getIncident(opened!)).toMatchObject({ state: 'pending', owner: null });
    // another replica claims it and stops before posting (killed): its lease holds the post back …
    const row = (await s.getIncident(opened!))!;
    expect(
      await s.updateIncident(row.id, { state: 'posting', owner: 'replica-dead', leaseUntil: clock.now() + 30_000 }, { state: 'pending', version: row.version }),
    ).not.toBeNull();
    await w.tick();
    expect(c05Cards()).toHaveLength(0);
    // … until it ends: then this replica posts it, marked as possibly posted twice
    clock.advance(30_000);
    expect((await w.tick()).posted).toEqual([opened]);
    expect(c05Cards()).toHaveLength(1);
    expect(JSON.stringify(c05Cards()[0]!.blocks)).toContain('Posted again');
    await w.tick();
    expect(c05Cards()).toHaveLength(1);
    // c05's service is deleted from Nova: its incident closes with one follow-up (the next test's subject)
    delete services.c05;
    await w.tick();
  });

  it('closes the incident of a service Nova no longer lists: one "gone" follow-up under its card across replicas, nothing for one without a card', async () => {
    const [sa, sb] = [await open(), await open()];
    const [a, b] = [watcher(sa, 'replica-e'), watcher(sb, 'replica-f')];
    const cardOf = (host: string) => standin.workspace.messages('ops').filter((m) => new RegExp(`nova-compute on ${host} .*is down since`).test(m.text));
    services.c06 = { state: 'down', status: 'enabled', reason: null, updated: '2026-12-03T13:00:00.000000' };
    await Promise.all([a.tick(), b.tick()]);
    clock.advance(GRACE);
    await Promise.all([a.tick(), b.tick()]);
    expect(cardOf('c06')).toHaveLength(1);
    // c07 goes down too, but is deleted within the grace period: no card, ever
    services.c07 = { state: 'down', status: 'enabled', reason: null, updated: '2026-12-03T13:01:00.000000' };
    await Promise.all([a.tick(), b.tick()]);
    const [c07] = await sa.listIncidents({ host: 'c07' });
    expect(c07).toMatchObject({ state: 'pending' });

    // an operator deletes both compute services (openstack compute service delete)
    delete services.c06;
    delete services.c07;
    const ticks = new Set(await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]));
    expect([...ticks].flatMap((r) => r.gone).sort()).toEqual([c07!.id, (await sa.listIncidents({ host: 'c06' }))[0]!.id].sort());
    for (let i = 0; i < 3; i++) {
      clock.advance(GRACE);
      await Promise.all([a.tick(), b.tick()]);
    }
    const card = cardOf('c06')[0]!;
    expect(
      standin.workspace
        .thread('ops', card.ts)
        .slice(1)
        .map((m) => m.text),
    ).toEqual([expect.stringMatching(/nova-compute on c06 \(cloud lab\) is gone: Nova no longer lists this service .* Incident in-[a-z2-7]{12} is closed/)]);
    expect(cardOf('c07')).toHaveLength(0);
    expect(await sb.listIncidents({ host: 'c06' })).toMatchObject([{ state: 'resolved', owner: null, detail: expect.objectContaining({ gone: true }) }]);
    expect(await sb.listIncidents({ host: 'c07' })).toMatchObject([{ state: 'cleared', cardTs: null, detail: expect.objectContaining({ gone: true }) }]);
    const audit = (await sb.listAudit({ limit: 1000 })).filter((e) => e.kind === 'incident.gone').map((e) => (e.payload as { host: string }).host);
    expect(audit.filter((h) => h === 'c06' || h === 'c07').sort()).toEqual(['c06', 'c07']);
  });
});
