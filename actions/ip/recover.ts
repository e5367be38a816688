/**
 * `/ip recover <ip> [network=…] [name=…]` — the instance was deleted before its port was detached, so
 * the address went back to the pool (runbook.md §4). In order:
 *   1. a port already holds the address → the plan says whose, and nothing changes;
 *   2. else one request for exactly that address (`fixed_ips: [{subnet_id, ip_address}]`); 409 → who
 *      holds it now;
 *   3. only where the cloud's policy forbids choosing an address (403): the chapter's probe ports,
 *      done better — one bulk POST a round, probes held until the address turns up (no address is
 *      drawn twice), bounded rounds, the winner renamed, every other probe deleted (an `always` step).
 * Probe ports are named after the operation (`ip-probe-<op id>`, device_owner chatops:ip-probe) so a
 * restarted bot's sweep (probe-sweep.ts) finds those of a process killed mid-round.
 */
import { cliCommands, commandLine } from '../../adapters/openstack/cli-commands.js';
import type { Cloud, Port } from '../../adapters/openstack/cloud.js';
import { OpenStackApiError, OpenStackCliError } from '../../adapters/openstack/openstack-errors.js';
import { ChatOpsError } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';
import { defineRunbook, type ExecutableStep, type JsonValue, type Observation, type StepContext } from '../../engine/runbook.js';
import { usageOf } from '../../engine/spec/usage.js';
import { command, opt, pos } from '../../engine/spec/spec-builders.js';
import { IP, NETWORK } from '../../engine/spec/value-types.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import { countedCloud, type CallCount } from './counted-cloud.js';
import { addressNumber } from './place-address.js';
import { defaultKeptName, describeHolder, holdersOf, PROBE_OWNER, probeName, resolveNetwork, subnetOf } from './ip-network.js';

export const recoverSpec = command({
  family: 'ip',
  words: ['recover'],
  summary: 'Get back an IP that returned to the pool, into a port that keeps it.',
  description:
    'Checks whether a port already holds the IP, else asks Neutron for exactly that address; where the cloud forbids that, falls back to creating probe ports in bounded rounds, always deleting every probe port it created.',
  positionals: [pos('ip', IP, 'The lost IP address.')],
  options: [
    opt('network', NETWORK, 'The network the IP belongs to.', { defaultText: "the cloud's public network (Public_AGILE in the runbook)" }),
    opt(
      'name',
      { ...NETWORK, placeholder: '<port name>', expected: 'a port name of letters, digits, "_", "." and "-", e.g. web01-ip' },
      'The name of the port that keeps the address.',
      {
        defaultText: 'recovered-<ip>',
      },
    ),
  ],
  kind: 'runbook',
  effect: 'change',
  approval: 'policy',
  examples: ['recover 96.118.182.107', 'recover 96.118.182.107 network=Public_AGILE', 'recover 2001:db8::7 name=web01-v6'],
});

/** recover's args (input-of.ts derives the schema from recoverSpec). */
export type RecoverArgs = { ip: string; network?: string; name?: string };

const USAGE = usageOf(recoverSpec);
export const DEFAULT_PROBE_BATCH = 10;
export const DEFAULT_MAX_ROUNDS = 20;

/** What the steps need, kept in the plan. */
export interface RecoverPlanData {
  ip: string;
  network: { id: string; name: string };
  subnet: { id: string; name: string; cidr: string };
  keptName: string;
  inPool: boolean;
  poolSize: string;
  /** The subnet's allocation pools (where probes draw from). */
  pools: { start: string; end: string }[];
  probeBatch: number;
  maxRounds: number;
  /** Reads the plan itself made (network, subnets, holders). */
  planReads: number;
  /** Set when a port already holds the address: who. */
  holder?: string;
}

type Step = ExecutableStep<NodeDeps>;
type Ctx = StepContext<NodeDeps>;
const pre = (c: CloudDeps | undefined) => (c?.cliPrefix ? `${c.cliPrefix} ` : '');
const out = <T>(ctx: Ctx, id: string) => ctx.outputs[id] as T | undefined;

