/**
 * `/ip port create <fqdn> [network=…]` — a Neutron port named after the future server's FQDN on the
 * cloud's public network (runbook.md §4); the thread gets its IPv4 and IPv6 addresses and the command
 * that boots a server on it. A port of that name already on the network is reported, not duplicated:
 * the plan is then read-only. The name is the step's idempotency key, so a restarted bot that finds
 * the port made does not make a second one.
 */
import { cliCommands, commandLine } from '../../adapters/openstack/cli-commands.js';
import type { Port } from '../../adapters/openstack/cloud.js';
import { ChatOpsError } from '../../core/errors.js';
import { defineRunbook, type ExecutableStep, type JsonValue, type Observation } from '../../engine/runbook.js';
import { usageOf } from '../../engine/spec/usage.js';
import { command, opt, pos } from '../../engine/spec/spec-builders.js';
import { HOST, NETWORK } from '../../engine/spec/value-types.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import { resolveNetwork } from './ip-network.js';

export const portCreateSpec = command({
  family: 'ip',
  words: ['port', 'create'],
  summary: 'Create a port named after an FQDN on the public network; report its IPs.',
  description:
    'Creates a Neutron port named after the FQDN on the network and reports its IPv4/IPv6 fixed IPs and the `openstack server create --nic port-id=…` to boot with it. A port of that name already there is reported, not duplicated.',
  positionals: [
    pos(
      'fqdn',
      { ...HOST, placeholder: '<fqdn>', expected: 'a fully qualified domain name such as example-fqdn-01.sys.example.com' },
      "The name of the port (the future server's FQDN).",
    ),
  ],
  options: [opt('network', NETWORK, 'The network.', { defaultText: "the cloud's public network (Public_AGILE in the runbook)" })],
  kind: 'runbook',
  effect: 'change',
  approval: 'policy',
  examples: ['port create example-fqdn-01.sys.example.com', 'port create example-fqdn-01.sys.example.com network=Public_AGILE'],
});

export type PortCreateArgs = { fqdn: string; network?: string };

const USAGE = usageOf(portCreateSpec);

interface PortCreateData {
  fqdn: string;
  network: { id: string; name: string };
  /** The port of that name found at planning time. */
  existing?: string;
}

type Step = ExecutableStep<NodeDeps>;
const pre = (c: CloudDeps | undefined) => (c?.cliPrefix ? `${c.cliPrefix} ` : '');

/** The thread's reply: the addresses, and how to boot on the port. */
export function portReply(p: Port, fqdn: string, networkName: string, made: boolean): string {
  const v4 = p.fixedIps.filter((f) => !f.ipAddress.includes(':')).map((f) => f.ipAddress);
  const v6 = p.fixedIps.filter((f) => f.ipAddress.includes(':')).map((f) => f.ipAddress);
  return [
    `${made ? 'Created' : 'Already there:'} port ${fqdn} (${p.id}) on ${networkName}: IPv4 ${v4.join(', ') || 'none'}, IPv6 ${v6.join(', ') || 'none'}.`,
    `Boot with it: openstack server create --flavor <flavor> --image <image> --key-name <key> --nic port-id=${p.id} "${fqdn}"`,
  ].join('\n');
}

async function portNamed(c: CloudDeps, d: PortCreateData): Promise<Port[]> {
  return (await c.cloud.listPorts({ networkId: d.network.id, name: d.fqdn })).filter((p) => p.name === d.fqdn);
}

function createStep(d: PortCreateData, c: CloudDeps | undefined): Step {
  return {
    id: 'create-port',
    title: `Create port ${d.fqdn} on ${d.network.name}`,
    equivalent: [`${pre(c)}${commandLine(cliCommands.createPort({ networkId: d.network.name, name: d.fqdn }).argv)}`],
    effect: 'change',
    touches: [d.fqdn],
    async check(ctx): Promise<Observation> {
      const found = await portNamed(cloudOf(ctx.deps), d);
      return found[0]
        ? { state: 'done', detail: `port ${d.fqdn} (${found[0].id}) exists`, output: { portId: found[0].id } }
        : { state: 'not-done', detail: `no port named ${d.fqdn}` };
    },
    async run(ctx): Promise<JsonValue> {
      const cd = cloudOf(ctx.deps);
      await ctx.audit('api-call', { op: 'create-port', network: d.network.id, name: d.fqdn });
      const p = await cd.cloud.createPort({ networkId: d.network.id, name: d.fqdn });
      await ctx.save({ portId: p.id });
      return { portId: p.id };
    },
    async undo(ctx, saved) {
      const id = (saved as { portId?: string } | undefined)?.portId;
      const cloud = cloudOf(ctx.deps).cloud;
      const p = id ? await cloud.getPort(id) : undefined;
      if (!p) return;
      if (p.deviceId) throw new ChatOpsError('STEP_FAILED', `port ${p.name} (${p.id}) is in use by ${p.deviceId}: delete that server or detach the port first`);
      await cloud.deletePort(p.id);
    },
  };
}

function reportStep(d: PortCreateData): Step {
  return {
    id: 'report-port',
    title: `Show the addresses of port ${d.fqdn} and the command to boot with it`,
    equivalent: [commandLine(cliCommands.listPorts({ networkId: d.network.name, name: d.fqdn }).argv)],
    effect: 'read',
    reconcile: async () => ({ state: 'not-done', detail: 'read-only step: read again' }),
    async run(ctx): Promise<JsonValue> {
      const found = await portNamed(cloudOf(ctx.deps), d);
      const p = found[0];
      if (!p) throw new ChatOpsError('STEP_FAILED', `port ${d.fqdn} is not on ${d.network.name} any more`);
      ctx.milestone(portReply(p, d.fqdn, d.network.name, d.existing === undefined));
      return { portId: p.id, fixedIps: p.fixedIps.map((f) => f.ipAddress) };
    },
  };
}

const stepsOf = (d: PortCreateData, c: CloudDeps | undefined): Step[] => (d.existing ? [reportStep(d)] : [createStep(d, c), reportStep(d)]);

export const portCreateRunbook = defineRunbook<PortCreateArgs, NodeDeps>({
  spec: portCreateSpec,
  async plan(args, deps) {
    const c = cloudOf(deps);
    const net = await resolveNetwork(c, args.network, USAGE);
    const d: PortCreateData = { fqdn: args.fqdn, network: { id: net.id, name: net.name } };
    const found = await portNamed(c, d);
    if (found[0]) d.existing = found[0].id;
    return {
      target: args.fqdn,
      args,
      resolved: d as unknown as Record<string, JsonValue>,
      steps: stepsOf(d, c),
      summary: d.existing ? `port ${args.fqdn} exists on ${net.name} (${d.existing}): reported, not duplicated` : `create port ${args.fqdn} on ${net.name}`,
      ...(found.length > 1 ? { warnings: [`${found.length} ports on ${net.name} are named ${args.fqdn}; the first is reported.`] } : {}),
    };
  },
  steps(plan, deps) {
    return stepsOf(plan.resolved as unknown as PortCreateData, deps.node);
  },
  locks: (plan) => [`port:${plan.target}`],
});
