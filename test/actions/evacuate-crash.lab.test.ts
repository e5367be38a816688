/**
 * kill -9 of the real bot process (bot/main.ts) during `/node evacuate c01 c02` of 4 servers on the
 * lab (one with a Public_AGILE port and a volume), both methods, restarting it on the same store:
 *   - at each of the four journal phases (CHATOPS_CRASH_AT) of force-down and of the moving steps
 *     (api: the first evacuate:<uuid>; db: sql-move, move-allocations, the first reboot and the
 *     volume's reattach);
 *   - RANDOM_KILLS times at random moments (seeded), interleaved.
 * Afterwards every server is on c02 and was moved exactly once (api: one evacuation record each;
 * db: one pre-image per table and nova, neutron and Placement agree on c02 — invariant 2), the
 * approval was consumed once and every step completed once. c01 is made dead with lab/kill-host
 * and brought back after. Run under `flock /run/lock/chatops-lab-c01c02.lock`.
 */
import { execa } from 'execa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackDriver } from '../../slack-standin/driver.js';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { Plan } from '../../core/types.js';
import { openStore } from '../../store/open-store.js';
import { SIGNING_SECRET, startBot, type BotProcess } from '../helpers/bot-process.js';
import { NEUTRON_URL, NOVA_URL, Rest, bootServer, cleanup, os, osJson, osOk, requireLab, uniquePrefix, waitFor } from '../lab/lab-helpers.js';
import { LAB_DB, LAB_DIR } from './lab-bot.js';

