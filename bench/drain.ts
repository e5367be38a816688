/**
 * Draining N servers off a fake-driver host of the lab to the other (c01 → c02, the next run c02 → c01,
 * and so on), by arm and `parallel`, each arm run BENCH_RUNS times
 * (median and spread reported):
 *   rest-notif  the bot, REST backend, woken by Nova's notifications (batched polls as safety net);
 *   rest-poll   the bot, REST backend, batched polling only (one read of Nova a tick for all moves);
 *   cli         the bot, CLI backend;
 *   ack         rest-notif over HTTP with acknowledgement latency measured while the drain runs (from the
 *               command to its end): bench/_ack-client.ts, a process of its own, BENCH_ACK_RATE slash
 *               commands a second (default 20) that the bot answers without a cloud call. The bot shares
 *               this process with the stand-in and the notification collector: a pessimistic figure;
 *   loop        the chapter's bash loop of `openstack server migrate --live-migration --host c02`
 *               with `openstack server show` polling (parallel=1 only: the chapter's loop is sequential).
 * Nova's own time per instance: from nova-api receiving the move request (its access log, ms) to the
 * `instance.live_migration_post.end` notification (this bench's own subscription on the lab's RabbitMQ,
 * stamped by Nova to the microsecond); the compute hosts' part alone (`…_pre.start` → `…_post.end`) is
 * reported too. Floor: with parallel=1 their sum, with parallel>1 the union of those busy intervals.
 * nova-api requests per migrated instance are counted from nova-api's access log over the run (all of
 * them, and those that are the bot's own by their paths: other helpers share the lab's nova-api).
 * At parallel=1 the bot arms also say where the time between two moves goes (`gapsMs`: from Nova's
 * post.end of one move to nova-api receiving the next one's request, by segment — Nova's stamps,
 * nova-api's log and the bot's own audit rows, all on this machine's clock).
 * Runs alternate direction, so no untimed trip home is needed: between two runs the drained source is
 * only enabled again (`/node undrain <host>`, not timed); the loop just moves them to the other host.
 * The drain keeps nova-compute running (stop-service=no).
 *
 *   npm run bench drain     BENCH_SERVERS=100  BENCH_RUNS=3  BENCH_PARALLEL=1,8  BENCH_ARMS=rest-notif,rest-poll,cli,ack,loop
 *
 * On this 2-core lab a REST run of 100 servers takes ~3 min at parallel=1 and ~1 min at 8, but the cli
 * arm and the loop cost ~10 s an instance (every step runs `openstack` processes): the figures are per
 * instance, so run those two with fewer servers, e.g. BENCH_SERVERS=20 BENCH_PARALLEL=1 BENCH_ARMS=cli,loop
 * (docs/runbooks/drain.md, "At scale", has the runs). An arm written `ack@8` runs at that parallel only.
 */
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NovaNotifications, type NovaEvent } from '../adapters/openstack/nova-notifications.js';
import { ackLoad, type AckFigures } from './_ack-load.js';
import { holdLabHost, runApprovedOnLab, startLabBot, type LabBot } from '../test/actions/lab-bot.js';

const N = Number(process.env.BENCH_SERVERS ?? 100);
const REPO = new URL('../', import.meta.url).pathname;
const PREFIX = `bench-drain-${process.pid}`;
const env = {
  ...process.env,
  OS_CLIENT_CONFIG_FILE: '/var/lib/openstack-lab/clouds.yaml',
  OS_CLOUD: 'lab',
  OS_COMPUTE_API_VERSION: '2.79',
  PYTHONWARNINGS: 'ignore',
};

async function osJson<T>(args: string[]): Promise<T> {
  const r = await execa('openstack', [...args, '-f', 'json'], { env, timeout: 300_000 });
  return JSON.parse(r.stdout) as T;
}
type Row = Record<string, string>;
const mine = async () =>
  (await osJson<Row[]>(['server', 'list', '--all-projects', '--name', `^${PREFIX}-`, '--long'])).filter((s) => s['Name']!.startsWith(`${PREFIX}-`));

