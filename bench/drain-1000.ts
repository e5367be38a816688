/**
 * A drain of 1,000 instances with parallel=8, bot side (issue 15): the bot as main.ts assembles it
 * (in this process, HTTP, SQLite store, the Slack stand-in, alice asks and bob approves) against a
 * wire-level Nova (test/adapters/openstack/mini-nova.ts on FakeOpenStackWire, read through RestCloud)
 * whose live migrations end by themselves BENCH_MOVE_MS after the request. BENCH_BOT=process (default)
 * runs the bot as the image does — the production build with the Dockerfile's CMD flags, its own
 * process, so its peak RSS is its own (VmHWM, and VmRSS sampled every 100 ms); BENCH_BOT=inprocess
 * builds it in this process (stand-in and fake Nova share the heap: an upper bound). Seeding 1,000 fake-driver
 * servers on the shared lab was not possible on this 2-core machine in the time; this measures
 * everything that is the bot's at that size: planning, the plan hash, the preview against Slack's
 * limits, the Slack messages written, the status card, `/op show`, the journal, and the process's
 * peak RSS; and acknowledgement latency from a client process of its own (bench/_ack-client.ts:
 * BENCH_ACK_RATE commands a second, at most BENCH_ACK_IN_FLIGHT at a time: /op list, help, a refused
 * drain) before the drain (BENCH_ACK_IDLE of them) and from the approval until it ends.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { SlackDriver } from '../slack-standin/driver.js';
import { BOT } from '../slack-standin/workspace.js';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RUNBOOKS } from '../actions/index.js';
import type { NodeDeps } from '../actions/deps.js';
import { RestCloud } from '../adapters/openstack/rest-cloud.js';
import { nodeCommands } from '../adapters/ssh.js';
import { SLACK_LIMITS } from '../bot/render/slack-limits.js';
import { systemClock } from '../core/clock.js';
import { planHash } from '../engine/plan-hash.js';
import { ACK_MIX, ackLoad } from './_ack-load.js';
import { buttonsOf } from '../slack-standin/payloads.js';
import { SlackStandin } from '../slack-standin/slack-standin.js';
import type { Message } from '../slack-standin/workspace.js';
import { openStore } from '../store/open-store.js';
import { FakeOpenStackWire } from '../test/adapters/openstack/fake-openstack-wire.js';
import { MiniNova } from '../test/adapters/openstack/mini-nova.js';
import { SIGNING_SECRET } from '../test/helpers/bot-process.js';
import { startInProcessBot } from '../test/helpers/in-process-bot.js';

const N = Number(process.env.BENCH_SERVERS ?? 1000);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 8);
const MOVE_MS = Number(process.env.BENCH_MOVE_MS ?? 300);
const ACK_IN_FLIGHT = Number(process.env.BENCH_ACK_IN_FLIGHT ?? 10);
/** Commands a second (an open loop), and how many before the drain (idle); during it, until it ends. */
const ACK_RATE = Number(process.env.BENCH_ACK_RATE ?? 20);
const ACK_IDLE = Number(process.env.BENCH_ACK_IDLE ?? 300);
const REPO = resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = (b: number) => Math.round(b / 104857.6) / 10;

/** Block Kit size of a message: blocks, the longest text in it, and its JSON. */
function measure(m: Pick<Message, 'text' | 'blocks'>) {
  const json = JSON.stringify(m.blocks ?? []);
  const texts = [...json.matchAll(/"text":"((?:[^"\\]|\\.)*)"/g)].map((x) => (JSON.parse(`"${x[1]}"`) as string).length);
  return { blocks: (m.blocks ?? []).length, longestText: Math.max(0, ...texts), jsonChars: json.length, fallbackText: m.text.length };
}