interface RequestOutput {
  portId?: string;
  forbidden?: string;
  calls?: CallCount;
}
interface ProbeOutput {
  portId?: string;
  notNeeded?: true;
  rounds?: number;
  probes?: number;
  calls?: CallCount;
}

/** Did the cloud's policy refuse (403), whichever backend asked? */
function forbidden(e: unknown): string | undefined {
  if (e instanceof OpenStackApiError && e.status === 403) return e.apiMessage ?? e.message;
  if (e instanceof OpenStackCliError && /\b403\b|disallowed by policy/.test(e.stderrTail)) return e.stderrTail;
  return undefined;
}
const conflict = (e: unknown) =>
  (e instanceof OpenStackApiError && e.status === 409) || (e instanceof OpenStackCliError && /\b409\b|Conflict/.test(e.stderrTail));
const exhausted = (e: unknown) =>
  (e instanceof OpenStackApiError && (e.apiType === 'IpAddressGenerationFailure' || /No more IP addresses/i.test(e.apiMessage ?? ''))) ||
  (e instanceof OpenStackCliError && /IpAddressGenerationFailure|No more IP addresses/i.test(e.stderrTail));

const holds = (p: Port, ip: string) => p.fixedIps.some((f) => f.ipAddress === ip);
const inPools = (ip: string, pools: RecoverPlanData['pools']) => {
  if (ip.includes(':') !== pools.some((p) => p.start.includes(':'))) return false;
  const n = addressNumber(ip);
  return pools.some((p) => n >= addressNumber(p.start) && n <= addressNumber(p.end));
};

/** The port of this operation that holds the address: the kept one, or a probe not yet renamed. */
async function recoveredPort(cloud: Cloud, d: RecoverPlanData, opId: string): Promise<Port | undefined> {
  return (await holdersOf(cloud, d.ip)).find((p) => p.name === d.keptName || p.name === probeName(opId));
}

function requestStep(d: RecoverPlanData, c: CloudDeps | undefined): Step {
  const cmd = cliCommands.createPort({ networkId: d.network.name, name: d.keptName, fixedIp: { subnetId: d.subnet.name || d.subnet.id, ipAddress: d.ip } });
  return {
    id: 'request-address',
    title: `Ask Neutron for exactly ${d.ip} (subnet ${d.subnet.name || d.subnet.id}) in a new port named ${d.keptName}`,
    equivalent: [`${pre(c)}${commandLine(cmd.argv)}`],
    effect: 'change',
    touches: [d.ip],
    async check(ctx): Promise<Observation> {
      const mine = (await holdersOf(cloudOf(ctx.deps).cloud, d.ip)).find((p) => p.name === d.keptName);
      return mine
        ? { state: 'done', detail: `port ${d.keptName} (${mine.id}) holds ${d.ip}`, output: { portId: mine.id } }
        : { state: 'not-done', detail: `no port named ${d.keptName} holds ${d.ip}` };
    },
    async run(ctx): Promise<JsonValue> {
      const { cloud, calls } = countedCloud(cloudOf(ctx.deps).cloud);
      await ctx.audit('api-call', { op: 'create-port', network: d.network.id, subnet: d.subnet.id, ip: d.ip, name: d.keptName });
      try {
        const p = await cloud.createPort({ networkId: d.network.id, name: d.keptName, fixedIp: { subnetId: d.subnet.id, ipAddress: d.ip } });
        await ctx.save({ portId: p.id });
        return { portId: p.id, calls: { ...calls } };
      } catch (e) {
        const why = forbidden(e);
        if (why) {
          ctx.milestone(`Neutron's policy forbids this project to choose an address (403): falling back to probe ports.`);
          return { forbidden: why.slice(0, 300), calls: { ...calls } };
        }
        if (conflict(e)) {
          const now = await holdersOf(cloud, d.ip);
          const who = now.length ? (await Promise.all(now.map((p) => describeHolder(cloud, p)))).join('; ') : 'a port this project cannot see';
          throw new ChatOpsError('STEP_FAILED', `${d.ip} was taken meanwhile (409): it is held by ${who}. Nothing was created.`, { cause: e });
        }
        throw e;
      }
    },
    undo: deleteIfFree,
  };
}

