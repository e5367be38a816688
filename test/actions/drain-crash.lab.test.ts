/**
 * kill -9 of the real bot process (bot/main.ts, `CHATOPS_CRASH_AT`) during a drain on the lab, at
 * several phases of several steps, restarting it each time on the same store: the drain finishes by
 * itself after the last restart, every server is accounted for on c02, and Nova's migration records
 * show exactly one migration per server (none was migrated twice).
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buttonsOf } from '../../bot/standin/payloads.js';
import { SlackDriver } from '../../bot/standin/driver.js';
import { SlackStandin } from '../../bot/standin/slack-standin.js';
import { openStore } from '../../store/open-store.js';
import type { Plan } from '../../core/types.js';
import { SIGNING_SECRET, startBot, type BotProcess } from '../helpers/bot-process.js';
import { os, osJson, requireLab, sshHost, uniquePrefix, waitFor } from '../lab/lab-helpers.js';
import { holdLabHost, LAB_DIR } from './lab-bot.js';

const REPO = new URL('../../', import.meta.url).pathname;
const N = 5;
type Row = Record<string, string>;

// Skipped until it has passed once: written at the end of session 1, its first complete run did not
// happen in time (see the session note). Unskip after running it alone with
// `npx vitest run test/actions/drain-crash.lab.test.ts` on an otherwise idle lab.
describe.skip('drain survives kill -9 at step phases', () => {
  let standin: SlackStandin;
  let prefix: string;
  let bot: BotProcess | undefined;
  let lock: { release(): void } | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'drain-crash-'));
  const config = `
defaultCloud: lab
clouds:
  lab:
    cloud: lab
    nodeCommands: { preset: lab }
    ssh: { config: ${LAB_DIR}/ssh/ssh_config, knownHosts: ${LAB_DIR}/ssh/known_hosts }
    migrationTimeout: 5m
approvals:
  default:
    requesters: { channels: [C0OPS0001] }
    approvers: { groups: [S0APPROVE] }
`;
  const start = (crashAt?: string) =>
    startBot({ mode: 'http', standin, dir, configYaml: config, env: { OS_CLIENT_CONFIG_FILE: `${LAB_DIR}/clouds.yaml`, ...(crashAt ? { CHATOPS_CRASH_AT: crashAt } : {}) } });
  const died = (b: BotProcess) => new Promise<string | null>((r) => (b.child.signalCode ? r(b.child.signalCode) : b.child.once('exit', (_c, s) => r(s))));

  beforeAll(async () => {
    await requireLab();
    lock = await holdLabHost('c01');
    prefix = uniquePrefix('crash').replace(/-$/, '');
    await sshHost('c01', 'lab-nova-compute start');
    await os(['compute', 'service', 'set', '--enable', 'c01', 'nova-compute']);
    const seeded = await execa('bash', [`${REPO}lab/seed`, '--servers', String(N), '--net-servers', '2', '--no-volume', '--prefix', prefix, '--host', 'c01'], { reject: false, timeout: 600_000 });
    if (seeded.exitCode !== 0) throw new Error(`lab/seed failed: ${seeded.stderr.slice(-800)}`);
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  }, 900_000);

  afterAll(async () => {
    await bot?.stop('SIGKILL');
    await standin?.stop();
    await sshHost('c01', 'lab-nova-compute start');
    await os(['compute', 'service', 'set', '--enable', 'c01', 'nova-compute']);
    if (prefix) await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
    lock?.release();
  }, 900_000);

  it('finishes after restarts with every server moved exactly once', async () => {
    const ws = standin.workspace;
    bot = await start('disable-service:after-effect');
    const slack = new SlackDriver(standin, { kind: 'http', url: `http://127.0.0.1:${bot.port}/slack/events` });
    await slack.command({ user: 'alice', channel: 'ops', command: '/node', text: `drain c01 reason=crash-${prefix}` });
    await ws.waitFor(() => ws.messages('ops').length > 0, 120_000, 'the plan');
    const ts = ws.messages('ops').at(-1)!.ts;
    const opId = /op-[a-z2-7]{12}/.exec(JSON.stringify(ws.message('ops', ts)!.blocks))![0];
    const approve = buttonsOf(ws.message('ops', ts)!.blocks).find((b) => b.actionId === 'approval.approve')!;
    await slack.click({ user: 'bob', message: { channel: 'C0OPS0001', ts }, actionId: 'approval.approve', value: approve.value! });
    expect(await died(bot)).toBe('SIGKILL');

    const store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
    const plan = (await store.getOperation(opId))!.plan as unknown as Plan;
    await store.close();
    const migrates = plan.steps.filter((s) => s.id.startsWith('migrate')).map((s) => s.id);
    expect(migrates.length).toBeGreaterThanOrEqual(N);
    // Each restart crashes at the next point; the last one runs clean.
    const points = [`${migrates[0]}:after-intent`, `${migrates[1]}:after-effect`, `${migrates[2]}:after-result`, 'stop-service:after-intent', undefined];
    for (const p of points) {
      bot = await start(p);
      if (p) expect(await died(bot)).toBe('SIGKILL');
    }
    await ws.waitFor(() => /succeeded|failed|in doubt|needs/i.test(ws.message('ops', ts)!.text), 900_000, 'the drain to finish');
    expect(ws.message('ops', ts)!.text).toMatch(/succeeded/);

    const mine = (await osJson<Row[]>(['server', 'list', '--all-projects', '--name', `^${prefix}-`, '--long'])).filter((s) => s['Name']!.startsWith(`${prefix}-`));
    expect(mine).toHaveLength(N);
    for (const s of mine) {
      expect(s['Host']).toBe('c02');
      const migrations = await osJson<Row[]>(['server', 'migration', 'list', '--server', s['ID']!]);
      expect(migrations.map((m) => m['Status'])).toEqual(['completed']);
    }
    await waitFor('nova-compute on c01 stopped', async () => (await sshHost('c01', 'lab-nova-compute status')).exitCode === 3, { timeoutMs: 60_000 });
  }, 1_800_000);
});
