/**
 * `/node status <host>`: read-only. The compute service (state, enabled, reason), the instances on
 * the node by status, and nova-compute on the node itself (running? last "Connected to AMQP" line).
 * The bot adds which operation holds the host (from its store). Each part that cannot be read is
 * reported as such instead of failing the whole answer.
 */
import type { ComputeService, Server } from '../../adapters/openstack/cloud.js';
import { parseAmqpConnections } from '../../adapters/ssh.js';
import { isChatOpsError } from '../../core/errors.js';
import type { HostName } from '../../core/values.js';
import { defineQuery } from '../../engine/query.js';
import { command, pos } from '../../engine/spec/spec-builders.js';
import { HOST } from '../../engine/spec/value-types.js';
import type { LockRecord } from '../../store/store.js';
import { cloudOf, type NodeDeps } from '../deps.js';

export const nodeStatusSpec = command({
  family: 'node',
  words: ['status'],
  summary: 'Show a node: compute service state, instances, any operation on it.',
  description: 'Read-only: the compute service state and reason, the instances on the node, and any operation holding it.',
  positionals: [pos('host', HOST, 'The compute node.')],
  kind: 'query',
  effect: 'read',
  approval: 'never',
  examples: ['status c01'],
});

/** What `/node status` shows. */
export interface NodeStatus {
  host: string;
  cloud: string;
  service: ComputeService | undefined;
  /** Instances on the host, counted by Nova status, and the first few of each. */
  instances: { total: number; byStatus: Record<string, number>; sample: Pick<Server, 'id' | 'name' | 'status'>[] } | { error: string };
  /** nova-compute on the node, over SSH with the cloud's preset. */
  process: { running: boolean; detail: string } | { error: string };
  /** The newest "Connected to AMQP server on" line of the log, when readable. */
  amqp: { at: number; server: string | undefined } | { none: true } | { error: string };
}

const why = (e: unknown) => (isChatOpsError(e) ? `${e.message} (${e.code})` : (e as Error).message);

export async function nodeStatus(deps: unknown, host: HostName): Promise<NodeStatus> {
  const c = cloudOf(deps);
  const cmds = c.commands(host);
  const [service, servers, proc, amqp] = await Promise.allSettled([
    c.cloud.getComputeService(host, 'nova-compute'),
    c.cloud.listServersOnHost({ host }),
    c.shell.run(host, cmds.status.command, { okExitCodes: cmds.status.okExitCodes, sudo: c.sudo, timeoutMs: 20_000 }),
    c.shell.run(host, cmds.amqpLines(5), { sudo: c.sudo, timeoutMs: 20_000 }),
  ]);
  if (service.status === 'rejected') throw service.reason; // without Nova there is nothing to show
  let instances: NodeStatus['instances'];
  if (servers.status === 'fulfilled') {
    const byStatus: Record<string, number> = {};
    for (const s of servers.value) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
    instances = { total: servers.value.length, byStatus, sample: servers.value.slice(0, 10).map(({ id, name, status }) => ({ id, name, status })) };
  } else instances = { error: why(servers.reason) };
  const process: NodeStatus['process'] =
    proc.status === 'fulfilled'
      ? { running: cmds.status.isRunning(proc.value), detail: (proc.value.stdout || proc.value.stderr).trim().split('\n').pop() ?? '' }
      : { error: why(proc.reason) };
  let last: NodeStatus['amqp'];
  if (amqp.status === 'fulfilled') {
    const seen = parseAmqpConnections(amqp.value.stdout).sort((a, b) => b.at - a.at)[0];
    last = seen ? { at: seen.at, server: seen.server } : { none: true };
  } else last = { error: why(amqp.reason) };
  return { host, cloud: c.name, service: service.value, instances, process, amqp: last };
}

/** What `/node status` answers: the node, and the locks of the bot's operations (which one holds it). */
export interface NodeStatusAnswer {
  status: NodeStatus;
  locks: readonly LockRecord[];
  now: number;
}

export const nodeStatusQuery = defineQuery<{ host: HostName }, NodeStatusAnswer, NodeDeps>({
  spec: nodeStatusSpec,
  async answer(args, deps, ctx) {
    return { status: await nodeStatus(deps, args.host), locks: await ctx.locks(), now: ctx.now };
  },
});
