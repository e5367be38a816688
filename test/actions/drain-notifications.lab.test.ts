/**
 * Nova's versioned notifications on the lab (lab/lib/configs.sh turns them on): the subscription sees
 * a live migration's end within a second of Nova's own timestamp, and a drain whose moves are woken by
 * them verifies each move from Nova's two end events (the destination's post_dest.end, the source's
 * post.end): nova-api's access log shows no read of a moved instance or of its migration records after
 * its migration was requested, and (parallel=1) each next check was read while the move before it
 * landed, not after its end.
 */
import { readFileSync, statSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NovaNotifications } from '../../adapters/openstack/nova-notifications.js';
import { labClouds, labInfo } from '../adapters/openstack/lab-fixtures.js';
import { waitFor } from '../helpers/wait-for.js';
import { requireLab, seedPlainServers, uniquePrefix } from '../lab/lab-helpers.js';
import { holdLabHost, runApprovedOnLab, startLabBot, type LabBot } from './lab-bot.js';

const REPO = new URL('../../', import.meta.url).pathname;
const NOVA_API_LOG = '/var/log/nova/nova-api.log';
const N = 4;

/** nova-api's access-log lines written since byte `from`. */
function apiLinesSince(from: number): string[] {
  return readFileSync(NOVA_API_LOG)
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.includes('nova.osapi_compute.wsgi.server'));
}

describe("Nova's notifications on the lab", () => {
  let lab: LabBot | undefined;
  let prefix = '';
  let lock: { release(): void } | undefined;
  let servers: string[] = [];

  beforeAll(async () => {
    await requireLab();
    lock = await holdLabHost('c01');
    prefix = uniquePrefix('notif').replace(/-$/, '');
    servers = await seedPlainServers(prefix, N);
  }, 900_000);

  afterAll(async () => {
    await lab?.close();
    // the drain disabled c01 (stop-service=no): put it back as it was, whatever happened
    await execa('openstack', ['compute', 'service', 'set', '--enable', 'c01', 'nova-compute'], {
      env: { ...process.env, OS_CLIENT_CONFIG_FILE: labInfo().cloudsYaml, OS_CLOUD: 'lab' },
      reject: false,
    });
    if (prefix) await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
    lock?.release();
  }, 900_000);

  it('sees a live migration end, stamped by Nova to the microsecond', async () => {
    const sub = await NovaNotifications.start({ url: 'amqp://guest:guest@127.0.0.1:5672/' });
    const { rest } = labClouds(labInfo());
    try {
      const id = servers[0]!;
      const w = sub.watch((e) => e.instanceUuid === id);
      const asked = Date.now();
      await rest.liveMigrateServer(id, { host: 'c02', blockMigration: 'auto' });
      const seen: string[] = [];
      for (let e = await w.next(60_000); e; e = await w.next(60_000)) {
        seen.push(e.eventType);
        // the destination's end: the instance saved there, its state restored, no task (what a drain trusts)
        if (e.eventType === 'instance.live_migration_post_dest.end') expect([e.host, e.state, e.taskState]).toEqual(['c02', 'active', null]);
        if (e.eventType === 'instance.live_migration_post.end') {
          expect(e.host === 'c01' || e.host === 'c02').toBe(true);
          expect(e.timestamp).toBeGreaterThan(asked - 2_000); // Nova's clock is this machine's
          break;
        }
      }
      w.stop();
      expect(seen).toContain('instance.live_migration_pre.end');
      expect(seen.indexOf('instance.live_migration_post_dest.end'), seen.join(' ')).toBeGreaterThan(seen.indexOf('instance.live_migration_pre.end'));
      expect(seen.at(-1)).toBe('instance.live_migration_post.end');
    } finally {
      await sub.close();
      await rest.close();
    }
  });

  it('a drain woken by them moves every server and reads none of them (nor their records) back', async () => {
    lab = await startLabBot({ transport: 'http', backend: 'rest', notifications: true });
    const events = lab.deps.node!.events!;
    await waitFor('the bot to subscribe to the lab bus', () => events.connected);
    const from = statSync(NOVA_API_LOG).size;
    const ends = new Map<string, number>();
    const w = events.watch((e) => e.eventType === 'instance.live_migration_post.end' && servers.includes(e.instanceUuid ?? ''));
    const collecting = (async () => {
      for (let e = await w.next(300_000); e; e = await w.next(300_000)) if (!ends.has(e.instanceUuid!)) ends.set(e.instanceUuid!, e.timestamp);
    })();
    const { card, story } = await runApprovedOnLab(lab, `drain c01 reason=notif-${prefix} to=c02 stop-service=no`, 300_000);
    expect(card.text, story()).toMatch(/succeeded/);
    // what the bot asked of nova-api during the drain (before this test's own reads below)
    // nova-api writes a request's line after its response: wait until every move request is there
    const lines = await waitFor("the drain's requests in nova-api's log", () => {
      const l = apiLinesSince(from);
      return servers.slice(1).every((id) => l.some((x) => x.includes(`POST /v2.1/servers/${id}/action`))) && l;
    });
    for (const id of servers.slice(1)) {
      const post = lines.findIndex((l) => l.includes(`POST /v2.1/servers/${id}/action`));
      expect(post, `the drain asked Nova to move ${id}`).toBeGreaterThanOrEqual(0);
      const readsAfter = lines.slice(post + 1).filter((l) => l.includes(`GET /v2.1/servers/${id} `) || l.includes(`instance_uuid=${id}`));
      expect(readsAfter, `${id} or its record was read back after its move was requested`).toEqual([]);
    }
    // parallel=1: each next check was read while the move before it landed, between the destination's
    // post_dest.end and the source's post.end (~0.1 s apart on the lab), not after that end
    await waitFor("every move's post.end", () => servers.slice(1).every((id) => ends.has(id)));
    w.stop();
    await collecting;
    const received = (l: string) => Date.parse(`${l.slice(0, 23).replace(' ', 'T')}Z`) - Number(/time: ([\d.]+)/.exec(l)![1]) * 1000;
    const order = lines.flatMap((l) => /POST \/v2\.1\/servers\/([0-9a-f-]{36})\/action/.exec(l)?.[1] ?? []).filter((id) => servers.includes(id));
    const ahead = order.slice(1).map((id, k) => {
      const get = lines
        .slice(
          0,
          lines.findIndex((l) => l.includes(`POST /v2.1/servers/${id}/action`)),
        )
        .filter((l) => l.includes(`GET /v2.1/servers/${id} `))
        .at(-1);
      return get !== undefined && received(get) < ends.get(order[k]!)!;
    });
    expect(ahead.filter(Boolean).length, `checks read before the previous move's end: ${ahead.join(' ')}`).toBeGreaterThanOrEqual(Math.ceil(ahead.length / 2));
    const { rest } = labClouds(labInfo());
    try {
      for (const id of servers) expect((await rest.getServer(id))?.host, id).toBe('c02');
    } finally {
      await rest.close();
    }
  });
});
