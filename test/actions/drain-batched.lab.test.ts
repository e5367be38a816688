/**
 * Batched observation on the lab (issue 15): a drain with `parallel=4` (a sliding window of moves) and
 * no notifications watches its moves with one read a tick for all of them — nova-api's access log
 * shows no polling of a moved server (at most one `GET /servers/<id>`, its verification when it was
 * the tick's only one; never `os-migrations?instance_uuid=<id>`), `changes-since` lists, never two
 * of a kind in flight together however many moves are, and no more record lists than the schedule's
 * fastest pace allows over the moves' window: what the drain costs nova-api grows with time, one read
 * a tick, not with moves × time.
 * The requests per migrated instance are printed (with the breakdown by kind, and the whole drain's,
 * plan included) but not held to the issue's floor of 3 here: the ticks are paced by the clock, so a
 * loaded machine's slower moves cost more lists per instance (CI 2026-12-04: 13 record lists for 8
 * moves, 3.4 per instance, where the same file alone had 2.8). The floor is the bench's
 * (`npm run bench drain`, medians of 3 runs on an otherwise idle lab).
 * The lab's nova-api is shared with the other lanes, and the c04/c05 lane drains too: this bot signs in
 * as admin scoped to project demo (admin holds the admin role there), an identity no other test
 * uses, and only the log lines of that user and project count.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLL_SCHEDULE } from '../../actions/steps/nova-observer.js';
import { labClouds, labInfo } from '../adapters/openstack/lab-fixtures.js';
import { waitFor } from '../helpers/wait-for.js';
import { osJson, requireLab, seedPlainServers, uniquePrefix } from '../lab/lab-helpers.js';
import { holdLabHost, runApprovedOnLab, startLabBot, type LabBot } from './lab-bot.js';

const REPO = new URL('../../', import.meta.url).pathname;
const NOVA_API_LOG = '/var/log/nova/nova-api.log';
const N = 8;
const PARALLEL = 4;

/** nova-api's access-log lines written since byte `from`: the request line, when it was answered and how long it took (ms). */
function apiLinesSince(from: number, who: string): { at: number; took: number; line: string }[] {
  return readFileSync(NOVA_API_LOG)
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.includes('nova.osapi_compute.wsgi.server') && l.includes(who))
    .map((l) => ({
      at: Date.parse(`${l.slice(0, 23).replace(' ', 'T')}Z`),
      took: Number(/ time: ([\d.]+)/.exec(l)?.[1] ?? 0) * 1000,
      line: /"([A-Z]+ [^"]+) HTTP/.exec(l)?.[1] ?? l,
    }));
}

/** What a request is, for the breakdown: the moved servers' ids and the hosts become placeholders. */
function kindOf(line: string, servers: readonly string[]): string {
  let k = line.replace(/^([A-Z]+) \/v2\.1/, '$1 ');
  for (const id of servers) k = k.split(id).join('<id>');
  return k
    .replace(/changes-since=[^&]+/, 'changes-since=…')
    .replace(/[?&]limit=\d+/, '')
    .replace(/^GET \/servers\/detail\?(?=.*changes-since).*/, 'GET /servers/detail?all_tenants&changes-since (server list)')
    .replace(/^GET \/servers\/detail\?(?=.*host=c01).*/, 'GET /servers/detail?all_tenants&host=c01 (host list)')
    .replace(/^GET \/os-migrations\?(?=.*changes-since)(?=.*host=c01).*/, 'GET /os-migrations?host=c01&changes-since (record list)')
    .replace(/^GET \/os-migrations\?(?=.*instance_uuid=<id>).*/, 'GET /os-migrations?instance_uuid=<id> (single record read)');
}

/** Requests by kind, most frequent first: "12× GET …". */
function breakdown(lines: readonly { line: string }[], servers: readonly string[]): string {
  const by = new Map<string, number>();
  for (const l of lines) by.set(kindOf(l.line, servers), (by.get(kindOf(l.line, servers)) ?? 0) + 1);
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `  ${String(n).padStart(3)}× ${k}`)
    .join('\n');
}

