/**
 * `/ip detach <ip>` — frees the port holding an address so its server can be deleted and the address
 * reused with `--nic port-id` (runbook.md §4). Two ways, chosen in the plan:
 * - Nova's interface detach while Nova knows the server and the port is older than the server (made
 *   beforehand, so Nova keeps it on detach): Nova's own view stays right;
 * - clearing device_id, device_owner and binding:host_id through Neutron where Nova no longer knows
 *   the server, or where Nova made the port for the server (its detach would delete the port and the
 *   address with it). python-openstackclient 6.0.0 ignores `--device ""`, so device_id goes by REST PUT.
 * The prior values are journaled; `/op undo` attaches the port to its server again through Nova.
 */
import { cliCommands, commandLine } from '../../adapters/openstack/cli-commands.js';
import type { Port } from '../../adapters/openstack/cloud.js';
import { ChatOpsError, InputError } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';
import { defineRunbook, type ExecutableStep, type JsonValue, type Observation, type StepContext } from '../../engine/runbook.js';
import { usageOf } from '../../engine/spec/usage.js';
import { command, pos } from '../../engine/spec/spec-builders.js';
import { IP } from '../../engine/spec/value-types.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import { describeHolder, holdersOf } from './ip-network.js';

export const detachSpec = command({
  family: 'ip',
  words: ['detach'],
  summary: 'Detach the port holding an IP from its instance, so the instance can go and the IP stays.',
  description:
    "Finds the port holding the IP and frees it: Nova's interface detach while Nova knows the server and the port was made beforehand, else device, owner and binding cleared through Neutron. The server can then be deleted and the port reused with --nic port-id; /op undo attaches it again.",
  positionals: [pos('ip', IP, 'The IP address.')],
  kind: 'runbook',
  effect: 'change',
  approval: 'policy',
  examples: ['detach 96.118.182.107'],
});

export type DetachArgs = { ip: string };

const USAGE = usageOf(detachSpec);

interface DetachData {
  ip: string;
  portId: string;
  portName: string;
  holder: string;
  serverId: string;
  /** nova: interface detach; neutron: clear the device fields; none: attached to nothing already. */
  via: 'nova' | 'neutron' | 'none';
}

type Step = ExecutableStep<NodeDeps>;
type Ctx = StepContext<NodeDeps>;
const pre = (c: CloudDeps | undefined) => (c?.cliPrefix ? `${c.cliPrefix} ` : '');

async function waitPort(ctx: Ctx, id: string, what: string, ok: (p: Port | undefined) => boolean, ms = 90_000): Promise<void> {
  const cloud = cloudOf(ctx.deps).cloud;
  const deadline = Date.now() + ms;
  for (let delay = 200; ; delay = Math.min(delay * 1.5, 2000)) {
    if (ok(await cloud.getPort(id))) return;
    if (Date.now() > deadline) throw new ChatOpsError('STEP_FAILED', `port ${id} was not ${what} after ${ms / 1000} s`);
    await sleep(delay, ctx.signal);
  }
}

function detachStep(d: DetachData, c: CloudDeps | undefined): Step {
  const equivalent =
    d.via === 'nova'
      ? [`${pre(c)}${commandLine(cliCommands.detachInterface(d.serverId, d.portId).argv)}`]
      : cliCommands
          .updatePort(d.portId, { deviceId: '', deviceOwner: '', bindingHostId: '', bindingProfile: {} })
          .flatMap((x) => [`${pre(c)}${commandLine(x.argv)}`, ...(x.notes ?? []).map((n) => `# ${n}`)]);
  return {
    id: 'detach-port',
    title:
      d.via === 'nova'
        ? `Detach port ${d.portName || d.portId} from server ${d.serverId} through Nova`
        : `Clear device and binding of port ${d.portName || d.portId} through Neutron`,
    equivalent,
    effect: 'change',
    touches: [d.ip, d.serverId],
    async check(ctx): Promise<Observation> {
      const p = await cloudOf(ctx.deps).cloud.getPort(d.portId);
      if (!p) throw new ChatOpsError('STEP_FAILED', `port ${d.portId} is gone: ${d.ip} went back to the pool (try /ip recover ${d.ip})`);
      return p.deviceId === ''
        ? { state: 'done', detail: `port ${d.portId} is attached to nothing` }
        : { state: 'not-done', detail: `port ${d.portId} is attached to ${p.deviceId}` };
    },
    async run(ctx): Promise<JsonValue> {
      const cloud = cloudOf(ctx.deps).cloud;
      const p = await cloud.getPort(d.portId);
      if (!p) throw new ChatOpsError('STEP_FAILED', `port ${d.portId} is gone`);
      const prior = { serverId: p.deviceId, deviceOwner: p.deviceOwner, bindingHostId: p.bindingHostId, via: d.via };
      await ctx.save(prior);
      if (d.via === 'nova') {
        await ctx.audit('api-call', { op: 'detach-interface', server: d.serverId, port: d.portId });
        await cloud.detachInterface(d.serverId, d.portId);
        await waitPort(ctx, d.portId, 'detached', (x) => x === undefined || x.deviceId === '');
        if (!(await cloud.getPort(d.portId)))
          throw new ChatOpsError('STEP_FAILED', `Nova deleted port ${d.portId} on detach: ${d.ip} went back to the pool (/ip recover ${d.ip})`);
      } else {
        await ctx.audit('api-call', { op: 'update-port', port: d.portId, clear: ['device_id', 'device_owner', 'binding:host_id', 'binding:profile'] });
        await cloud.updatePort(d.portId, { deviceId: '', deviceOwner: '', bindingHostId: '', bindingProfile: {} });
      }
      return { prior };
    },
    async undo(ctx, saved) {
      const prior = saved as { serverId?: string } | undefined;
      if (!prior?.serverId) return;
      const cloud = cloudOf(ctx.deps).cloud;
      if (!(await cloud.getServer(prior.serverId)))
        throw new ChatOpsError('STEP_FAILED', `server ${prior.serverId} is gone: there is nothing to attach port ${d.portId} to`);
      await cloud.attachInterface(prior.serverId, d.portId);
      await waitPort(ctx, d.portId, `attached to ${prior.serverId}`, (x) => x?.deviceId === prior.serverId);
    },
  };
}