const REPO = new URL('../../', import.meta.url).pathname;
const PLACEMENT_URL = 'http://127.0.0.1:8778';
const RANDOM_KILLS = Number(process.env['CRASH_RANDOM_KILLS'] ?? 6);
const SEED = Number(process.env['CRASH_SEED'] ?? 20261203);
const PHASES = ['before-intent', 'after-intent', 'after-effect', 'after-result'] as const;
type Row = Record<string, unknown>;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Skipped until it has passed once: written at the end of the session that built evacuate, never run
// (the lab's c01/c02 were busy); the drain kill -9 test went the same way before it was unskipped.
describe.skip.each(['api', 'db'] as const)('evacuate method=%s survives kill -9', (method) => {
  const P = uniquePrefix(`evcrash-${method}`);
  const dir = mkdtempSync(join(tmpdir(), 'evacuate-crash-'));
  let standin: SlackStandin;
  let bot: BotProcess | undefined;
  let rest: Rest;
  const ids: string[] = [];
  let withPort = '';
  let volume = '';
  const config = `
defaultCloud: lab
clouds:
  lab:
    cloud: lab
    nodeCommands: { preset: lab }
    ssh: { config: ${LAB_DIR}/ssh/ssh_config, knownHosts: ${LAB_DIR}/ssh/known_hosts }
    db: ${JSON.stringify(LAB_DB)}
    migrationTimeout: 5m
approvals:
  default:
    requesters: { channels: [C0OPS0001] }
    approvers: { groups: [S0APPROVE] }
`;
  const start = (crashAt: string | undefined, waitReady: boolean) =>
    startBot({
      mode: 'http',
      standin,
      dir,
      configYaml: config,
      waitReady,
      env: { OS_CLIENT_CONFIG_FILE: `${LAB_DIR}/clouds.yaml`, PYTHONWARNINGS: 'ignore', ...(crashAt ? { CHATOPS_CRASH_AT: crashAt } : {}) },
    });
  const ends = new WeakMap<BotProcess, Promise<string | null>>();
  const exited = (b: BotProcess) => {
    if (!ends.has(b))
      ends.set(
        b,
        new Promise<string | null>((r) => (b.child.exitCode !== null || b.child.signalCode ? r(b.child.signalCode) : b.child.once('exit', (_c, s) => r(s)))),
      );
    return ends.get(b)!;
  };

  beforeAll(async () => {
    await requireLab();
    rest = await Rest.login();
    withPort = await bootServer(`${P}net`, 'c01', { network: 'Public_AGILE' });
    ids.push(withPort);
    for (let k = 1; k <= 3; k++) ids.push(await bootServer(`${P}vm-${k}`, 'c01'));
    volume = (await osJson<{ id: string }>(['volume', 'create', '--size', '1', `${P}vol`])).id;
    await waitFor('volume available', async () => (await osJson<Row>(['volume', 'show', volume]))['status'] === 'available');
    await osOk(['server', 'add', 'volume', withPort, volume]);
    await waitFor('volume in-use', async () => (await osJson<Row>(['volume', 'show', volume]))['status'] === 'in-use');
    await execa('bash', [`${REPO}lab/kill-host`, 'c01']);
    await waitFor(
      'c01 down',
      async () =>
        (await rest.call<{ services: { state: string }[] }>('GET', `${NOVA_URL}/os-services?binary=nova-compute&host=c01`)).body.services[0]?.state === 'down',
      { timeoutMs: 90_000 },
    );
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  }, 900_000);

  afterAll(async () => {
    await bot?.stop('SIGKILL');
    await standin?.stop();
    await execa('bash', [`${REPO}lab/revive-host`, 'c01'], { reject: false, timeout: 120_000 });
    await waitFor('c01 forced up', async () => (await os(['compute', 'service', 'set', '--up', 'c01', 'nova-compute'])).exitCode === 0, {
      timeoutMs: 180_000,
      intervalMs: 2000,
    });
    await os(['compute', 'service', 'set', '--enable', 'c01', 'nova-compute']);
    await cleanup(P);
  }, 900_000);

  it('finishes after the phase kills and the random kills with every server moved exactly once', async () => {
    const random = rng(SEED);
    const log: string[] = [`seed ${SEED}`];
    const ws = standin.workspace;
    const phaseKills: string[] = PHASES.map((p) => `force-down:${p}`);
    bot = await start(phaseKills[0], true);
    const slack = new SlackDriver(standin, { kind: 'http', url: `http://127.0.0.1:${bot.port}/slack/events` });
    await slack.command({ user: 'alice', channel: 'ops', command: '/node', text: `evacuate c01 c02 method=${method} reason=crash-${P}` });
    await ws.waitFor(() => ws.messages('ops').length > 0, 120_000, 'the plan');
    const ts = ws.messages('ops').at(-1)!.ts;
    const card = () => ws.message('ops', ts)!;
    const opId = /op-[a-z2-7]{12}/.exec(JSON.stringify(card().blocks))![0];
    const approve = buttonsOf(card().blocks).find((b) => b.actionId === 'approval.approve')!;
    await slack.click({ user: 'bob', message: { channel: 'C0OPS0001', ts }, actionId: 'approval.approve', value: approve.value! }).catch(() => undefined);
    expect(await exited(bot)).toBe('SIGKILL');
    log.push(`kill: ${phaseKills.shift()}`);

    const store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
    const plan = (await store.getOperation(opId))!.plan as unknown as Plan;
    await store.close();
    const moving = plan.steps.filter((s) => (method === 'api' ? /^evacuate:/.test(s.id) : /^(sql-move|move-allocations|reboot:|reattach:)/.test(s.id)));
    expect(moving.length).toBe(method === 'api' ? 4 : 2 + 4 + 1);
    const targets = method === 'api' ? [moving[0]!] : [moving[0]!, moving[1]!, moving[2]!, moving.at(-1)!];
    for (const t of targets) for (const p of PHASES) phaseKills.push(`${t.id}:${p}`);

    let randomLeft = RANDOM_KILLS;
    const outcome = async (b: BotProcess): Promise<string | null> => {
      const deadline = Date.now() + 300_000;
      for (;;) {
        const died = await Promise.race([exited(b), new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000))]);
        if (died !== undefined) return died;
        const st = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
        const state = (await st.getOperation(opId).finally(() => st.close()))!.state;
        if (state !== 'running') return `the operation became ${state} before the crash point was reached`;
        if (Date.now() > deadline) return 'still running after 5 minutes';
      }
    };
    while (phaseKills.length > 0 || randomLeft > 0) {
      const next = phaseKills[0];
      const mayArm = next === undefined || /:(before|after)-intent$/.test(next);
      const armed = mayArm && randomLeft > 0 && random() < (2 * randomLeft) / (randomLeft + phaseKills.length);
      const delayMs = Math.round(300 + random() * 3700);
      bot = await start(next, false);
      const b = bot;
      let ours = false;
      const timer = armed
        ? setTimeout(() => {
            ours = true;
            b.child.kill('SIGKILL');
          }, delayMs)
        : undefined;
      const signal = await outcome(b);
      clearTimeout(timer);
      expect(signal, `${next ?? 'random'}\n${log.join('\n')}\n${b.output().slice(-3000)}`).toBe('SIGKILL');
      if (next && b.output().includes(`crash point ${next}\n`)) log.push(`kill: ${phaseKills.shift()}`);
      else if (ours) {
        randomLeft--;
        log.push(`kill: random after ${delayMs} ms`);
      } else throw new Error(`the bot died without our kill and without reaching ${next}:\n${b.output().slice(-3000)}`);
    }
    process.stdout.write(`evacuate-crash ${method}: ${log.length - 1} kills\n  ${log.join('\n  ')}\n`);
    bot = await start(undefined, true);
    await ws.waitFor(() => /succeeded|failed|in doubt|needs|aborted/i.test(card().text), 900_000, 'the evacuation to finish');
    expect(card().text, log.join('\n')).toMatch(/succeeded/);

    // Nova, Neutron, Placement: every server on c02 and nothing pointing at c01 (invariant 2).
    const rps = (await rest.call<{ resource_providers: { uuid: string; name: string }[] }>('GET', `${PLACEMENT_URL}/resource_providers`)).body
      .resource_providers;
    const c02 = rps.find((r) => r.name === 'c02')!.uuid;
    for (const id of ids) {
      const s = (await rest.call<{ server: Row }>('GET', `${NOVA_URL}/servers/${id}`)).body.server;
      expect(s['OS-EXT-SRV-ATTR:host'], log.join('\n')).toBe('c02');
      expect(s['status']).toBe('ACTIVE');
      for (const port of (await rest.call<{ ports: Row[] }>('GET', `${NEUTRON_URL}/ports?device_id=${id}`)).body.ports)
        expect(port['binding:host_id']).toBe('c02');
      const alloc = (await rest.call<{ allocations: Record<string, unknown> }>('GET', `${PLACEMENT_URL}/allocations/${id}`)).body.allocations;
      expect(Object.keys(alloc)).toContain(c02);
      if (method === 'db') expect(Object.keys(alloc)).toEqual([c02]);
      // exactly one evacuation (api) or none at all (db): never moved twice
      const ev = (await rest.call<{ migrations: Row[] }>('GET', `${NOVA_URL}/os-migrations?instance_uuid=${id}&migration_type=evacuation`)).body.migrations;
      expect(ev.length, `${id}: ${log.join('\n')}`).toBe(method === 'api' ? 1 : 0);
    }
    expect((await osJson<{ 'Volume ID': string }[]>(['server', 'volume', 'list', withPort])).map((v) => v['Volume ID'])).toEqual([volume]);

    await bot.stop('SIGTERM');
    bot = undefined;
    const after = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
    try {
      expect((await after.listApprovals({ operationId: opId })).filter((a) => a.consumedAt !== null)).toHaveLength(1);
      const audit = await after.listAudit({ operationId: opId, limit: 10_000 });
      expect(audit.filter((a) => a.kind === 'operation.started')).toHaveLength(1);
      const journal = await after.listJournal(opId);
      for (const step of plan.steps)
        expect(
          journal.filter((e) => e.stepId === step.id && (e.status === 'ok' || e.status === 'skipped')),
          `${step.id}: ${log.join('\n')}`,
        ).toHaveLength(1);
      if (method === 'db') {
        // invariant 3: the SQL ran once; its pre-images were journaled (one committed write per table)
        const sqlAudit = audit.filter((a) => a.kind === 'sql.preimage');
        expect(new Set(sqlAudit.map((a) => (a.payload as { statement?: string }).statement)).size).toBe(3);
      }
    } finally {
      await after.close();
    }
  }, 2_400_000);
});