async function main(): Promise<void> {
  const wire = await new FakeOpenStackWire().start();
  const nova = new MiniNova(wire, { moveMs: MOVE_MS });
  // a realistic plan: names like a cloud's, ten projects' instances, all ACTIVE on c01
  for (let k = 0; k < N; k++) nova.add(1, 'c01', Date.now() - 86_400_000);
  let n = 0;
  for (const s of nova.servers.values()) s.name = `prod-web-${String(Math.floor(n / 100)).padStart(2, '0')}-${String(n++ % 100).padStart(3, '0')}.example.com`;
  const cloud = new RestCloud(wire.cloudConfig('bench'), { timeoutMs: 30_000 });
  const deps: NodeDeps = {
    node: {
      name: 'bench',
      cloud,
      shell: undefined as never, // stop-service=no, pin-init=no: no node command runs
      commands: (host) => nodeCommands({ preset: 'lab' }, host),
      sudo: false,
      migrationTimeoutMs: 300_000,
      clock: systemClock,
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'chatops-1000-'));
  const standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  const sqlite = join(dir, 'state.sqlite');
  const own = (process.env.BENCH_BOT ?? 'process') === 'process';
  let bot: { shutdown(ms: number): Promise<void> } | undefined;
  let slack: SlackDriver;
  let ackUrl: string | undefined;
  let pid = process.pid;
  let botArgv: string[] = [];
  let storeIn: Awaited<ReturnType<typeof openStore>> | undefined;
  if (own) {
    const b = await startProductionBot(dir, wire.base, standin);
    ackUrl = `http://127.0.0.1:${b.port}/slack/events`;
    slack = new SlackDriver(standin, { kind: 'http', url: ackUrl });
    pid = b.pid;
    botArgv = b.argv;
    bot = { shutdown: b.stop };
  } else {
    storeIn = await openStore({ kind: 'sqlite', path: sqlite });
    const started = await startInProcessBot<NodeDeps>({ standin, transport: 'http', store: storeIn, runbooks: RUNBOOKS, deps, owner: 'bench-1000' });
    slack = started.slack;
    bot = started.bot;
  }
  const ws = standin.workspace;
  const rssKb = (key: 'VmRSS' | 'VmHWM') => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssKb('VmRSS') * 1024)), 100);
  const idleRss = rssKb('VmRSS') * 1024;

  const before = ws.messages('ops').length;
  const t0 = performance.now();
  const text = `drain c01 reason=bench-1000 to=c02 parallel=${PARALLEL} stop-service=no`;
  await slack.command({ user: 'alice', channel: 'ops', command: '/node', text });
  await ws.waitFor(() => ws.messages('ops').length > before, 300_000, 'the plan');
  const planMs = performance.now() - t0;
  const ts = ws.messages('ops').at(-1)!.ts;
  const card = () => ws.message('ops', ts)!;
  const preview = measure(card());
  const previewText = JSON.stringify(card().blocks);
  const opId = /op-[a-z2-7]{12}/.exec(previewText)![0];
  const reader = storeIn ?? (await openStore({ kind: 'sqlite', path: sqlite }));
  const op = await reader.getOperation(opId);
  const plan = (op as unknown as { plan: Parameters<typeof planHash>[0] }).plan;
  const hashRuns: number[] = [];
  for (let k = 0; k < 5; k++) {
    const h0 = performance.now();
    planHash(plan);
    hashRuns.push(performance.now() - h0);
  }
  const approve = buttonsOf(card().blocks).find((b) => b.actionId === 'approval.approve')!;
  // acknowledgement latency: the same load before the drain (idle) and while it runs, from a client
  // process of its own (bench/_ack-client.ts: this process serves Nova and Slack, and a client here
  // would charge their work to the bot); only against the bot as a process (BENCH_BOT=process)
  const ackOf = (count: number, stopWhen?: Promise<unknown>) =>
    ackUrl ? ackLoad({ url: ackUrl, standin, dir, ratePerSecond: ACK_RATE, inFlight: ACK_IN_FLIGHT, count, ...(stopWhen ? { stopWhen } : {}) }) : undefined;
  const ackIdle = await ackOf(ACK_IDLE);
  const a0 = performance.now();
  await slack.click({ user: 'bob', message: { channel: card().channel, ts }, actionId: 'approval.approve', value: approve.value! });
  const finished = ws.waitFor(() => /: (succeeded|failed|aborted|needs-operator),/.test(card().text), 3_600_000, 'the drain to finish');
  const ackDuring = ackOf(1_000_000, finished);
  await finished;
  const runMs = performance.now() - a0;
  const ackWhileDraining = await ackDuring;
  await sleep(2000); // the last card edit and summary
  clearInterval(sampler);

  const final = card();
  const thread = ws.thread('ops', ts);
  const topLevel = ws.messages('ops').length - before;
  const ephBefore = ws.ephemerals('alice', 'ops').length;
  await slack.command({ user: 'alice', channel: 'ops', command: '/op', text: `show ${opId}` });
  const answer = () =>
    ws
      .ephemerals('alice', 'ops')
      .slice(ephBefore)
      .find((e) => (e as { via?: string }).via !== 'ack');
  await ws.waitFor(() => answer() !== undefined, 60_000, '/op show');
  const show = answer()!;
  const hwm = rssKb('VmHWM') * 1024;
  const journal = await reader.listJournal(opId);
  const journalJson = JSON.stringify(journal).length;
  const moved = [...nova.servers.values()].filter((s) => s.host === 'c02').length;
  const within = (m: ReturnType<typeof measure>) => m.blocks <= SLACK_LIMITS.blocksPerMessage && m.longestText <= SLACK_LIMITS.markdownText;
  const requests = wire.requests.filter((r) => r.path.startsWith('/compute/'));

  const result = {
    when: new Date().toISOString(),
    servers: N,
    parallel: PARALLEL,
    novaMoveMs: MOVE_MS,
    outcome: final.text.slice(0, 200),
    moved,
    planMs: Math.round(planMs),
    planHashMs: { median: Math.round([...hashRuns].sort((a, b) => a - b)[2]! * 10) / 10, runs: hashRuns.map((x) => Math.round(x * 10) / 10) },
    planJsonChars: JSON.stringify(plan).length,
    preview: { ...preview, withinSlackLimits: within(preview), namesTheCount: new RegExp(`\\b${N.toLocaleString('en-US')}\\b|\\b${N}\\b`).test(previewText) },
    runAfterApprovalS: Math.round(runMs / 100) / 10,
    slackMessages: { topLevel, threadReplies: thread.length, total: topLevel + thread.length, cardEdits: final.edits.length },
    card: { ...measure(final), withinSlackLimits: within(measure(final)) },
    opShow: {
      ...measure({ text: show.text ?? '', blocks: show.blocks as unknown[] }),
      withinSlackLimits: within(measure({ text: show.text ?? '', blocks: show.blocks as unknown[] })),
    },
    ack: {
      ratePerSecond: ACK_RATE,
      inFlight: ACK_IN_FLIGHT,
      mix: ACK_MIX.map((m) => m.join(' ')),
      idle: ackIdle,
      whileDraining: ackWhileDraining,
      floorP99Ms: 100,
      client: 'its own process (bench/_ack-client.ts): an open loop at ratePerSecond',
    },
    journal: { entries: journal.length, jsonMb: MB(journalJson), sqliteMb: MB(statSync(join(dir, 'state.sqlite')).size) },
    novaRequests: { total: requests.length, perInstance: Math.round((requests.length / N) * 10) / 10 },
    memory: {
      bot: own
        ? `its own process: node ${botArgv.join(' ')} (the image's CMD${process.env.BENCH_NODE_ARGS ? ` + ${process.env.BENCH_NODE_ARGS}` : ''})`
        : 'in this process with the stand-in and fake Nova (upper bound)',
      idleRssMb: MB(idleRss),
      peakRssSampledMb: MB(peakRss),
      peakRssVmHwmMb: MB(hwm),
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `\nthe card:\n${final.text}\n\nthe preview (first 1500 chars of its blocks):\n${previewText.slice(0, 1500)}\n\n/op show:\n${JSON.stringify(show).slice(0, 1500)}\n`,
  );
  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(join(REPO, 'bench/results/drain-1000.json'), JSON.stringify(result, null, 2));
  await bot.shutdown(5000);
  await reader.close();
  await standin.stop();
  nova.stop();
  await cloud.close();
  await wire.stop();
}

