/**
 * kill -9 of the real bot process (bot/main.ts) during `/ip recover` through the probe fallback, on the
 * lab as the demo project (403 on choosing an address), on a small shared network of this file's own
 * (a /27, so a recovery takes a few rounds): at each of the four journal phases of every step of the
 * recover plan (`CHATOPS_CRASH_AT`), and at random moments in between, restarting on the same store.
 * Afterwards: no probe port exists, and exactly one port — the kept one — holds the address; every
 * step of the plan completed exactly once in the journal.
 *
 * A restarted bot first sweeps the probe ports (actions/ip/probe-sweep.ts), then continues the
 * operation (engine.reconcileOnStartup) or finishes its start (engine.startLeftApproved).
 */
import { execa } from 'execa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_OWNER } from '../../actions/ip/ip-network.js';
import type { RestCloud } from '../../adapters/openstack/rest-cloud.js';
import { SlackDriver } from '../../slack-standin/driver.js';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { openStore } from '../../store/open-store.js';
import { SIGNING_SECRET, startBot, type BotProcess } from '../helpers/bot-process.js';
import { CRASH_PHASES, exitSignal, rng, runKillLoop } from '../helpers/crash-harness.js';
import { labClouds, labInfo } from '../adapters/openstack/lab-fixtures.js';
import { uniquePrefix } from '../lab/lab-helpers.js';
import { LAB_DIR } from './lab-bot.js';

const REPO = new URL('../../', import.meta.url).pathname;
const STEPS = ['request-address', 'probe-rounds', 'keep-port', 'delete-probes', 'report'];
const RANDOM_KILLS = Number(process.env['CRASH_RANDOM_KILLS'] ?? 8);
const SEED = Number(process.env['CRASH_SEED'] ?? 20261203);

