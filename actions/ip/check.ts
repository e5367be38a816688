/**
 * `/ip check <ip> [port=22]` — read-only: is anything answering on the address (runbook.md §4,
 * `nc -v -w 2 <ip> 22`)? One TCP connect from the bot with a 2 s timeout, the first banner line if one
 * comes within a second, and the time it took. Answered privately to the asker.
 */
import { tcpProbe, type TcpProbeResult } from '../../adapters/tcp-probe.js';
import { defineQuery } from '../../engine/query.js';
import { command, opt, pos } from '../../engine/spec/spec-builders.js';
import { IP, PORT } from '../../engine/spec/value-types.js';

export const ipCheckSpec = command({
  family: 'ip',
  words: ['check'],
  summary: 'TCP-connect to an IP (like nc -v -w 2) and show the banner.',
  description:
    'Read-only: opens a TCP connection from the bot to the address and port (2 s timeout) and shows what answers: the first banner line, or refused / timed out.',
  positionals: [pos('ip', IP, 'The IP address.')],
  options: [opt('port', PORT, 'The TCP port.', { default: 22, defaultText: '22' })],
  kind: 'query',
  effect: 'read',
  approval: 'never',
  examples: ['check 96.118.182.107', 'check 2001:db8::7 port=443'],
});

export interface IpCheckAnswer extends TcpProbeResult {
  ip: string;
  port: number;
  /** The command an operator would have typed. */
  equivalent: string;
}

export const ipCheckQuery = defineQuery<{ ip: string; port: number }, IpCheckAnswer, unknown>({
  spec: ipCheckSpec,
  async answer(args) {
    const r = await tcpProbe(args.ip, args.port, { connectTimeoutMs: 2000, bannerTimeoutMs: 1000 });
    return { ...r, ip: args.ip, port: args.port, equivalent: `nc -v -w 2 ${args.ip} ${args.port}` };
  },
});