/** Undo of a recovery: the port goes, and the address back to the pool — unless a server uses it now. */
async function deleteIfFree(ctx: Ctx, saved: JsonValue | undefined): Promise<void> {
  const id = (saved as { portId?: string } | undefined)?.portId;
  if (!id) return;
  const cloud = cloudOf(ctx.deps).cloud;
  const p = await cloud.getPort(id);
  if (!p) return;
  if (p.deviceId) throw new ChatOpsError('STEP_FAILED', `port ${p.name} (${id}) is attached to ${p.deviceId} now; detach it first (/ip detach)`);
  await cloud.deletePort(id);
}

function probeStep(d: RecoverPlanData, c: CloudDeps | undefined): Step {
  const one = cliCommands.createPort({
    networkId: d.network.name,
    name: 'ip-probe-<operation id>',
    fixedIp: { subnetId: d.subnet.name || d.subnet.id },
    deviceOwner: PROBE_OWNER,
  });
  return {
    id: 'probe-rounds',
    title: `Only if step 1 was forbidden (403): probe ports, ${d.probeBatch} per bulk request, at most ${d.maxRounds} rounds, until one gets ${d.ip}`,
    equivalent: [
      `# one bulk POST /v2.0/ports a round; as ${d.probeBatch} CLI calls: for i in $(seq ${d.probeBatch}); do ${pre(c)}${commandLine(one.argv)}; done`,
      `${pre(c)}${commandLine(cliCommands.listPorts({ fixedIp: d.ip }).argv)}`,
    ],
    effect: 'change',
    touches: [d.ip],
    timeoutMs: 30 * 60_000,
    async check(ctx): Promise<Observation> {
      if (out<RequestOutput>(ctx, 'request-address')?.portId)
        return { state: 'done', detail: 'not needed: step 1 got the address', output: { notNeeded: true } };
      const p = await recoveredPort(cloudOf(ctx.deps).cloud, d, ctx.opId);
      return p
        ? { state: 'done', detail: `port ${p.name} (${p.id}) holds ${d.ip}`, output: { portId: p.id } }
        : { state: 'not-done', detail: `no port of this operation holds ${d.ip}` };
    },
    async run(ctx): Promise<JsonValue> {
      const { cloud, calls } = countedCloud(cloudOf(ctx.deps).cloud);
      const name = probeName(ctx.opId);
      // What the subnet holds, as far as this project sees: our probes of an attempt a restart
      // interrupted (kept: their addresses are explored), and the pool addresses others hold.
      const seen = await cloud.listPorts({ networkId: d.network.id, subnetId: d.subnet.id });
      const earlier = seen.filter((p) => p.name === name);
      const found = earlier.find((p) => holds(p, d.ip));
      if (found) return { portId: found.id, rounds: 0, probes: earlier.length, calls: { ...calls } };
      const othersInPool = seen.filter((p) => p.name !== name).flatMap((p) => p.fixedIps.filter((f) => inPools(f.ipAddress, d.pools))).length;
      let made = earlier.length;
      // Addresses of the pool not yet drawn, as far as this project can tell (others' ports may be invisible).
      let unexplored = Math.min(Number(d.poolSize), 1e9) - othersInPool - made;
      let onSubnet = true;
      for (let round = 1; round <= d.maxRounds; round++) {
        if (unexplored <= 0) {
          throw new ChatOpsError(
            'STEP_FAILED',
            `every address of the pool of ${d.subnet.cidr} is drawn (${made} probe ports) and none is ${d.ip}: a port this project cannot see holds it. The probes are deleted next.`,
          );
        }
        // Near the end of the pool, one port a request: a bulk request that runs out of addresses
        // fails whole, and Neutron (Zed) then keeps the addresses it had drawn for it — they stay
        // unallocatable for everyone (seen on the lab). A single create that fails draws nothing.
        const n = unexplored >= 2 * d.probeBatch ? d.probeBatch : 1;
        ctx.progress(round - 1, d.maxRounds, `${made} probe ports so far`);
        const spec = { networkId: d.network.id, name, deviceOwner: PROBE_OWNER, ...(onSubnet ? { fixedIp: { subnetId: d.subnet.id } } : {}) };
        await ctx.audit('api-call', { op: 'create-ports', count: n, name, round });
        let got: Port[];
        try {
          got = n === 1 ? [await cloud.createPort(spec)] : await cloud.createPorts(Array.from({ length: n }, () => spec));
        } catch (e) {
          if (onSubnet && forbidden(e)) {
            onSubnet = false; // may not even name the subnet: plain ports, which also take an address of each other subnet
            round--;
            continue;
          }
          if (e instanceof OpenStackApiError && e.outcome === 'unknown') {
            // No answer: Neutron may still make these ports. Read until the count settles, then go on from what exists.
            got = await settledProbes(cloud, name, ctx.signal);
            const winner = got.find((p) => holds(p, d.ip));
            if (winner) return { portId: winner.id, rounds: round, probes: got.length, calls: { ...calls } };
            unexplored -= got.length - made;
            made = got.length;
            continue;
          }
          if (exhausted(e)) {
            throw new ChatOpsError(
              'STEP_FAILED',
              `the pool of ${d.subnet.cidr} is exhausted and none of the ${made} probe ports got ${d.ip}: a port this project cannot see holds it. The probes are deleted next.`,
              { cause: e },
            );
          }
          throw e;
        }
        made += got.length;
        unexplored -= got.length;
        const winner = got.find((p) => holds(p, d.ip));
        if (winner) return { portId: winner.id, rounds: round, probes: made, calls: { ...calls } };
      }
      throw new ChatOpsError(
        'STEP_FAILED',
        `${d.ip} did not turn up in ${d.maxRounds} rounds (${made} probe ports, none drawn twice); it may be held by a port this project cannot see. The probes are deleted next.`,
      );
    },
  };
}

