/**
 * `/ip recover` on the lab: the fixed-IP path against the chapter's loop (10 `openstack port create`
 * a round, find the one that got the address, a rename, 9 deletes, repeat), and the bot's probe
 * fallback (one bulk POST a round, probes held until found) for a project whose policy forbids the
 * fixed-IP request. Counted: HTTP requests to the APIs (Keystone's token requests apart), writes, wall
 * time. Each case recovers an address freed just before, on a shared /26 of this bench's own (61
 * addresses in the pool), so that the chapter's lottery ends in minutes; a real Public_AGILE /24 takes
 * about four times the rounds.
 *
 *   npm run bench ip-recover          (CHAPTER_CLI=1 also runs the chapter's loop with the real CLI,
 *                                      at most CHAPTER_CLI_ROUNDS rounds, default 5: calls counted from --debug)
 *
 * The runbook's steps run through a small loop here (check, then run), as the runner calls them,
 * without the journal: the figures are those of the Neutron side.
 */
import { execa } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { recoverRunbook, type RecoverArgs } from '../actions/ip/recover.js';
import type { NodeDeps } from '../actions/deps.js';
import { PROBE_OWNER } from '../actions/ip/ip-network.js';
import { loadCloudConfig } from '../adapters/openstack/cloud-config.js';
import type { CallRecord } from '../adapters/openstack/openstack-http.js';
import { RestCloud } from '../adapters/openstack/rest-cloud.js';
import { systemClock } from '../core/clock.js';
import { finalizePlan, type JsonValue } from '../engine/runbook.js';

const cloudsYaml = process.env.LAB_CLOUDS_YAML ?? '/var/lib/openstack-lab/clouds.yaml';
const prefix = `bench-ip-${Date.now().toString(36)}`;

interface Counted {
  cloud: RestCloud;
  calls: CallRecord[];
}
function open(cloud: string): Counted {
  const calls: CallRecord[] = [];
  const c = new RestCloud(loadCloudConfig({ env: { OS_CLIENT_CONFIG_FILE: cloudsYaml, OS_CLOUD: cloud }, cloud }), { onCall: (r) => calls.push(r) });
  return { cloud: c, calls };
}
const figures = (calls: CallRecord[], t0: number) => ({
  requests: calls.length,
  writes: calls.filter((c) => c.method !== 'GET').length,
  ms: Math.round(performance.now() - t0),
});

/** The runbook's plan and steps as the runner calls them (check, then run), without the journal. */
async function runRecover(c: Counted, args: RecoverArgs): Promise<Record<string, JsonValue>> {
  const deps: NodeDeps = {
    node: {
      name: 'lab',
      cloud: c.cloud,
      shell: undefined as never,
      commands: undefined as never,
      sudo: false,
      migrationTimeoutMs: 0,
      clock: systemClock,
      ipRecovery: { probeBatch: 10, maxRounds: 20 },
    },
  };
  const plan = finalizePlan('ip.recover', await recoverRunbook.plan(args, deps, { requester: { userId: 'U0BENCH', teamId: 'T0BENCH' }, now: Date.now() }));
  const outputs: Record<string, JsonValue> = {};
  const opId = `op-${'bench'.padEnd(12, 'a')}`;
  for (const step of recoverRunbook.steps(plan, deps)) {
    const ctx = {
      opId,
      plan,
      step,
      deps,
      signal: new AbortController().signal,
      save: async () => undefined,
      audit: async () => undefined,
      progress: () => undefined,
      milestone: () => undefined,
      privately: () => undefined,
      outputs,
    };
    const seen = step.check ? await step.check(ctx) : undefined;
    if (seen?.state === 'done') {
      if (seen.output !== undefined) outputs[step.id] = seen.output;
      continue;
    }
    const out = await step.run(ctx);
    if (out !== undefined) outputs[step.id] = out;
  }
  return outputs;
}

/** The chapter's loop, over REST: 10 single creates, look, rename the winner, delete the others; repeat. */
async function chapterLoop(c: Counted, networkId: string, ip: string, maxRounds = 60): Promise<{ rounds: number; found: boolean }> {
  for (let round = 1; round <= maxRounds; round++) {
    const made = [];
    for (let i = 0; i < 10; i++) made.push(await c.cloud.createPort({ networkId, name: `${prefix}-ip-recovery` }));
    const winner = made.find((p) => p.fixedIps.some((f) => f.ipAddress === ip));
    if (winner) await c.cloud.updatePort(winner.id, { name: `${prefix}-dont-delete` });
    for (const p of made) if (p !== winner) await c.cloud.deletePort(p.id);
    if (winner) return { rounds: round, found: true };
  }
  return { rounds: maxRounds, found: false };
}

/** Every HTTP request an `openstack --debug` run made (urllib3's log line per request), token requests apart. */
function cliRequests(stderr: string): { requests: number; writes: number; tokens: number } {
  const reqs = [...stderr.matchAll(/^https?:\/\/\S+ "(GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) HTTP\/[\d.]+" \d+/gm)].map((m) => ({ method: m[1]!, path: m[2]! }));
  const tokens = reqs.filter((r) => r.path.startsWith('/v3/auth/tokens')).length;
  const rest = reqs.filter((r) => !r.path.startsWith('/v3/auth/tokens'));
  return { requests: rest.length, writes: rest.filter((r) => r.method !== 'GET' && r.method !== 'HEAD').length, tokens };
}

