/**
 * Draining N servers off c01 on the lab (to c02), three ways in one run:
 *   1. the bot, REST backend (through the Slack stand-in: alice asks, bob approves);
 *   2. the bot, CLI backend;
 *   3. the chapter's way: a bash loop of `openstack server migrate --live-migration --host c02`
 *      with `openstack server show` polling.
 * Between runs the servers go home with `/node undrain c01 migrate-back` (the REST bot, on the same
 * store, so it finds the CLI bot's drain in the journal); after the last bot arm the loop itself
 * moves them back to c01 (after enabling it, as the chapter's operator would). Reported: wall time,
 * Nova's own migration time (migration records' created→updated), and per-instance orchestration
 * overhead = (wall − Σ Nova time / parallel) / N; the Slack calls of the bot's drains (new messages
 * and card edits). The drain keeps nova-compute running (stop-service=no) so the runs compare migrations.
 *
 *   npm run bench drain           (BENCH_SERVERS=100 by default; BENCH_SERVERS=10 for a quick look;
 *                                  BENCH_ARMS=rest,cli,loop picks the arms)
 */
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Seconds Nova itself spent on our servers' migrations since `since` (created → updated). */
async function novaSeconds(ids: Set<string>, sinceMs: number): Promise<number> {
  const rows = await osJson<Row[]>(['server', 'migration', 'list', '--host', 'c01']);
  let total = 0;
  for (const r of rows) {
    if (!ids.has(r['Server UUID'] ?? r['Instance UUID'] ?? '')) continue;
    const c = Date.parse(`${r['Created At']}Z`);
    const u = Date.parse(`${r['Updated At']}Z`);
    if (c >= sinceMs - 1000 && u >= c) total += (u - c) / 1000;
  }
  return total;
}

async function viaBot(lab: LabBot, text: string): Promise<{ seconds: number; posts: number; edits: number; state: string }> {
  const ws = lab.standin.workspace;
  const calls0 = ws.calls.length;
  const run = await runApprovedOnLab(lab, text, 4 * 3600_000, { planTimeoutMs: 300_000 });
  await new Promise((r) => setTimeout(r, 3000)); // let the last card edit and the summary go out before counting (not timed)
  const calls = ws.calls.slice(calls0);
  return {
    seconds: (run.finishedAt - run.planShownAt) / 1000,
    posts: calls.filter((c) => c.method === 'chat.postMessage').length,
    edits: calls.filter((c) => c.method === 'chat.update').length,
    state: /succeeded/.test(run.card.text) ? 'succeeded' : run.card.text,
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

async function main(): Promise<void> {
  const arms = (process.env.BENCH_ARMS ?? 'rest,cli,loop').split(',');
  const lock = await holdLabHost('c01');
  await execa(
    'bash',
    [`${REPO}lab/seed`, '--servers', String(N), '--net-servers', String(Math.min(5, N - 2)), '--no-volume', '--prefix', PREFIX, '--host', 'c01'],
    { timeout: 1800_000 },
  );
  const servers = await mine();
  const ids = new Set(servers.map((s) => s['ID']!));
  const out: Record<string, unknown> = { servers: N, at: new Date().toISOString(), load: loadavg() };
  // One store for every bot of the run: the REST bot's undrain finds the CLI bot's drain in it.
  const dir = mkdtempSync(join(tmpdir(), 'bench-drain-'));
  const bot = (backend: 'rest' | 'cli') => startLabBot({ transport: 'socket', backend, dir });
  let lab: LabBot | undefined;
  try {
    const botArms = (['rest', 'cli'] as const).filter((b) => arms.includes(b));
    let servicesOn: 'c01' | 'c02' = 'c01';
    for (const backend of botArms) {
      lab = await bot(backend);
      const since = Date.now();
      const r = await viaBot(lab, 'drain c01 reason=bench to=c02 stop-service=no');
      const nova = await novaSeconds(ids, since);
      out[`bot-${backend}`] = { ...r, novaSeconds: nova, overheadPerInstanceS: (r.seconds - nova) / N };
      process.stdout.write(`bot ${backend}: ${JSON.stringify(out[`bot-${backend}`])}\n`);
      await lab.close();
      lab = undefined;
      servicesOn = 'c02';
      // The last bot arm leaves them on c02 when the loop follows: it moves them back (the same
      // Nova work in the other direction), which saves a migrate-back.
      if (backend === botArms.at(-1) && arms.includes('loop')) break;
      // Home again through the REST bot (same journal), so the next arm starts from the same place.
      lab = await bot('rest');
      const back = await viaBot(lab, 'undrain c01 migrate-back');
      process.stdout.write(`undrain migrate-back (REST, after ${backend}): ${JSON.stringify(back)}\n`);
      if (backend === 'rest') out['undrain-rest'] = back;
      await lab.close();
      lab = undefined;
      servicesOn = 'c01';
    }
    if (arms.includes('loop')) {
      const dest = servicesOn === 'c01' ? 'c02' : 'c01';
      // The drain left c01 disabled: the chapter's operator would enable it before moving back to it.
      if (dest === 'c01') await execa('openstack', ['compute', 'service', 'set', '--enable', 'c01', 'nova-compute'], { env });
      const since = Date.now();
      const loop = await bashLoop([...ids], dest);
      const nova = await novaSeconds(ids, since);
      out['bash-loop'] = { direction: `${servicesOn} → ${dest}`, seconds: loop, novaSeconds: nova, overheadPerInstanceS: (loop - nova) / N };
      process.stdout.write(`bash loop: ${JSON.stringify(out['bash-loop'])}\n`);
    }
    const rest = out['bot-rest'] as { overheadPerInstanceS: number; posts: number } | undefined;
    const loop = out['bash-loop'] as { overheadPerInstanceS: number } | undefined;
    if (rest && loop) {
      out['floor'] = {
        restOverOverheadRatio: rest.overheadPerInstanceS / loop.overheadPerInstanceS,
        met: rest.overheadPerInstanceS <= loop.overheadPerInstanceS / 10,
      };
      process.stdout.write(`floor (REST overhead <= loop overhead / 10): ${JSON.stringify(out['floor'])}\n`);
    }
    if (rest) process.stdout.write(`new Slack messages of the REST drain: ${rest.posts} (floor: at most 15)\n`);
  } finally {
    await lab?.close();
    await execa('openstack', ['compute', 'service', 'set', '--enable', 'c01', 'nova-compute'], { env, reject: false });
    await execa('openstack', ['compute', 'service', 'set', '--enable', 'c02', 'nova-compute'], { env, reject: false });
    await execa('bash', [`${REPO}lab/reset`, '--prefix', PREFIX], { reject: false, timeout: 1800_000 });
  }
  lock.release();
  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(join(REPO, 'bench/results/drain.json'), `${JSON.stringify(out, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench drain failed: ${(e as Error).stack}\n`);
    process.exit(1);
  },
);