function keepStep(d: RecoverPlanData, c: CloudDeps | undefined): Step {
  const cmd = cliCommands.updatePort('<probe port id>', { name: d.keptName, deviceOwner: '' });
  return {
    id: 'keep-port',
    title: `Keep the probe that got ${d.ip}: rename it ${d.keptName}, so no clean-up deletes it`,
    equivalent: cmd.map((x) => `${pre(c)}${commandLine(x.argv)}`),
    effect: 'change',
    touches: [d.ip],
    async check(ctx): Promise<Observation> {
      if (out<RequestOutput>(ctx, 'request-address')?.portId)
        return { state: 'done', detail: 'not needed: step 1 made the port', output: { portId: out<RequestOutput>(ctx, 'request-address')!.portId! } };
      const p = (await holdersOf(cloudOf(ctx.deps).cloud, d.ip)).find((x) => x.name === d.keptName);
      return p
        ? { state: 'done', detail: `port ${d.keptName} (${p.id}) holds ${d.ip}`, output: { portId: p.id } }
        : { state: 'not-done', detail: `no port named ${d.keptName} holds ${d.ip} yet` };
    },
    async run(ctx): Promise<JsonValue> {
      const { cloud, calls } = countedCloud(cloudOf(ctx.deps).cloud);
      const id = out<ProbeOutput>(ctx, 'probe-rounds')?.portId ?? (await recoveredPort(cloud, d, ctx.opId))?.id;
      if (!id) throw new ChatOpsError('STEP_FAILED', `no probe port of this operation holds ${d.ip}`);
      await ctx.save({ portId: id });
      await ctx.audit('api-call', { op: 'update-port', port: id, name: d.keptName });
      await cloud.updatePort(id, { name: d.keptName, deviceOwner: '' });
      return { portId: id, calls: { ...calls } };
    },
    undo: deleteIfFree,
  };
}

/** This operation's probes once their number stopped changing (a create without an answer may still land). */
async function settledProbes(cloud: Cloud, name: string, signal: AbortSignal): Promise<Port[]> {
  let last = -1;
  let same = 0;
  for (let i = 0; i < 45; i++) {
    const now = await cloud.listPorts({ name, deviceOwner: PROBE_OWNER });
    same = now.length === last ? same + 1 : 0;
    last = now.length;
    if (same >= 2) return now;
    await sleep(2000, signal);
  }
  return cloud.listPorts({ name, deviceOwner: PROBE_OWNER });
}

