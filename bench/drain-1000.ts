/**
 * A drain of 1,000 instances with parallel=8, bot side (issue 15): the bot as main.ts assembles it
 * (in this process, HTTP, SQLite store, the Slack stand-in, alice asks and bob approves) against a
 * wire-level Nova (test/adapters/openstack/mini-nova.ts on FakeOpenStackWire, read through RestCloud)
 * whose live migrations end by themselves BENCH_MOVE_MS after the request. Seeding 1,000 fake-driver
 * servers on the shared lab was not possible on this 2-core machine in the time; this measures
 * everything that is the bot's at that size: planning, the plan hash, the preview against Slack's
 * limits, the Slack messages written, the status card, `/op show`, the journal, and the process's
 * peak RSS and heap (sampled every 100 ms; stand-in and fake Nova share the process: an upper bound).
 */
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
  const cloud = new RestCloud(
    {
      name: 'bench',
      interface: 'public',
      regionName: 'RegionOne',
      insecure: false,
      sources: [],
      auth: {
        type: 'password',
        authUrl: `${wire.base}/v3`,
        username: 'admin',
        password: 'pw',
        userDomainName: 'Default',
        projectName: 'admin',
        projectDomainName: 'Default',
      },
    },
    { timeoutMs: 30_000 },
  );
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
  const store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
  const { bot, slack } = await startInProcessBot<NodeDeps>({ standin, transport: 'http', store, runbooks: RUNBOOKS, deps, owner: 'bench-1000' });
  const ws = standin.workspace;

  let peakRss = 0;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 100);
  const idle = process.memoryUsage();

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
  const op = await store.getOperation(opId);
  const plan = (op as unknown as { plan: Parameters<typeof planHash>[0] }).plan;
  const hashRuns: number[] = [];
  for (let k = 0; k < 5; k++) {
    const h0 = performance.now();
    planHash(plan);
    hashRuns.push(performance.now() - h0);
  }
  const approve = buttonsOf(card().blocks).find((b) => b.actionId === 'approval.approve')!;
  const a0 = performance.now();
  await slack.click({ user: 'bob', message: { channel: card().channel, ts }, actionId: 'approval.approve', value: approve.value! });
  await ws.waitFor(() => /: (succeeded|failed|aborted|needs-operator),/.test(card().text), 3_600_000, 'the drain to finish');
  const runMs = performance.now() - a0;
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
  const journal = await store.listJournal(opId);
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
    journal: { entries: journal.length, jsonMb: MB(journalJson), sqliteMb: MB(statSync(join(dir, 'state.sqlite')).size) },
    novaRequests: { total: requests.length, perInstance: Math.round((requests.length / N) * 10) / 10 },
    memory: {
      idleRssMb: MB(idle.rss),
      peakRssMb: MB(peakRss),
      idleHeapMb: MB(idle.heapUsed),
      peakHeapMb: MB(peakHeap),
      note: 'one process: bot + stand-in + fake Nova (upper bound)',
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `\nthe card:\n${final.text}\n\nthe preview (first 1500 chars of its blocks):\n${previewText.slice(0, 1500)}\n\n/op show:\n${JSON.stringify(show).slice(0, 1500)}\n`,
  );
  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(join(REPO, 'bench/results/drain-1000.json'), JSON.stringify(result, null, 2));
  await bot.shutdown(5000);
  await store.close();
  await standin.stop();
  nova.stop();
  await cloud.close();
  await wire.stop();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