describe('/ip recover (probe fallback) survives kill -9 at every step phase and at random times', () => {
  const prefix = uniquePrefix('ipcrash').replace(/-$/, '');
  const dir = mkdtempSync(join(tmpdir(), 'ip-crash-'));
  let rest: RestCloud;
  let standin: SlackStandin;
  let bot: BotProcess | undefined;
  let netName = '';
  const ours: string[] = [];
  const config = () => `
defaultCloud: lab
clouds:
  lab:
    cloud: lab-demo
    publicNetwork: ${netName}
    ipRecovery: { probeBatch: 3, maxRounds: 20 }
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
      configYaml: config(),
      waitReady,
      env: { OS_CLIENT_CONFIG_FILE: `${LAB_DIR}/clouds.yaml`, ...(crashAt ? { CHATOPS_CRASH_AT: crashAt } : {}) },
    });

  beforeAll(async () => {
    // Neutron and Keystone only: these tests do not need c01/c02 enabled (another suite's drain may hold one).
    labInfo();
    rest = labClouds(labInfo()).rest;
    netName = `${prefix}-net`;
    const n = await rest.http.post('network', '/networks', {
      body: { network: { name: netName, shared: true } },
      schema: z.object({ network: z.object({ id: z.string() }) }),
    });
    await rest.http.post('network', '/subnets', {
      body: { subnet: { network_id: n.network.id, name: `${prefix}-sub`, ip_version: 4, cidr: '198.51.100.32/27', enable_dhcp: false } },
    });
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  }, 120_000);

  afterAll(async () => {
    await bot?.stop('SIGKILL');
    await standin?.stop();
    // only this file's probes: other suites' recoveries may be running
    for (const p of await rest.listPorts({ deviceOwner: PROBE_OWNER }))
      if (ours.some((op) => p.name === `ip-probe-${op}`)) await rest.deletePort(p.id).catch(() => undefined);
    await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 300_000 });
    await rest?.close();
  }, 600_000);

  /**
   * The phase points, split over two operations so that each is reachable: a kill after keep-port's
   * (or delete-probes') intent lets the restarted bot's sweep do that step's work (it renames the
   * probe holding the address, deletes the others), so the step is then settled as done by reading
   * Neutron and its after-effect point is never passed in that operation. Two more operations take
   * those two points, one each.
   */
  const late = ['keep-port:after-effect', 'delete-probes:after-effect'];
  const first = STEPS.flatMap((st) => CRASH_PHASES.map((ph) => `${st}:${ph}`)).filter((x) => !late.includes(x));

  async function recoverWithKills(tag: string, phaseKills: string[], randomKills: number, random: () => number, log: string[]): Promise<void> {
    const ws = standin.workspace;
    const net = (await rest.findNetwork(netName))!;
    const freed = await rest.createPort({ networkId: net.id, name: `${prefix}-lost-${tag}` });
    await rest.deletePort(freed.id);
    const addr = freed.fixedIps[0]!.ipAddress;
    const kept = `${prefix}-kept-${tag}`;
    log.push(`${tag}: recover ${addr}`);

    bot = await start(phaseKills[0], true);
    const slack = new SlackDriver(standin, { kind: 'http', url: `http://127.0.0.1:${bot.port}/slack/events` });
    const before = ws.messages('ops').length;
    await slack.command({ user: 'alice', channel: 'ops', command: '/ip', text: `recover ${addr} name=${kept}` });
    await ws.waitFor(() => ws.messages('ops').length > before, 120_000, 'the plan');
    const ts = ws.messages('ops').at(-1)!.ts;
    const card = () => ws.message('ops', ts)!;
    const opId = /op-[a-z2-7]{12}/.exec(JSON.stringify(card().blocks))![0];
    ours.push(opId);
    const approve = buttonsOf(card().blocks).find((b) => b.actionId === 'approval.approve')!;
    await slack.click({ user: 'bob', message: { channel: 'C0OPS0001', ts }, actionId: 'approval.approve', value: approve.value! }).catch(() => undefined);
    // The first bot dies at its point, or the operation ends without reaching it: then say how, at once.
    const ended = ws
      .waitFor(() => /: (succeeded|failed|aborted|needs-operator),/.test(card().text), 600_000, 'the operation to end')
      .then(
        () => `the operation ended before ${phaseKills[0]}: ${card().text}`,
        () => 'neither a kill nor an end within 10 minutes',
      );
    expect(await Promise.race([exitSignal(bot), ended]), bot.output().slice(-3000)).toBe('SIGKILL');
    expect(bot.output()).toContain(`crash point ${phaseKills[0]}\n`);
    log.push(`kill: ${phaseKills.shift()}`);

    await runKillLoop({
      start: async (crashAt) => (bot = await start(crashAt, false)),
      phaseKills,
      randomKills,
      random,
      opState: async () => {
        const st = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
        return (await st.getOperation(opId).finally(() => st.close()))!.state;
      },
      log,
      delay: { min: 300, span: 2700 },
      randomMayOutlive: true,
    });

    bot = await start(undefined, true);
    await ws.waitFor(() => /: (succeeded|failed|aborted|needs-operator),/.test(card().text), 600_000, 'the recovery to finish');
    expect(card().text, log.join('\n')).toMatch(/succeeded/);
    await bot.stop('SIGTERM');
    bot = undefined;

    // Neutron (admin's view, every project): exactly the kept port holds the address; no probe anywhere.
    const held = await rest.listPorts({ fixedIp: addr });
    expect(
      held.map((p) => p.name),
      log.join('\n'),
    ).toEqual([kept]);
    expect(held[0]!.deviceOwner).toBe('');
    expect(
      (await rest.listPorts({ deviceOwner: PROBE_OWNER })).filter((p) => p.name === `ip-probe-${opId}`),
      log.join('\n'),
    ).toEqual([]);

    const store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
    try {
      const journal = await store.listJournal(opId);
      for (const id of STEPS)
        expect(
          journal.filter((e) => e.stepId === id && (e.status === 'ok' || e.status === 'skipped')),
          `${id}: ${log.join('\n')}`,
        ).toHaveLength(1);
      const audit = await store.listAudit({ operationId: opId });
      expect(audit.filter((a) => a.kind === 'operation.started')).toHaveLength(1);
      expect((await store.listApprovals({ operationId: opId })).filter((a) => a.consumedAt !== null)).toHaveLength(1);
    } finally {
      await store.close();
    }
  }

  it(`finishes after ${STEPS.length * CRASH_PHASES.length} phase kills (three operations) and ${RANDOM_KILLS} random kills: no probe left, one port holds each address`, async () => {
    const random = rng(SEED);
    const log: string[] = [`seed ${SEED}`];
    try {
      await recoverWithKills('a', [...first], RANDOM_KILLS, random, log);
      // Any restart before the step runs (a kill, the sweep that follows it) would do its work: one point each, nothing random.
      await recoverWithKills('b', [late[1]!], 0, random, log);
      await recoverWithKills('c', [late[0]!], 0, random, log);
    } finally {
      process.stdout.write(`ip-recover-crash: ${log.filter((l) => l.startsWith('kill')).length} kills\n  ${log.join('\n  ')}\n`);
    }
    const net = (await rest.findNetwork(netName))!;
    expect((await rest.listPorts({ networkId: net.id })).map((p) => p.name).sort()).toEqual([`${prefix}-kept-a`, `${prefix}-kept-b`, `${prefix}-kept-c`]);
  }, 1_800_000);
});