/** Deletes this operation's probes; one that holds the address is renamed instead (never lost). */
export async function clearProbes(
  cloud: Cloud,
  opId: string,
  ip: string | undefined,
  keptName: string | undefined,
): Promise<{ deleted: number; kept?: string }> {
  const probes = (await cloud.listPorts({ name: probeName(opId), deviceOwner: PROBE_OWNER })).filter((p) => p.name === probeName(opId));
  let deleted = 0;
  let kept: string | undefined;
  for (const p of probes) {
    if (ip && keptName && holds(p, ip) && !kept) {
      await cloud.updatePort(p.id, { name: keptName, deviceOwner: '' });
      kept = p.id;
      continue;
    }
    await cloud.deletePort(p.id).catch((e: unknown) => {
      if (!(e instanceof OpenStackApiError && e.status === 404)) throw e;
    });
    deleted++;
  }
  return { deleted, ...(kept ? { kept } : {}) };
}

function cleanupStep(d: RecoverPlanData, c: CloudDeps | undefined): Step {
  return {
    id: 'delete-probes',
    title: 'Delete every other probe port of this operation (always runs, even after a failure)',
    equivalent: [
      `${pre(c)}openstack port list --device-owner ${PROBE_OWNER} --name ip-probe-<operation id> -f value -c ID | xargs -r ${pre(c)}openstack port delete`,
    ],
    effect: 'change',
    always: true,
    async check(ctx): Promise<Observation> {
      const left = await cloudOf(ctx.deps).cloud.listPorts({ name: probeName(ctx.opId), deviceOwner: PROBE_OWNER });
      return left.length
        ? { state: 'not-done', detail: `${left.length} probe ports left` }
        : { state: 'done', detail: 'no probe port of this operation exists', output: { deleted: 0 } };
    },
    async run(ctx): Promise<JsonValue> {
      const { cloud, calls } = countedCloud(cloudOf(ctx.deps).cloud);
      await ctx.audit('api-call', { op: 'delete-ports', name: probeName(ctx.opId) });
      // A create that got no answer may land after the first pass: clear until a pass finds none (bounded).
      let deleted = 0;
      let kept: string | undefined;
      for (let pass = 0; pass < 5; pass++) {
        const r = await clearProbes(cloud, ctx.opId, d.ip, d.keptName);
        deleted += r.deleted;
        kept ??= r.kept;
        if (r.deleted === 0 && !r.kept) break;
        await sleep(2000, ctx.signal);
      }
      return { deleted, ...(kept ? { kept } : {}), calls: { ...calls } };
    },
  };
}

const sum = (xs: (CallCount | undefined)[]) =>
  xs.reduce<CallCount>((a, x) => ({ reads: a.reads + (x?.reads ?? 0), writes: a.writes + (x?.writes ?? 0) }), { reads: 0, writes: 0 });

function reportStep(d: RecoverPlanData): Step {
  return {
    id: 'report',
    title: `Say which path recovered ${d.ip} and what it cost`,
    equivalent: [commandLine(cliCommands.listPorts({ fixedIp: d.ip }).argv)],
    effect: 'read',
    reconcile: async () => ({ state: 'not-done', detail: 'read-only step: read again' }),
    async run(ctx): Promise<JsonValue> {
      const { cloud, calls } = countedCloud(cloudOf(ctx.deps).cloud);
      const held = await holdersOf(cloud, d.ip);
      const req = out<RequestOutput>(ctx, 'request-address');
      const probe = out<ProbeOutput>(ctx, 'probe-rounds');
      const kept = held.find((p) => p.name === d.keptName);
      if (!kept || held.length !== 1)
        throw new ChatOpsError(
          'STEP_FAILED',
          `expected exactly one port, ${d.keptName}, to hold ${d.ip}; Neutron shows ${held.map((p) => `${p.name} (${p.id})`).join(', ') || 'none'}`,
        );
      const steps = ['request-address', 'probe-rounds', 'keep-port', 'delete-probes'].map(
        (id) => (ctx.outputs[id] as { calls?: CallCount } | null | undefined)?.calls,
      );
      const total = sum([...steps, calls, { reads: d.planReads, writes: 0 }]);
      const path = req?.portId
        ? 'the fixed-IP request (one write)'
        : `the probe fallback (${probe?.rounds ?? '?'} rounds, ${probe?.probes ?? '?'} probe ports, all others deleted)`;
      ctx.milestone(
        `${d.ip} is back in port ${d.keptName} (${kept.id}) through ${path}. Neutron calls: ${total.reads + total.writes} (${total.writes} writes, ${total.reads} reads, plan included).`,
      );
      return { portId: kept.id, path: req?.portId ? 'fixed-ip' : 'probe', neutronCalls: total as unknown as JsonValue };
    },
  };
}