const NOVA_API_LOG = '/var/log/nova/nova-api.log';

/**
 * Nova's busy intervals [start, end] (ms) of our servers' live migrations between t0 and t1: each ends at
 * its `live_migration_post.end` notification; it starts at `live_migration_pre.start` (the compute
 * hosts' part only) or, with `requested`, when nova-api received the move request (its access-log line,
 * millisecond stamp less the request's own time): Nova's API, conductor and scheduler work included.
 */
function novaIntervals(events: NovaEvent[], ids: Set<string>, t0: number, t1: number, requested?: Map<string, number[]>): [number, number][] {
  const starts = new Map<string, number>();
  const out: [number, number][] = [];
  for (const e of events) {
    if (!e.instanceUuid || !ids.has(e.instanceUuid) || e.timestamp < t0 - 1000 || e.timestamp > t1 + 1000) continue;
    if (e.eventType === 'instance.live_migration_pre.start') starts.set(e.instanceUuid, e.timestamp);
    if (e.eventType === 'instance.live_migration_post.end' && starts.has(e.instanceUuid)) {
      // the newest request before the compute hosts started
      const asked = requested
        ?.get(e.instanceUuid)
        ?.filter((t) => t <= starts.get(e.instanceUuid!)!)
        .at(-1);
      out.push([asked ?? starts.get(e.instanceUuid)!, e.timestamp]);
      starts.delete(e.instanceUuid);
    }
  }
  return out;
}

/** When nova-api received each move request of our servers since byte `from` (ms; log stamps are UTC). */
function moveRequests(from: number, ids: Set<string>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const l of readFileSync(NOVA_API_LOG).subarray(from).toString('utf8').split('\n')) {
    const m = /"POST \/v2\.1\/servers\/([0-9a-f-]{36})\/action HTTP[^"]*" status: 202 .* time: ([\d.]+)/.exec(l);
    if (!m || !ids.has(m[1]!)) continue;
    const at = Date.parse(`${l.slice(0, 23).replace(' ', 'T')}Z`) - Number(m[2]) * 1000;
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), at]);
  }
  return out;
}
/** Where each ms of a parallel=1 drain's overhead goes (medians over consecutive moves k → k+1, ms). */
interface Gaps {
  /** Move k's `live_migration_post.end` (Nova's stamp) → the bot's step.end of k (delivery, verification, journal). */
  endToStepEnd: number;
  /** step.end of k → step.start of k+1 (the runner between steps: card, progress, journal reads). */
  stepToStep: number;
  /** step.start of k+1 → the bot journals its move request (api.call): intent, the check (its GET, unless read ahead). */
  startToCall: number;
  /** api.call journaled → nova-api receiving the move request. */
  callToPost: number;
  /** post.end of k → nova-api receiving k+1's move request: all of the above (what the floor does not hold). */
  total: number;
  /** nova-api's own time for k+1's check GET. */
  checkGet: number;
  /** The destination's `live_migration_post_dest.end` → the source's `post.end` of the same move (Nova's stamps). */
  destToEnd: number;
  /** Pairs measured, and those whose check GET was sent before step k+1 started (read ahead). */
  pairs: number;
  readAhead: number;
}

/** nova-api's lines for our servers since byte `from`: when each request was received and its own time (ms). */
function apiLines(from: number, ids: Set<string>): { method: string; id: string; at: number; ms: number }[] {
  const out: { method: string; id: string; at: number; ms: number }[] = [];
  for (const l of readFileSync(NOVA_API_LOG).subarray(from).toString('utf8').split('\n')) {
    const m = /"(GET|POST) \/v2\.1\/servers\/([0-9a-f-]{36})(\/action)? HTTP[^"]*" status: \d+ .* time: ([\d.]+)/.exec(l);
    if (!m || !ids.has(m[2]!) || (m[1] === 'GET') === (m[3] !== undefined)) continue;
    const ms = Number(m[4]) * 1000;
    out.push({ method: m[1]!, id: m[2]!, at: Date.parse(`${l.slice(0, 23).replace(' ', 'T')}Z`) - ms, ms });
  }
  return out;
}

