/**
 * Scheduled runs across processes, through the Slack stand-in: the bot (buildBot, its bree ticker)
 * runs as a child process (test/fixtures/runbooks/scheduled-bot-child.ts) with the scratch runbook
 * registered as `node.drain`, so every side effect is one counted row and no lab is needed.
 *
 * - kill -9 of the bot between the approval and the scheduled time: the restarted bot runs it at its
 *   time, once (SQLite store).
 * - two replicas on one MariaDB store, both sweeping every second: exactly one claims the schedule
 *   and starts the run (one `schedule.claimed`, one `operation.started`, each step journaled and
 *   applied once).
 * - kill -9 of the replica running a drain: the other one takes it over through the lease (its
 *   periodic reconciliation, not a restart) and finishes it, each step's effect once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlackDriver } from '../../slack-standin/driver.js';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { Message } from '../../slack-standin/workspace.js';
import { openStore } from '../../store/open-store.js';
import type { StoreConfig } from '../../store/store-config.js';
import type { Store } from '../../store/store.js';
import { mysqlScratch, sqliteScratch, type Scratch } from '../fixtures/runbooks/scratch-db.js';
import { REPO } from '../helpers/bot-process.js';
import { waitFor } from '../helpers/wait-for.js';

const CHILD = join(import.meta.dirname, '../fixtures/runbooks/scheduled-bot-child.ts');
const ALL_ONCE = { 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 };

let standin: SlackStandin;
let slack: SlackDriver;
const children: ChildProcess[] = [];
const ws = () => standin.workspace;
const text = (m: Message | undefined) => `${m?.text ?? ''} ${JSON.stringify(m?.blocks ?? [])}`;

beforeAll(async () => {
  standin = await new SlackStandin().start();
  slack = new SlackDriver(standin, { kind: 'socket' });
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(async () => standin?.stop());

/** A bot child; resolves once it said READY and its Socket Mode connection is up. */
async function startChild(o: {
  store: StoreConfig;
  scratch: string;
  owner: string;
  env?: Record<string, string>;
}): Promise<ChildProcess & { out: () => string }> {
  const before = standin.sockets.connections;
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      SCHED_STORE: JSON.stringify(o.store),
      SCHED_SCRATCH: o.scratch,
      SCHED_OWNER: o.owner,
      SCHED_TICK_MS: '1000',
      ...(process.env.TEST_LOG ? { TEST_LOG: process.env.TEST_LOG } : {}),
      SLACK_BOT_TOKEN: standin.botToken,
      SLACK_APP_TOKEN: standin.appToken,
      SLACK_API_URL: standin.apiUrl,
      ...(o.env ?? {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  try {
    // Ready, and the stand-in counts one connection per live child: the socket of a child killed just
    // before may close only now, so "more connections than before" would be a race.
    const live = () => children.filter((c) => c.exitCode === null && c.signalCode === null).length;
    await waitFor(`${o.owner} to be ready`, () => out.includes('READY') && standin.sockets.connections === live(), 90_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}; sockets ${standin.sockets.connections} (before ${before}); its output: ${out.slice(-1500)}`, { cause: e });
  }
  return Object.assign(child, { out: () => out });
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** alice asks for `text` (with in=), bob approves now; resolves once the thread says when it starts. */
async function askAndApprove(command: string): Promise<{ card: () => Message; opId: string; scheduleId: string }> {
  const before = ws().messages('ops').length;
  const ack = await slack.command({ user: 'alice', channel: 'ops', command: '/node', text: command });
  expect(ack.timedOut).toBe(false);
  await ws().waitFor(() => ws().messages('ops').length > before, 20_000, `the plan of ${command}`);
  const ts = ws().messages('ops').at(-1)!.ts;
  const card = () => ws().message('ops', ts)!;
  const opId = /op-[a-z2-7]{12}/.exec(text(card()))![0];
  const scheduleId = /sc-[a-z2-7]{12}/.exec(text(card()))![0];
  const approve = buttonsOf(card().blocks).find((b) => b.actionId === 'approval.approve')!;
  await slack.click({ user: 'bob', message: { channel: card().channel, ts }, actionId: 'approval.approve', value: approve.value! });
  await ws().waitFor(
    () =>
      ws()
        .thread('ops', ts)
        .some((m) => /It starts at .* \(in \d+ s\)/.test(m.text)),
    20_000,
    'the approval reply',
  );
  return { card, opId, scheduleId };
}

async function kinds(store: Store, opId: string): Promise<string[]> {
  return (await store.listAudit({ operationId: opId })).map((a) => a.kind);
}

/**
 * Two fresh MariaDB databases for a replicas case (the store, and the scratch runbook's effects),
 * dropped afterwards; `opened` collects the connections the case opens, closed first.
 */
async function onMariaDb(
  run: (db: { storeConfig: StoreConfig; scratchDb: string }, opened: { store?: Store; scratch?: Scratch }) => Promise<void>,
): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  const storeDb = `schedule2_${tag}`;
  const scratchDb = `schedule2_${tag}_scratch`;
  const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
  const opened: { store?: Store; scratch?: Scratch } = {};
  try {
    for (const db of [storeDb, scratchDb]) await admin.query(`CREATE DATABASE \`${db}\``);
    await run({ storeConfig: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', database: storeDb }, scratchDb }, opened);
  } finally {
    await opened.store?.close();
    await opened.scratch?.close();
    for (const db of [storeDb, scratchDb]) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await admin.end();
  }
}
describe('scheduled runs across processes', () => {
  it('kill -9 of the bot between the approval and the time: the restarted bot runs it at its time, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sched-kill-'));
    const storeConfig: StoreConfig = { kind: 'sqlite', path: join(dir, 'state.sqlite') };
    const scratchPath = join(dir, 'scratch.sqlite');
    let store: Store | undefined;
    let scratch: Scratch | undefined;
    try {
      const first = await startChild({ store: storeConfig, scratch: scratchPath, owner: 'replica-a' });
      const { card, opId, scheduleId } = await askAndApprove('drain sk-a reason=maintenance in=20s');
      await kill9(first);
      store = await openStore(storeConfig);
      scratch = sqliteScratch(scratchPath);
      const op = await store.getOperation(opId);
      const runAt = Number(op!.detail.runAt);
      expect(Date.now()).toBeLessThan(runAt); // killed before its time
      expect([op!.state, (await store.getSchedule(scheduleId))!.state]).toEqual(['approved', 'scheduled']);
      await startChild({ store: storeConfig, scratch: scratchPath, owner: 'replica-a' });
      await ws().waitFor(() => /: succeeded,/.test(card().text), 60_000, `the run to finish: ${card().text}`);
      const started = (await store.listAudit({ operationId: opId })).filter((a) => a.kind === 'operation.started');
      expect(started).toHaveLength(1);
      expect(started[0]!.at).toBeGreaterThanOrEqual(runAt);
      expect(await scratch.counts(opId)).toEqual(ALL_ONCE);
      expect((await store.listJournal(opId)).map((e) => `${e.stepId}#${e.attempt}:${e.status}`)).toEqual(Object.keys(ALL_ONCE).map((s) => `${s}#1:ok`));
      expect((await store.getSchedule(scheduleId))!.state).toBe('done');
    } finally {
      await store?.close();
      await scratch?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('two replicas on one MariaDB store with one schedule: one claim, one start, every step once', async () => {
    await onMariaDb(async ({ storeConfig, scratchDb }, opened) => {
      // one after the other: the first one creates the schema
      const a = await startChild({ store: storeConfig, scratch: `mysql:${scratchDb}`, owner: 'replica-a' });
      const b = await startChild({ store: storeConfig, scratch: `mysql:${scratchDb}`, owner: 'replica-b' });
      const store = (opened.store = await openStore(storeConfig));
      const scratch = (opened.scratch = await mysqlScratch(scratchDb));
      const { card, opId, scheduleId } = await askAndApprove('drain sr-a reason=maintenance in=10s');
      await ws().waitFor(() => /: succeeded,/.test(card().text), 60_000, `the run to finish: ${card().text}`);
      // a few more ticks of both replicas: nothing starts it again
      await new Promise((r) => setTimeout(r, 3000));
      expect(a.exitCode ?? b.exitCode, a.out() + b.out()).toBeNull();
      const audit = await kinds(store, opId);
      expect(audit.filter((k) => k === 'schedule.claimed')).toHaveLength(1);
      expect(audit.filter((k) => k === 'operation.started')).toHaveLength(1);
      expect(audit).not.toContain('schedule.failed');
      expect(await scratch.counts(opId)).toEqual(ALL_ONCE);
      expect((await store.listJournal(opId)).map((e) => `${e.stepId}#${e.attempt}`)).toEqual(Object.keys(ALL_ONCE).map((s) => `${s}#1`));
      expect((await store.getSchedule(scheduleId))!.state).toBe('done');
      // the replica that claimed it is the one that started it
      const entries = await store.listAudit({ operationId: opId });
      const byKind = (k: string) => (entries.find((e) => e.kind === k)?.actor ?? '').replace(/^bot:/, '');
      expect(['replica-a', 'replica-b']).toContain(byKind('schedule.claimed'));
      expect(byKind('operation.started')).toBe(byKind('schedule.claimed'));
    });
  }, 180_000);

  it('kill -9 of the replica running it: the other takes it over when the lease ends and finishes it, each effect once', async () => {
    await onMariaDb(async ({ storeConfig, scratchDb }, opened) => {
      // a 3 s lease (reconciliation every second); write-2 takes 8 s, so the run is killed inside it
      const env = { SCHED_LEASE_MS: '3000', SCHED_SLOW: 'write-2:8000' };
      const replicas = {
        'replica-a': await startChild({ store: storeConfig, scratch: `mysql:${scratchDb}`, owner: 'replica-a', env }),
        'replica-b': await startChild({ store: storeConfig, scratch: `mysql:${scratchDb}`, owner: 'replica-b', env }),
      };
      const store = (opened.store = await openStore(storeConfig));
      const scratch = (opened.scratch = await mysqlScratch(scratchDb));
      const { card, opId } = await askAndApprove('drain sr-k reason=maintenance in=5s');
      const running = await waitFor(
        'write-2 to be in progress',
        async () => {
          const j = await store.listJournal(opId);
          const op = await store.getOperation(opId);
          return j.some((e) => e.stepId === 'write-2' && e.status === null) && op?.owner ? op.owner : undefined;
        },
        30_000,
      );
      const killed = running as keyof typeof replicas;
      const survivor = killed === 'replica-a' ? 'replica-b' : 'replica-a';
      await kill9(replicas[killed]);
      await ws().waitFor(() => /: succeeded,/.test(card().text), 60_000, `the run to finish on ${survivor}: ${card().text}`);
      const audit = await store.listAudit({ operationId: opId });
      const taken = audit.find((e) => e.kind === 'operation.reconciling');
      expect(taken?.actor).toBe(`bot:${survivor}`);
      expect(taken?.payload.previousOwner).toBe(killed);
      expect(audit.filter((e) => e.kind === 'operation.started')).toHaveLength(1);
      expect(await scratch.counts(opId)).toEqual(ALL_ONCE);
      expect((await store.getOperation(opId))?.state).toBe('succeeded');
    });
  }, 180_000);
});