describe('a drain on the lab reads Nova once a tick for all its moves', () => {
  let lab: LabBot | undefined;
  let prefix = '';
  let lock: { release(): void } | undefined;
  let servers: string[] = [];
  /** The bot's own identity, and how nova-api's log names it: "<user id> <project id>". */
  const clouds = { file: join(mkdtempSync(join(tmpdir(), 'drain-batched-')), 'clouds.yaml'), cloud: 'lab-metered' };
  let who = '';

  beforeAll(async () => {
    await requireLab();
    lock = await holdLabHost('c01');
    prefix = uniquePrefix('batch').replace(/-$/, '');
    servers = await seedPlainServers(prefix, N);
    const auth = {
      auth_url: 'http://127.0.0.1:5000/v3',
      username: 'admin',
      password: 'admin',
      project_name: 'demo',
      user_domain_name: 'Default',
      project_domain_name: 'Default',
    };
    writeFileSync(
      clouds.file,
      JSON.stringify({ clouds: { [clouds.cloud]: { auth, region_name: 'RegionOne', interface: 'public', identity_api_version: 3 } } }),
    );
    who = `${(await osJson<{ id: string }>(['user', 'show', 'admin'])).id} ${(await osJson<{ id: string }>(['project', 'show', 'demo'])).id}`;
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

  it(`parallel=${PARALLEL}, polling only: no moved server is read on its own, one list of each kind a tick`, async () => {
    lab = await startLabBot({ transport: 'http', backend: 'rest', clouds });
    const from = statSync(NOVA_API_LOG).size;
    const { card, story, finishedAt } = await runApprovedOnLab(lab, `drain c01 reason=batch-${prefix} to=c02 parallel=${PARALLEL} stop-service=no`, 600_000);
    expect(card.text, story()).toMatch(/succeeded/);
    // nova-api writes a request's line after its response: wait until every move request is there
    const lines = await waitFor("the drain's requests in nova-api's log", () => {
      const l = apiLinesSince(from, who);
      return servers.every((id) => l.some((x) => x.line === `POST /v2.1/servers/${id}/action`)) && l;
    });
    const posts = servers.map((id) => lines.findIndex((x) => x.line === `POST /v2.1/servers/${id}/action`));
    for (const [k, id] of servers.entries()) {
      const after = lines.slice(posts[k]! + 1).map((x) => x.line);
      // at most its verification, when it was the one server a tick wanted (the same one request as a
      // list); never polled, and its records never read on their own
      expect(
        after.filter((l) => l.startsWith(`GET /v2.1/servers/${id}`)).length,
        `${id} was read on its own more than once after its move was requested`,
      ).toBeLessThanOrEqual(1);
      expect(
        after.filter((l) => l.includes(`instance_uuid=${id}`)),
        `${id}'s records were read on their own after its move was requested`,
      ).toEqual([]);
    }
    // the moves' window: from the first move request to the last list
    const first = Math.min(...posts);
    const polls = lines.slice(first).filter((x) => x.line.includes('changes-since'));
    const serverLists = polls.filter((x) => x.line.startsWith('GET /v2.1/servers/detail'));
    const recordLists = polls.filter((x) => x.line.startsWith('GET /v2.1/os-migrations'));
    expect(serverLists.length, 'servers changed since the last tick were listed').toBeGreaterThan(0);
    expect(recordLists.length, "c01's migration records changed since the last tick were listed").toBeGreaterThan(0);
    for (const r of recordLists) expect(r.line).toMatch(/[?&]host=c01(&|$)/);
    // ticks run one after the other: two lists of the same kind are never in flight together (per-move
    // polling of PARALLEL moves would overlap them); 5 ms for the log's millisecond stamps
    const overlapping = (xs: { at: number; took: number; line: string }[]) =>
      xs
        .slice(1)
        .filter((x, k) => x.at - x.took < xs[k]!.at - 5)
        .map((x, k) => `${xs[k]!.at} and ${x.at - x.took}–${x.at}: ${x.line}`);
    expect(overlapping(serverLists), 'server lists in flight together').toEqual([]);
    expect(overlapping(recordLists), 'record lists in flight together').toEqual([]);
    const last = lines.findLastIndex((x) => x.line.includes('changes-since'));
    const { rest } = labClouds(labInfo());
    try {
      for (const id of servers) expect((await rest.getServer(id))?.host, id).toBe('c02');
      // what the drain migrated, by Nova's records: the seeded servers and whatever else sat on c01 when
      // it was planned (the lab is shared: another file's leftovers, a server just scheduled there)
      const since = new Date(lines[first]!.at - 2_000).toISOString();
      const movedIds = new Set(
        (await rest.listMigrations({ host: 'c01', changesSince: since })).filter((m) => m.sourceCompute === 'c01').map((m) => m.serverId),
      );
      for (const id of servers) expect(movedIds.has(id), id).toBe(true);
      const ids = [...movedIds];
      const moved = ids.length;
      // nova-api is shared with the c03 tests (and whatever else runs): only what the drain's RestCloud
      // asks, in its own form, counts — its server lists (all_tenants=1, by host or changes-since), c01's
      // records, the two services (host first: the openstack CLI puts binary first), the moved servers
      const ours = (x: { line: string }) =>
        ids.some((id) => x.line.includes(id)) ||
        /^GET \/v2\.1\/servers\/detail\?(host=c01&all_tenants=1|all_tenants=1&changes-since=)|^GET \/v2\.1\/os-migrations\?host=c01&changes-since=|^GET \/v2\.1\/os-services\?host=c0[12]&binary=nova-compute$|^PUT \/v2\.1\/os-services\//.test(
          x.line,
        );
      const during = lines.slice(first, last + 1).filter(ours);
      // the whole drain: from the command (the plan's reads) to its end
      const end = lines.findLastIndex((x) => x.at <= finishedAt);
      const whole = lines.slice(0, end + 1).filter(ours);
      console.log(
        `batched drain of ${moved} (parallel=${PARALLEL}): ${during.length} nova-api requests from the first move to the last list ` +
          `(${(during.length / moved).toFixed(1)} per instance: ${serverLists.length} server lists, ${recordLists.length} record lists)\n${breakdown(during, ids)}\n` +
          `the whole drain, from the command to the card's end: ${whole.length} requests (${(whole.length / moved).toFixed(1)} per instance)\n${breakdown(whole, ids)}`,
      );
      // one record list a tick at most: ticks are at least `firstMs` apart (the schedule's fastest pace);
      // +2 for the log's request stamps, which may bring two ticks' requests closer than the ticks were
      const starts = recordLists.map((x) => x.at - x.took);
      const span = starts.at(-1)! - starts[0]!;
      expect(
        recordLists.length,
        `record lists over ${span} ms (at most one a tick, ticks ≥ ${DEFAULT_POLL_SCHEDULE.firstMs} ms apart):\n${breakdown(during, ids)}`,
      ).toBeLessThanOrEqual(2 + Math.floor(span / DEFAULT_POLL_SCHEDULE.firstMs));
    } finally {
      await rest.close();
    }
  });
});