function heldStep(d: RecoverPlanData): Step {
  return {
    id: 'report-holder',
    title: `${d.ip} is held by ${d.holder}: nothing to recover, nothing is changed`,
    equivalent: [commandLine(cliCommands.listPorts({ fixedIp: d.ip }).argv)],
    effect: 'read',
    reconcile: async () => ({ state: 'not-done', detail: 'read-only step: read again' }),
    async run(ctx): Promise<JsonValue> {
      const cloud = cloudOf(ctx.deps).cloud;
      const now = await holdersOf(cloud, d.ip);
      const who = now.length ? (await Promise.all(now.map((p) => describeHolder(cloud, p)))).join('; ') : 'nobody any more (it was freed since the plan)';
      ctx.milestone(`${d.ip} is held by ${who}. Nothing was changed.`);
      return { holders: now.map((p) => p.id) };
    },
  };
}

export function recoverSteps(d: RecoverPlanData, c: CloudDeps | undefined): Step[] {
  if (d.holder) return [heldStep(d)];
  return [requestStep(d, c), probeStep(d, c), keepStep(d, c), cleanupStep(d, c), reportStep(d)];
}

export const recoverRunbook = defineRunbook<RecoverArgs, NodeDeps>({
  spec: recoverSpec,
  async plan(args, deps) {
    const c = cloudOf(deps);
    const net = await resolveNetwork(c, args.network, USAGE);
    const place = await subnetOf(c, args.ip, net, USAGE);
    const held = await holdersOf(c.cloud, args.ip);
    const probeBatch = c.ipRecovery?.probeBatch ?? DEFAULT_PROBE_BATCH;
    const maxRounds = c.ipRecovery?.maxRounds ?? DEFAULT_MAX_ROUNDS;
    const d: RecoverPlanData = {
      ip: args.ip,
      network: { id: net.id, name: net.name },
      subnet: { id: place.subnet.id, name: place.subnet.name, cidr: place.subnet.cidr },
      keptName: args.name ?? defaultKeptName(args.ip),
      inPool: place.inPool,
      poolSize: String(place.poolSize),
      pools: place.subnet.allocationPools.map((p) => ({ start: p.start, end: p.end })),
      probeBatch,
      maxRounds,
      planReads: 3,
      ...(held.length ? { holder: (await Promise.all(held.map((p) => describeHolder(c.cloud, p)))).join('; ') } : {}),
    };
    const warnings: string[] = [];
    if (!d.holder) {
      if (!place.inPool)
        warnings.push(
          `${args.ip} is outside the allocation pools of ${place.subnet.cidr}: only the fixed-IP request can get it; the probe fallback cannot (Neutron never hands it out by itself).`,
        );
      else if (place.poolSize > BigInt(probeBatch * maxRounds)) {
        warnings.push(
          `The probe fallback examines at most ${probeBatch * maxRounds} addresses (${maxRounds} rounds of ${probeBatch}); the pool holds ${place.poolSize}: if step 1 is forbidden, it may not find ${args.ip}.`,
        );
      }
    }
    return {
      target: args.ip,
      args,
      resolved: d as unknown as Record<string, JsonValue>,
      steps: recoverSteps(d, c),
      summary: d.holder
        ? `${args.ip} on ${net.name} is held already (${d.holder}): nothing to recover`
        : `recover ${args.ip} on ${net.name} into port ${d.keptName}`,
      warnings,
    };
  },
  steps(plan, deps) {
    return recoverSteps(plan.resolved as unknown as RecoverPlanData, deps.node);
  },
  locks: (plan) => [`ip:${plan.target}`],
});