/** The gaps between consecutive moves of a parallel=1 run, from Nova's events, nova-api's log and the bot's audit. */
function gapsOf(storePath: string, events: NovaEvent[], logFrom: number, ids: Set<string>, t0: number): Gaps | undefined {
  const db = new Database(storePath, { readonly: true });
  const rows = db.prepare('SELECT at, kind, payload FROM audit WHERE at >= ? ORDER BY seq').all(t0) as { at: number; kind: string; payload: string }[];
  db.close();
  const audit = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const id = /^migrate:([0-9a-f-]{36})$/.exec((JSON.parse(r.payload) as { stepId?: string }).stepId ?? '')?.[1];
    if (!id || !ids.has(id)) continue;
    audit.set(id, { ...audit.get(id), [r.kind]: r.at });
  }
  const stamps = (type: string) => new Map(events.filter((e) => e.eventType === type && e.timestamp >= t0).map((e) => [e.instanceUuid!, e.timestamp]));
  const postEnd = stamps('instance.live_migration_post.end');
  const destEnd = stamps('instance.live_migration_post_dest.end');
  const api = apiLines(logFrom, ids);
  const order = [...audit.entries()].filter(([, a]) => a['step.start'] !== undefined).sort((x, y) => x[1]['step.start']! - y[1]['step.start']!);
  const cols: Record<'endToStepEnd' | 'stepToStep' | 'startToCall' | 'callToPost' | 'total' | 'checkGet' | 'destToEnd', number[]> = {
    destToEnd: [],
    endToStepEnd: [],
    stepToStep: [],
    startToCall: [],
    callToPost: [],
    total: [],
    checkGet: [],
  };
  let ahead = 0;
  for (let k = 0; k + 1 < order.length; k++) {
    const [idA, a] = order[k]!;
    const [, b] = order[k + 1]!;
    const idB = order[k + 1]![0];
    const end = postEnd.get(idA);
    const call = b['api.call'];
    if (end === undefined || call === undefined || a['step.end'] === undefined) continue;
    // k+1's check: the last GET of it sent before its move was requested; the move: the first POST after
    const get = api.filter((x) => x.id === idB && x.method === 'GET' && x.at <= call).at(-1);
    const post = api.find((x) => x.id === idB && x.method === 'POST' && x.at >= call - 5);
    if (!get || !post) continue;
    if (get.at < b['step.start']!) ahead++;
    cols.endToStepEnd.push(a['step.end'] - end);
    cols.stepToStep.push(b['step.start']! - a['step.end']);
    cols.startToCall.push(call - b['step.start']!);
    cols.callToPost.push(post.at - call);
    cols.total.push(post.at - end);
    cols.checkGet.push(get.ms);
    if (destEnd.has(idA)) cols.destToEnd.push(end - destEnd.get(idA)!);
  }
  if (cols.total.length === 0) return undefined;
  const g = Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, r2(median(v))])) as Omit<Gaps, 'pairs' | 'readAhead'>;
  return { ...g, pairs: cols.total.length, readAhead: ahead };
}

const sumS = (xs: [number, number][]) => xs.reduce((t, [a, b]) => t + (b - a), 0) / 1000;
/** Seconds covered by at least one interval. */
function unionS(xs: [number, number][]): number {
  let total = 0;
  let cur: [number, number] | undefined;
  for (const [a, b] of [...xs].sort((x, y) => x[0] - y[0])) {
    if (cur && a <= cur[1]) cur[1] = Math.max(cur[1], b);
    else {
      if (cur) total += cur[1] - cur[0];
      cur = [a, b];
    }
  }
  return (total + (cur ? cur[1] - cur[0] : 0)) / 1000;
}