/** The production build as the image runs it, pointed at the fake Nova (a clouds.yaml of its own) and the stand-in. */
async function startProductionBot(
  dir: string,
  novaBase: string,
  standin: SlackStandin,
): Promise<{ pid: number; port: number; argv: string[]; stop(ms: number): Promise<void> }> {
  if (!existsSync(join(REPO, 'dist/compose/main.js'))) {
    const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('the production build failed');
  }
  const cmd = /^CMD \[(.*)\]$/m.exec(readFileSync(join(REPO, 'Dockerfile'), 'utf8'))?.[1];
  const argv = (JSON.parse(`[${cmd ?? ''}]`) as string[]).slice(1);
  writeFileSync(
    join(dir, 'clouds.yaml'),
    `clouds:\n  bench:\n    auth: { auth_url: "${novaBase}/v3", username: admin, password: pw, project_name: admin, user_domain_name: Default, project_domain_name: Default }\n    region_name: RegionOne\n    interface: public\n`,
  );
  writeFileSync(
    join(dir, 'chatops.yaml'),
    [
      `store: { kind: sqlite, path: ${join(dir, 'state.sqlite')} }`,
      `http: { port: 0, host: 127.0.0.1 }`,
      `slack: { botId: ${BOT.botId}, botUserId: ${BOT.userId} }`,
      `logging: { level: warn }`,
      `defaultCloud: bench`,
      `clouds: { bench: { cloud: bench, nodeCommands: { preset: lab }, migrationTimeout: 5m } }`,
      `approvals: { default: { requesters: { channels: [C0OPS0001] }, approvers: { groups: [S0APPROVE] } } }`,
    ].join('\n'),
  );
  // BENCH_NODE_ARGS: node flags after the CMD's (e.g. --trace-gc, or --no-optimize-for-size to undo one); the bot's output goes to bot.log
  const child = spawn(process.execPath, [...argv.slice(0, -1), ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), argv.at(-1)!], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      NODE_ENV: 'production',
      CHATOPS_CONFIG: join(dir, 'chatops.yaml'),
      OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml'),
      SLACK_BOT_TOKEN: standin.botToken,
      SLACK_API_URL: standin.apiUrl,
      SLACK_SIGNING_SECRET: standin.signingSecret,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  for (let t = 0; !/^ready on port (\d+)/m.test(out); t += 100) {
    if (t > 60_000 || child.exitCode !== null) throw new Error(`the bot did not start:\n${out.slice(-2000)}`);
    await sleep(100);
  }
  return {
    pid: child.pid!,
    argv,
    port: Number(/^ready on port (\d+)/m.exec(out)![1]),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      writeFileSync(join(dir, 'bot.log'), out);
      process.stdout.write(`the bot's output: ${join(dir, 'bot.log')}\n`);
    },
  };
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