function reportStep(d: DetachData): Step {
  return {
    id: 'report',
    title: `Show that port ${d.portName || d.portId} keeps ${d.ip}`,
    equivalent: [commandLine(cliCommands.getPort(d.portId).argv)],
    effect: 'read',
    reconcile: async () => ({ state: 'not-done', detail: 'read-only step: read again' }),
    async run(ctx): Promise<JsonValue> {
      const p = await cloudOf(ctx.deps).cloud.getPort(d.portId);
      if (!p || !p.fixedIps.some((f) => f.ipAddress === d.ip)) throw new ChatOpsError('STEP_FAILED', `port ${d.portId} no longer holds ${d.ip}`);
      ctx.milestone(
        d.via === 'none'
          ? `Port ${p.name || p.id} (${p.id}) holds ${d.ip} and is attached to nothing: nothing to detach.`
          : `Port ${p.name || p.id} (${p.id}) keeps ${d.ip} and is free: the server can be deleted; boot another with --nic port-id=${p.id}.`,
      );
      return { portId: p.id, deviceId: p.deviceId };
    },
  };
}

const stepsOf = (d: DetachData, c: CloudDeps | undefined): Step[] => (d.via === 'none' ? [reportStep(d)] : [detachStep(d, c), reportStep(d)]);

export const detachRunbook = defineRunbook<DetachArgs, NodeDeps>({
  spec: detachSpec,
  async plan(args, deps) {
    const c = cloudOf(deps);
    const held = await holdersOf(c.cloud, args.ip);
    if (held.length === 0)
      throw new InputError(
        [{ path: 'ip', message: `no port holds ${args.ip}: nothing to detach (if its server was deleted with it, /ip recover ${args.ip})` }],
        USAGE,
      );
    if (held.length > 1) {
      throw new InputError(
        [
          {
            path: 'ip',
            message: `${held.length} ports hold ${args.ip} (on different networks): ${held.map((p) => `${p.name || p.id} on ${p.networkId}`).join(', ')}; detach one by its port id with the openstack client`,
          },
        ],
        USAGE,
      );
    }
    const p = held[0]!;
    const holder = await describeHolder(c.cloud, p);
    if (p.deviceId && !p.deviceOwner.startsWith('compute:')) {
      throw new InputError([{ path: 'ip', message: `${args.ip} is held by ${holder}: /ip detach frees only servers' ports` }], USAGE);
    }
    const server = p.deviceId ? await c.cloud.getServer(p.deviceId) : undefined;
    const warnings: string[] = [];
    let via: DetachData['via'] = 'none';
    if (p.deviceId && server) {
      const older = p.createdAt !== undefined && server.createdAt !== undefined && Date.parse(p.createdAt) < Date.parse(server.createdAt);
      via = older ? 'nova' : 'neutron';
      if (!older) {
        warnings.push(
          `Nova made port ${p.id} for server ${server.name} (the port is not older than the server): Nova's detach would delete the port and ${args.ip} with it, so the port is cleared through Neutron. Nova still lists the interface until the server is deleted.`,
        );
      }
    } else if (p.deviceId) {
      via = 'neutron';
      warnings.push(`Nova no longer knows server ${p.deviceId}: the port is cleared through Neutron.`);
    }
    const d: DetachData = { ip: args.ip, portId: p.id, portName: p.name, holder, serverId: p.deviceId, via };
    return {
      target: args.ip,
      args,
      resolved: d as unknown as Record<string, JsonValue>,
      steps: stepsOf(d, c),
      summary:
        via === 'none'
          ? `${args.ip} is held by ${holder}: nothing to detach`
          : `detach ${holder} (${args.ip}) ${via === 'nova' ? 'through Nova' : 'through Neutron'}`,
      warnings,
    };
  },
  steps(plan, deps) {
    return stepsOf(plan.resolved as unknown as DetachData, deps.node);
  },
  locks: (plan) => [`ip:${plan.target}`],
});
