/**
 * `/ip check <ip> [port=22] [from=<host>]` — read-only: is anything answering on the address
 * (runbook.md §4, `nc -v -w 2 <ip> 22`)? One TCP connect with a 2 s timeout, the first banner line
 * if one comes within a second, and the time it took. Answered privately to the asker.
 *
 * From the bot by default; with `from=<host>`, from that compute node over SSH (what the address
 * looks like from inside the cloud's network): bash's /dev/tcp in a fixed template
 * (adapters/ssh/tcp-connect.ts), the address and port validated and passed as quoted values, never
 * as shell text. Only a host Nova knows as a compute node (a nova-compute service) is accepted.
 */
import { TCP_CONNECT_EXIT_CODES, parseTcpConnect, tcpConnect } from '../../adapters/ssh/tcp-connect.js';
import { tcpProbe, type TcpProbeResult } from '../../adapters/tcp-probe.js';
import { InputError } from '../../core/errors.js';
import type { HostName } from '../../core/values.js';
import { defineQuery } from '../../engine/query.js';
import { command, opt, pos } from '../../engine/spec/spec-builders.js';
import { usageOf } from '../../engine/spec/usage.js';
import { HOST, IP, PORT } from '../../engine/spec/value-types.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';

export const ipCheckSpec = command({
  family: 'ip',
  words: ['check'],
  summary: 'TCP-connect to an IP (like nc -v -w 2) and show the banner.',
  description:
    'Read-only: opens a TCP connection to the address and port (2 s timeout) and shows what answers: the first banner line, or refused / timed out. From the bot, or with from=<host> from that compute node over SSH.',
  positionals: [pos('ip', IP, 'The IP address.')],
  options: [
    opt('port', PORT, 'The TCP port.', { default: 22, defaultText: '22' }),
    opt('from', HOST, 'Connect from this compute node (over SSH) instead of from the bot.'),
  ],
  kind: 'query',
  effect: 'read',
  approval: 'never',
  examples: ['check 96.118.182.107', 'check 2001:db8::7 port=443', 'check 192.0.2.10 port=22 from=c01'],
});

export type IpCheckArgs = { ip: string; port: number; from?: HostName };

export interface IpCheckAnswer extends TcpProbeResult {
  ip: string;
  port: number;
  /** The compute node the connect was made from; absent: from the bot. */
  from?: string;
  /** The command an operator would have typed. */
  equivalent: string;
}

const USAGE = usageOf(ipCheckSpec);

/** `host` must be a compute node of the cloud: Nova has a nova-compute service there. */
async function computeNode(c: CloudDeps, host: HostName): Promise<void> {
  const there = await c.cloud.listComputeServices({ host });
  if (there.some((s) => s.binary === 'nova-compute')) return;
  const computes = [...new Set((await c.cloud.listComputeServices({ binary: 'nova-compute' })).map((s) => s.host))].sort();
  const known = computes.length ? ` (compute nodes: ${computes.slice(0, 10).join(', ')}${computes.length > 10 ? ', …' : ''})` : '';
  const message = there.length
    ? `${host} is not a compute node: Nova runs ${[...new Set(there.map((s) => s.binary))].join(', ')} there, no nova-compute; from= takes a compute node${known}`
    : `Nova knows no host named ${host}; from= takes a compute node${known}`;
  throw new InputError([{ path: 'from', message }], USAGE);
}

export const ipCheckQuery = defineQuery<IpCheckArgs, IpCheckAnswer, NodeDeps>({
  spec: ipCheckSpec,
  async answer(args, deps) {
    const nc = `nc -v -w 2 ${args.ip} ${args.port}`;
    if (args.from === undefined) {
      const r = await tcpProbe(args.ip, args.port, { connectTimeoutMs: 2000, bannerTimeoutMs: 1000 });
      return { ...r, ip: args.ip, port: args.port, equivalent: nc };
    }
    const c = cloudOf(deps);
    await computeNode(c, args.from);
    // No sudo: a TCP connect needs no privilege. The whole check ends on the node within ~3 s.
    const out = await c.shell.run(args.from, tcpConnect(args.ip, args.port), { okExitCodes: TCP_CONNECT_EXIT_CODES, sudo: false, timeoutMs: 15_000 });
    return { ...parseTcpConnect(args.from, out), ip: args.ip, port: args.port, from: args.from, equivalent: `ssh ${args.from} ${nc}` };
  },
});
