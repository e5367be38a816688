/**
 * Evacuating N servers (default 20) of a dead host on the lab, three ways in one run:
 *   1. the bot, `method=api parallel=1`, c01 → c02 (c01 killed with lab/kill-host);
 *   2. the bot, `method=api parallel=4`, c02 → c01 (c01 revived and undrained by the bot, c02 killed);
 *   3. the chapter's way, a bash loop of `openstack server evacuate --host c01` with `openstack
 *      server show` polling, c01 → c02 (c02 revived and undrained, c01 killed again).
 * Reported per arm: wall time (the bot: from its plan on screen to its card saying it finished, fencing
 * and verification included; the loop: from its first command to its last server ACTIVE on c02), the
 * sum of Nova's own evacuation times (each evacuation record's created_at → updated_at when it turned
 * `done`; Nova stores whole seconds, so each term is ±1 s), the orchestration overhead per instance =
 * (wall − Σ Nova / parallel) / N, and the load average at the arm's end (the machine is shared).
 * An arm that fails stops the bench. Whatever happened, c01 and c02 are revived, forced up and enabled
 * and the bench's servers and volume deleted at the end. Run it under the lab lock:
 *
 *   flock /run/lock/chatops-lab-c01c02.lock npm run bench evacuate      (BENCH_SERVERS=20)
 */
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApprovedOnLab, startLabBot, type LabBot } from '../test/actions/lab-bot.js';

const N = Number(process.env.BENCH_SERVERS ?? 20);
const REPO = new URL('../', import.meta.url).pathname;
const PREFIX = `bench-evac-${process.pid}`;
const env = {
  ...process.env,
  OS_CLIENT_CONFIG_FILE: '/var/lib/openstack-lab/clouds.yaml',
  OS_CLOUD: 'lab',
  OS_COMPUTE_API_VERSION: '2.79',
  PYTHONWARNINGS: 'ignore',
};
type Row = Record<string, string>;

async function osJson<T>(args: string[]): Promise<T> {
  return JSON.parse((await execa('openstack', [...args, '-f', 'json'], { env, timeout: 300_000 })).stdout) as T;
}
const mine = async () =>
  (await osJson<Row[]>(['server', 'list', '--all-projects', '--name', `^${PREFIX}-`, '--long'])).filter((s) => s['Name']!.startsWith(`${PREFIX}-`));

/** Nova's timestamps are UTC without a zone (`2026-12-03T14:00:00.000000`). */
const utc = (t: string | undefined) => (t ? Date.parse(/(Z|[+-]\d\d:\d\d)$/.test(t) ? t : `${t}Z`) : NaN);

/**
 * Seconds Nova spent on our servers' evacuations off `from` created since `sinceMs` (created → updated,
 * read while the records are `done`: the source's clean-up later turns them `completed` and moves
 * updated_at), and how many records that is: one per server, or the arm did not do what it says.
 */
async function novaSeconds(ids: Set<string>, from: string, sinceMs: number): Promise<{ novaSeconds: number; records: number }> {
  let total = 0;
  let records = 0;
  for (const r of await osJson<Row[]>(['server', 'migration', 'list', '--host', from, '--type', 'evacuation'])) {
    if (!ids.has(r['Server UUID'] ?? '') || r['Source Compute'] !== from) continue;
    const c = utc(r['Created At']);
    const u = utc(r['Updated At']);
    if (!(c >= sinceMs - 1000)) continue;
    if (r['Status'] !== 'done' || !(u >= c))
      throw new Error(`evacuation ${r['Id']} of ${r['Server UUID']}: status ${r['Status']}, ${r['Created At']} → ${r['Updated At']}`);
    total += (u - c) / 1000;
    records++;
  }
  return { novaSeconds: Math.round(total * 10) / 10, records };
}

const load = () => loadavg().map((l) => Math.round(l * 100) / 100);

async function kill(h: string): Promise<void> {
  await execa('bash', [`${REPO}lab/kill-host`, h]);
  for (let k = 0; k < 120; k++) {
    const s = (await osJson<Row[]>(['compute', 'service', 'list', '--host', h, '--service', 'nova-compute']))[0];
    if (s?.['State'] === 'down') return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`Nova still reports ${h} up 2 minutes after lab/kill-host`);
}

async function bring(lab: LabBot, h: string): Promise<void> {
  await execa('bash', [`${REPO}lab/revive-host`, h], { timeout: 120_000 });
  const r = await runApprovedOnLab(lab, `undrain ${h}`, 600_000);
  if (!/succeeded/.test(r.card.text)) throw new Error(`undrain ${h}: ${r.card.text}`);
}