/** nova-api's request lines since byte `from`: all, and those that are the drain's own by their paths. */
function novaApiRequests(from: number, ids: Set<string>): { all: number; drain: number } {
  const lines = readFileSync(NOVA_API_LOG)
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.includes('nova.osapi_compute.wsgi.server'))
    .map((l) => /"([A-Z]+ [^"]+) HTTP/.exec(l)?.[1] ?? '');
  const ours = (l: string) =>
    [...ids].some((id) => l.includes(id)) ||
    l.includes('changes-since') ||
    /os-migrations\?[^ ]*host=c0[12]/.test(l) ||
    /servers\/detail\?[^ ]*host=c0[12]/.test(l) ||
    /os-services(\/|\?[^ ]*host=c0[12])/.test(l);
  return { all: lines.length, drain: lines.filter(ours).length };
}

interface BotRun {
  seconds: number;
  posts: number;
  edits: number;
  state: string;
  scale: {
    /** Peak RSS of this process (the bot, the stand-in and the notification collector together), MB, sampled every 250 ms. */
    peakRssMb: number;
    /** Blocks of the card (Slack: 50) and characters of the largest message posted. */
    cardBlocks: number;
    largestMessageChars: number;
    /** The store (journal, audit, plan) after the run, MB. */
    storeMb: number;
  };
  /** Acknowledgement latency while the drain ran (arm ack). */
  ack?: AckFigures;
}

async function viaBot(lab: LabBot, text: string, dir: string, withAck = false): Promise<BotRun> {
  const ws = lab.standin.workspace;
  const calls0 = ws.calls.length;
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 250);
  const running = runApprovedOnLab(lab, text, 4 * 3600_000, { planTimeoutMs: 300_000 }).finally(() => clearInterval(sampler));
  const ack = withAck
    ? ackLoad({
        url: `http://127.0.0.1:${lab.bot.slack.port}/slack/events`,
        standin: lab.standin,
        dir,
        ratePerSecond: Number(process.env.BENCH_ACK_RATE ?? 20),
        inFlight: Number(process.env.BENCH_ACK_IN_FLIGHT ?? 10),
        count: 1_000_000,
        stopWhen: running,
      })
    : undefined;
  const run = await running;
  const acks = (await ack) ?? undefined;
  await new Promise((r) => setTimeout(r, 3000)); // let the last card edit and the summary go out before counting (not timed)
  const calls = ws.calls.slice(calls0);
  const sizes = ws.messages('ops').map((m) => JSON.stringify(m.blocks ?? []).length + m.text.length);
  return {
    seconds: (run.finishedAt - run.planShownAt) / 1000,
    posts: calls.filter((c) => c.method === 'chat.postMessage').length,
    edits: calls.filter((c) => c.method === 'chat.update').length,
    state: /succeeded/.test(run.card.text) ? 'succeeded' : run.card.text,
    scale: {
      peakRssMb: r2(peak / 2 ** 20),
      cardBlocks: (run.card.blocks ?? []).length,
      largestMessageChars: Math.max(0, ...sizes),
      storeMb: r2(statSync(join(dir, 'state.sqlite')).size / 2 ** 20),
    },
    ...(acks ? { ack: acks } : {}),
  };
}