/**
 * The chapter's loop as an operator runs it, with the real CLI: 10 `openstack port create`, look at
 * their addresses, `openstack port set --name` on the one that got it, one `openstack port delete` of
 * the others (all 10 when none did); repeat, at most `maxRounds` rounds (each CLI start costs seconds).
 */
async function chapterLoopCli(networkId: string, ip: string, maxRounds: number) {
  const env = { ...process.env, OS_CLIENT_CONFIG_FILE: cloudsYaml, OS_CLOUD: 'lab', PYTHONWARNINGS: 'ignore' };
  const total = { commands: 0, requests: 0, writes: 0, tokens: 0 };
  const cli = async (args: string[]) => {
    const r = await execa('openstack', ['--debug', ...args], { env });
    const c = cliRequests(r.stderr);
    total.commands++;
    total.requests += c.requests;
    total.writes += c.writes;
    total.tokens += c.tokens;
    return r.stdout;
  };
  const t0 = performance.now();
  const roundMs: number[] = [];
  for (let round = 1; round <= maxRounds; round++) {
    const r0 = performance.now();
    const made: { id: string; fixed_ips: { ip_address: string }[] }[] = [];
    for (let i = 0; i < 10; i++) {
      const out = JSON.parse(await cli(['port', 'create', '--network', networkId, `${prefix}-ip-recovery`, '-f', 'json', '-c', 'id', '-c', 'fixed_ips'])) as {
        id: string;
        fixed_ips: { ip_address: string }[] | string;
      };
      // the client 6.x prints fixed_ips as a list of dicts in JSON
      made.push({ id: out.id, fixed_ips: typeof out.fixed_ips === 'string' ? [{ ip_address: out.fixed_ips }] : out.fixed_ips });
    }
    const winner = made.find((p) => p.fixed_ips.some((f) => f.ip_address === ip || JSON.stringify(f).includes(`'${ip}'`)));
    if (winner) await cli(['port', 'set', '--name', `${prefix}-dont-delete`, winner.id]);
    await cli(['port', 'delete', ...made.filter((p) => p !== winner).map((p) => p.id)]);
    roundMs.push(Math.round(performance.now() - r0));
    if (winner) return { ...total, rounds: round, found: true, ms: Math.round(performance.now() - t0), roundMs };
  }
  return { ...total, rounds: maxRounds, found: false, ms: Math.round(performance.now() - t0), roundMs };
}

async function main(): Promise<void> {
  const admin = open('lab');
  const demo = open('lab-demo');
  const n = await admin.cloud.http.post('network', '/networks', {
    body: { network: { name: `${prefix}-net`, shared: true } },
    schema: z.object({ network: z.object({ id: z.string() }) }),
  });
  const networkId = n.network.id;
  await admin.cloud.http.post('network', '/subnets', {
    body: { subnet: { network_id: networkId, name: `${prefix}-sub`, ip_version: 4, cidr: '198.51.100.64/26', enable_dhcp: false } },
  });
  const freed = async () => {
    const p = await admin.cloud.createPort({ networkId, name: `${prefix}-lost` });
    await admin.cloud.deletePort(p.id);
    return p.fixedIps[0]!.ipAddress;
  };
  const results: Record<string, unknown> = {};
  /** One case; a failure is recorded with who holds the address then (admin's view), and the next case runs. */
  const run = async (key: string, f: (ip: string) => Promise<Record<string, unknown>>) => {
    const ip = await freed();
    try {
      results[key] = await f(ip);
    } catch (e) {
      const holders = (await admin.cloud.listPorts({ fixedIp: ip })).map((p) => `${p.name} ${p.id} owner=${p.deviceOwner || '-'}`);
      results[key] = { error: (e as Error).message, ip, holders };
    }
  };
  try {
    await run('fixedIp', async (ip) => {
      admin.calls.length = 0;
      const t0 = performance.now();
      const fixed = await runRecover(admin, { ip, network: `${prefix}-net`, name: `${prefix}-fixed` });
      return { ...figures(admin.calls, t0), path: (fixed.report as { path?: string }).path };
    });
    await run('probeFallback', async (ip) => {
      demo.calls.length = 0;
      const t0 = performance.now();
      const probe = await runRecover(demo, { ip, network: `${prefix}-net`, name: `${prefix}-probed` });
      const p = probe['probe-rounds'] as { rounds: number; probes: number };
      return { ...figures(demo.calls, t0), rounds: p.rounds, probes: p.probes, path: (probe.report as { path?: string }).path };
    });
    // the probes of a failed fallback would starve the next cases: gone, as the runbook's delete-probes does
    for (const p of await admin.cloud.listPorts({ networkId })) if (p.deviceOwner === PROBE_OWNER) await admin.cloud.deletePort(p.id);
    await run('chapterLoopRest', async (ip) => {
      admin.calls.length = 0;
      const t0 = performance.now();
      const ch = await chapterLoop(admin, networkId, ip);
      return { ...figures(admin.calls, t0), ...ch };
    });
    if (process.env.CHAPTER_CLI === '1') {
      await run('chapterLoopCli', (ip) => chapterLoopCli(networkId, ip, Number(process.env.CHAPTER_CLI_ROUNDS ?? 5)));
    }
  } finally {
    for (const p of await admin.cloud.listPorts({ networkId })) await admin.cloud.deletePort(p.id).catch(() => undefined);
    await admin.cloud.http.delete('network', `/networks/${networkId}`).catch(() => undefined);
    await admin.cloud.close();
    await demo.cloud.close();
  }
  const out = { bench: 'ip-recover', at: new Date().toISOString(), pool: 61, results };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ip-recover.json'), `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench ip-recover failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