const figures = (seconds: number, nova: { novaSeconds: number; records: number }, parallel: number) => ({
  seconds: Math.round(seconds * 10) / 10,
  ...nova,
  overheadPerInstanceS: Math.round(((seconds - nova.novaSeconds / parallel) / N) * 100) / 100,
  load: load(),
});

async function viaBot(lab: LabBot, text: string, ids: Set<string>, from: string, parallel: number) {
  const run = await runApprovedOnLab(lab, text, 3600_000, { planTimeoutMs: 300_000 });
  if (!/: succeeded,/.test(run.card.text)) throw new Error(`${text}: ${run.card.text}\n${run.story()}`);
  return figures((run.finishedAt - run.planShownAt) / 1000, await novaSeconds(ids, from, run.planShownAt), parallel);
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = { servers: N, at: new Date().toISOString(), loadBefore: load() };
  let lab: LabBot | undefined;
  try {
    await execa('bash', [`${REPO}lab/seed`, '--servers', String(N), '--net-servers', String(Math.min(5, N - 2)), '--prefix', PREFIX, '--host', 'c01'], {
      timeout: 1800_000,
    });
    const ids = new Set((await mine()).map((s) => s['ID']!));
    if (ids.size !== N) throw new Error(`lab/seed made ${ids.size} servers named ${PREFIX}-*, not ${N}`);
    lab = await startLabBot({ transport: 'socket', backend: 'rest', dir: mkdtempSync(join(tmpdir(), 'bench-evac-')) });
    await kill('c01');
    out['bot-parallel-1'] = await viaBot(lab, 'evacuate c01 c02 reason=bench parallel=1', ids, 'c01', 1);
    process.stdout.write(`bot parallel=1 (c01 → c02): ${JSON.stringify(out['bot-parallel-1'])}\n`);
    await bring(lab, 'c01');
    await kill('c02');
    out['bot-parallel-4'] = await viaBot(lab, 'evacuate c02 c01 reason=bench parallel=4', ids, 'c02', 4);
    process.stdout.write(`bot parallel=4 (c02 → c01): ${JSON.stringify(out['bot-parallel-4'])}\n`);
    await bring(lab, 'c02');
    await kill('c01');
    await execa('openstack', ['compute', 'service', 'set', '--down', 'c01', 'nova-compute'], { env });
    // OSC 6.0.0 exits 1 after a successful evacuation: its status says nothing, the polling does
    // (a refused evacuation leaves the server ACTIVE on c01: given up after 5 minutes)
    const script = `for id in "$@"; do
  openstack server evacuate --host c02 "$id" >/dev/null 2>&1 || true
  for i in $(seq 150); do
    s=$(openstack server show "$id" -f value -c status -c OS-EXT-SRV-ATTR:host | tr '\\n' ' ')
    case "$s" in "ACTIVE c02 "*|"c02 ACTIVE "*) continue 2;; *ERROR*) echo "$id failed: $s" >&2; exit 1;; esac
    sleep 2
  done
  echo "$id not ACTIVE on c02 after 5 minutes: $s" >&2; exit 1
done`;
    const t0 = Date.now();
    await execa('bash', ['-c', script, 'loop', ...ids], { env, timeout: 3600_000 });
    out['bash-loop'] = figures((Date.now() - t0) / 1000, await novaSeconds(ids, 'c01', t0), 1);
    process.stdout.write(`chapter's CLI loop (c01 → c02): ${JSON.stringify(out['bash-loop'])}\n`);
    await bring(lab, 'c01');
  } finally {
    await lab?.close();
    for (const h of ['c01', 'c02']) {
      await execa('bash', [`${REPO}lab/revive-host`, h], { reject: false, timeout: 120_000 });
      for (let k = 0; k < 90; k++)
        if ((await execa('openstack', ['compute', 'service', 'set', '--up', h, 'nova-compute'], { env, reject: false })).exitCode === 0) break;
        else await new Promise((r) => setTimeout(r, 2000));
      await execa('openstack', ['compute', 'service', 'set', '--enable', h, 'nova-compute'], { env, reject: false });
    }
    await execa('bash', [`${REPO}lab/reset`, '--prefix', `${PREFIX}-`], { reject: false, timeout: 1800_000 });
    // what a failed run measured is kept too
    mkdirSync(join(REPO, 'bench/results'), { recursive: true });
    writeFileSync(join(REPO, 'bench/results/evacuate.json'), `${JSON.stringify(out, null, 2)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench evacuate failed: ${(e as Error).stack}\n`);
    process.exit(1);
  },
);