async function bashLoop(ids: string[], dest: 'c01' | 'c02'): Promise<number> {
  const script = `set -e
dest=$1; shift
for id in "$@"; do
  openstack server migrate --live-migration --host "$dest" "$id"
  while :; do
    s=$(openstack server show "$id" -f value -c status -c OS-EXT-SRV-ATTR:host | tr '\\n' ' ')
    case "$s" in "ACTIVE $dest "*|"$dest ACTIVE "*) break;; *ERROR*) echo "$id failed" >&2; exit 1;; esac
    sleep 2
  done
done`;
  const t0 = Date.now();
  await execa('bash', ['-c', script, 'loop', dest, ...ids], { env, timeout: 4 * 3600_000 });
  return (Date.now() - t0) / 1000;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

interface RunFigures {
  wallS: number;
  /** Nova's compute hosts only (pre.start → post.end). */
  computeSumS: number;
  computeUnionS: number;
  novaSumS: number;
  novaUnionS: number;
  floorS: number;
  wallOverFloor: number;
  overheadPerInstanceS: number;
  novaApi: { all: number; drain: number; drainPerInstance: number };
  slack?: { posts: number; edits: number };
  scale?: BotRun['scale'];
  ack?: AckFigures;
  /** parallel=1 bot runs: where the overhead between moves goes. */
  gaps?: Gaps;
  state: string;
  direction?: string;
}

async function main(): Promise<void> {
  const arms = (process.env.BENCH_ARMS ?? 'rest-notif,rest-poll,cli,ack,loop').split(',');
  const parallels = (process.env.BENCH_PARALLEL ?? '1,8').split(',').map(Number);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const lock = await holdLabHost('c01');
  // The lab's cost of the seed: its time, and the machine's memory in use (MemTotal − MemAvailable) before and after.
  const memUsedMb = () => {
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    return Math.round((kb('MemTotal') - kb('MemAvailable')) / 1024);
  };
  const seed0 = { at: Date.now(), memUsedMb: memUsedMb() };
  await execa('bash', [`${REPO}lab/seed`, '--servers', String(N), '--net-servers', '0', '--ports', '0', '--no-volume', '--prefix', PREFIX, '--host', 'c01'], {
    timeout: 1800_000,
  });
  const seeded = { seconds: r2((Date.now() - seed0.at) / 1000), memUsedMbBefore: seed0.memUsedMb, memUsedMbAfter: memUsedMb() };
  process.stdout.write(`seed: ${JSON.stringify(seeded)}\n`);
  const servers = await mine();
  const ids = new Set(servers.map((s) => s['ID']!));
  const out: Record<string, unknown> = { servers: N, runs, at: new Date().toISOString(), load: loadavg(), seed: seeded, arms: {} };
  const sub = await NovaNotifications.start({ url: 'amqp://guest:guest@127.0.0.1:5672/' });
  const events: NovaEvent[] = [];
  const watch = sub.watch((e) => e.instanceUuid !== undefined && ids.has(e.instanceUuid));
  let collecting = true;
  const collector = (async () => {
    while (collecting) {
      const e = await watch.next(1000);
      if (e) events.push(e);
    }
  })();
  // One store for every bot of the run: the undrain finds each drain in it.
  const dir = mkdtempSync(join(tmpdir(), 'bench-drain-'));
  let lab: LabBot | undefined;
  const figures = (t0: number, t1: number, wallS: number, parallel: number, logFrom: number): RunFigures => {
    const compute = novaIntervals(events, ids, t0, t1);
    const iv = novaIntervals(events, ids, t0, t1, moveRequests(logFrom, ids));
    const novaSumS = sumS(iv);
    const novaUnionS = unionS(iv);
    const floorS = parallel === 1 ? novaSumS : novaUnionS;
    const api = novaApiRequests(logFrom, ids);
    return {
      wallS: r2(wallS),
      computeSumS: r2(sumS(compute)),
      computeUnionS: r2(unionS(compute)),
      novaSumS: r2(novaSumS),
      novaUnionS: r2(novaUnionS),
      floorS: r2(floorS),
      wallOverFloor: r2(wallS / floorS),
      overheadPerInstanceS: r2((wallS - floorS) / N),
      novaApi: { ...api, drainPerInstance: r2(api.drain / N) },
      state: iv.length === N ? 'ok' : `${iv.length} of ${N} migrations seen in the notifications`,
    };
  };
  let at: 'c01' | 'c02' = 'c01'; // where the servers are
  try {
    for (const parallel of parallels) {
      for (const armSpec of arms) {
        // `ack@8`: that arm at parallel=8 only
        const [arm, only] = armSpec.split('@') as [string, string | undefined];
        if ((arm === 'loop' && parallel !== 1) || (only !== undefined && Number(only) !== parallel)) continue;
        const key = `${arm}@p${parallel}`;
        const done: RunFigures[] = [];
        for (let k = 0; k < runs; k++) {
          const logFrom = statSync(NOVA_API_LOG).size;
          const t0 = Date.now();
          const from: 'c01' | 'c02' = at;
          const to: 'c01' | 'c02' = from === 'c01' ? 'c02' : 'c01';
          if (arm === 'loop') {
            const wall = await bashLoop([...ids], to);
            at = to;
            await new Promise((r) => setTimeout(r, 3000)); // the last post.end and log lines
            done.push({ ...figures(t0, Date.now(), wall, 1, logFrom), direction: `${from}→${to}` });
          } else {
            const notif = arm === 'rest-notif' || arm === 'ack';
            lab = await startLabBot({ transport: arm === 'ack' ? 'http' : 'socket', backend: arm === 'cli' ? 'cli' : 'rest', dir, notifications: notif });
            if (notif) for (let w = 0; w < 100 && !lab.deps.node?.events?.connected; w++) await new Promise((r) => setTimeout(r, 100));
            const r = await viaBot(lab, `drain ${from} reason=bench to=${to} parallel=${parallel} stop-service=no`, dir, arm === 'ack');
            await new Promise((res) => setTimeout(res, 1000));
            const gaps = parallel === 1 ? gapsOf(join(dir, 'state.sqlite'), events, logFrom, ids, t0) : undefined;
            done.push({
              ...figures(t0, Date.now(), r.seconds, parallel, logFrom),
              ...(gaps ? { gaps } : {}),
              slack: { posts: r.posts, edits: r.edits },
              state: r.state,
              scale: r.scale,
              ...(r.ack ? { ack: r.ack } : {}),
              direction: `${from}→${to}`,
            });
            if (r.state !== 'succeeded') throw new Error(`${key} run ${k + 1}: ${r.state}`);
            at = to;
            const back = await viaBot(lab, `undrain ${from}`, dir);
            if (back.state !== 'succeeded') throw new Error(`undrain ${from} after ${key}: ${back.state}`);
            await lab.close();
            lab = undefined;
          }
          process.stdout.write(`${key} run ${k + 1}: ${JSON.stringify(done.at(-1))}\n`);
        }
        const m = (f: (x: RunFigures) => number) => ({ median: r2(median(done.map(f))), min: r2(Math.min(...done.map(f))), max: r2(Math.max(...done.map(f))) });
        (out['arms'] as Record<string, unknown>)[key] = {
          wallS: m((x) => x.wallS),
          floorS: m((x) => x.floorS),
          wallOverFloor: m((x) => x.wallOverFloor),
          overheadPerInstanceS: m((x) => x.overheadPerInstanceS),
          novaApiPerInstance: m((x) => x.novaApi.drainPerInstance),
          ...(done.every((x) => x.gaps) ? { gapsMs: Object.fromEntries(Object.keys(done[0]!.gaps!).map((g) => [g, m((x) => x.gaps![g as keyof Gaps])])) } : {}),
          ...(done.every((x) => x.ack)
            ? { ackP99Ms: m((x) => x.ack!.p99Ms), ackMaxMs: m((x) => x.ack!.maxMs), notAcked: done.reduce((t, x) => t + x.ack!.notAcked, 0) }
            : {}),
          runs: done,
        };
      }
    }
    const a = out['arms'] as Record<string, { overheadPerInstanceS: { median: number } }>;
    const loop = a['loop@p1']?.overheadPerInstanceS.median;
    if (loop !== undefined)
      out['overheadVsLoop'] = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, r2(loop / Math.max(v.overheadPerInstanceS.median, 0.001))]));
  } finally {
    collecting = false;
    await collector;
    watch.stop();
    await sub.close();
    await lab?.close();
    await execa('openstack', ['compute', 'service', 'set', '--enable', 'c01', 'nova-compute'], { env, reject: false });
    await execa('openstack', ['compute', 'service', 'set', '--enable', 'c02', 'nova-compute'], { env, reject: false });
    await execa('bash', [`${REPO}lab/reset`, '--prefix', PREFIX], { reject: false, timeout: 1800_000 });
  }
  lock.release();
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  // one file per size: the 100-server arms and the 1,000-server drain do not overwrite each other
  writeFileSync(join(REPO, `bench/results/drain${N === 100 ? '' : `-${N}`}.json`), `${JSON.stringify(out, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench drain failed: ${(e as Error).stack}\n`);
    process.exit(1);
  },
);
