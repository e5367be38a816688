/**
 * An evacuation woken by Nova's notifications on the lab: c01 forced down (its nova-compute keeps
 * running, as a host that is only unreachable would), one server evacuated to c02 while this test's own
 * subscription records what Nova sends, then another through the bot's evacuateInstance with the
 * subscription in its deps: its wait ends on Nova's rebuild end instead of 100-ms polls, so nova-api's
 * access log shows only a few reads of it after the evacuation was requested.
 */
import { readFileSync, statSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudDeps } from '../../actions/deps.js';
import { evacuateInstance } from '../../actions/steps/evacuate-instance.js';
import { NovaNotifications, type NovaEvent } from '../../adapters/openstack/nova-notifications.js';
import type { RestCloud } from '../../adapters/openstack/rest-cloud.js';
import { systemClock } from '../../core/clock.js';
import { labClouds, labInfo } from '../adapters/openstack/lab-fixtures.js';
import { waitFor } from '../helpers/wait-for.js';
import { requireLab, seedPlainServers, uniquePrefix } from '../lab/lab-helpers.js';
import { holdLabHost } from './lab-bot.js';

const REPO = new URL('../../', import.meta.url).pathname;
const NOVA_API_LOG = '/var/log/nova/nova-api.log';

describe("an evacuation woken by Nova's notifications on the lab", () => {
  let prefix = '';
  let lock: { release(): void } | undefined;
  let servers: string[] = [];
  let rest: RestCloud;
  let sub: NovaNotifications;

  beforeAll(async () => {
    await requireLab();
    lock = await holdLabHost('c01');
    prefix = uniquePrefix('evnotif').replace(/-$/, '');
    servers = await seedPlainServers(prefix, 2);
    rest = labClouds(labInfo()).rest;
    sub = await NovaNotifications.start({ url: 'amqp://guest:guest@127.0.0.1:5672/' });
    await rest.setComputeServiceForcedDown('c01', 'nova-compute', true);
  }, 900_000);

  afterAll(async () => {
    await sub?.close();
    // c01's nova-compute cleans up the evacuated guests when it restarts; then it may be forced up
    await execa('/usr/local/sbin/lab-nova-compute', ['restart', 'c01'], { reject: false, timeout: 90_000 });
    await waitFor('c01 forced up', () => rest.setComputeServiceForcedDown('c01', 'nova-compute', false).catch(() => undefined), { timeoutMs: 120_000 }).catch(
      () => undefined,
    );
    await rest?.close();
    if (prefix) await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
    lock?.release();
  }, 900_000);

  it('Nova ends an evacuation with instance.rebuild.end from the destination (its payload still names the source)', async () => {
    const id = servers[0]!;
    const seen: NovaEvent[] = [];
    const stop = sub.subscribe((e) => e.instanceUuid === id && seen.push(e));
    try {
      await rest.evacuateServer(id, { host: 'c02' });
      await waitFor('the rebuild to end', () => seen.some((e) => e.eventType === 'instance.rebuild.end'), { timeoutMs: 120_000 });
    } finally {
      stop();
    }
    const end = seen.find((e) => e.eventType === 'instance.rebuild.end')!;
    const types = seen.map((e) => e.eventType).join(' ');
    // sent by the destination, the guest running and idle — but its payload still names the source as
    // the host (Nova moves instance.host after it), so the event only ends the wait: the reads verify
    expect([end.publisherId, end.state, end.taskState, end.host], types).toEqual(['nova-compute:c02', 'active', null, 'c01']);
    expect(types).toMatch(/instance\.evacuate .*instance\.rebuild\.start .*instance\.rebuild\.end/);
  });

  it('evacuateInstance with the subscription reads the server a few times, not every 100 ms', async () => {
    const id = servers[1]!;
    const deps = { name: 'lab', cloud: rest, clock: systemClock, migrationTimeoutMs: 300_000, pollIntervalMs: 2_000, events: sub } as unknown as CloudDeps;
    const from = statSync(NOVA_API_LOG).size;
    const r = await evacuateInstance(
      deps,
      { id, name: 'b', status: 'ACTIVE', volumes: [], ports: [] },
      { from: 'c01', to: 'c02', signal: new AbortController().signal, beforeStart: async () => undefined },
    );
    expect(r).toMatchObject({ result: 'evacuated', to: 'c02' });
    const lines = await waitFor("the evacuation's reads in nova-api's log", () => {
      const l = readFileSync(NOVA_API_LOG).subarray(from).toString('utf8').split('\n');
      return l.some((x) => x.includes(`POST /v2.1/servers/${id}/action`)) && l;
    });
    const post = lines.findIndex((l) => l.includes(`POST /v2.1/servers/${id}/action`));
    const reads = lines.slice(post + 1).filter((l) => l.includes(`GET /v2.1/servers/${id} `));
    // one read once Nova said the rebuild ended (rarely two: the record is marked done a moment later);
    // without the events the 100-ms polls read it about ten times a second while Nova rebuilds
    expect(reads.length, `${r.ms} ms:\n${reads.join('\n')}`).toBeLessThanOrEqual(3);
  });
});
