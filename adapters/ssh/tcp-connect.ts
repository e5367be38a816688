/**
 * `/ip check … from=<node>`: one TCP connect made by a compute node, as `nc -v -w 2 <ip> <port>`
 * run there would make it (runbook.md §4), without nc (compute nodes often lack it): bash's
 * `/dev/tcp` in a fixed template. The address and port are validated (`arg.ip`, `arg.int`) and
 * reach the node single-quoted, assigned to shell variables: chat text is never shell syntax.
 *
 * On the node: the connect is bounded to 2 s by a watchdog that sends the shell SIGALRM (bash cannot
 * time out a connect itself; the trap ends the shell with status 2, not a signal, which GNU timeout
 * and sshd would pass on as one); the first line the service sends is read for up to 1 s (300 characters at
 * most); times come from the node's clock (`$EPOCHREALTIME`, or `date` on bash < 5), so the SSH
 * round trip is not counted. Output lines: `start:<t>`, then `open:<t>` + `banner:<line>`, or
 * `failed:<t>` (bash's reason on stderr), or `timeout:<t>`.
 */
import { ChatOpsError } from '../../core/errors.js';
import type { TcpOutcome, TcpProbeResult } from '../tcp-probe.js';
import type { RemoteResult } from './run-on-channel.js';
import { arg, template, type RemoteCommand } from './shell-quote.js';

/** Exit statuses of the template: 0 connected, 1 the connect failed, 2 no answer within 2 s. */
export const TCP_CONNECT_EXIT_CODES = [0, 1, 2] as const;

export function tcpConnect(ip: string, port: number): RemoteCommand {
  return template(
    'set -f; IFS=; ip={ip}; port={port}; now() if [ x$EPOCHREALTIME = x ]; then date +%s.%N; else echo $EPOCHREALTIME; fi; late() if true; then echo -n timeout:; now; exit 2; fi; trap late ALRM; w() ( sleep 2 >/dev/null 2>&1; kill -s ALRM $$ ); echo -n start:; now; w >/dev/null 2>&1 </dev/null & k=$!; if exec 3<>/dev/tcp/$ip/$port; then echo -n open:; now; kill -s KILL $k; read -r -t 1 -n 300 l <&3; echo banner:$l; exit 0; fi; echo -n failed:; now; kill -s KILL $k; exit 1',
    { ip: arg.ip(ip), port: arg.int(port) },
    { shell: 'bash' },
  );
}

/** bash's connect errors (strerror text) → the errno names tcp-probe.ts reports, and the outcome. */
const ERRORS: ReadonlyArray<[RegExp, string, TcpOutcome]> = [
  [/connection refused/i, 'ECONNREFUSED', 'refused'],
  [/no route to host/i, 'EHOSTUNREACH', 'unreachable'],
  [/network is unreachable/i, 'ENETUNREACH', 'unreachable'],
  [/cannot assign requested address/i, 'EADDRNOTAVAIL', 'unreachable'],
  [/host is down/i, 'EHOSTDOWN', 'unreachable'],
  [/connection timed out/i, 'ETIMEDOUT', 'timed-out'],
];

/** What the node said, as tcp-probe.ts reports a connect from the bot; throws when the node could not run the check at all. */
export function parseTcpConnect(host: string, r: Pick<RemoteResult, 'stdout' | 'stderr' | 'exitCode'>): TcpProbeResult {
  const lines = r.stdout.split('\n');
  const at = (key: string) => {
    const l = lines.find((x) => x.startsWith(`${key}:`));
    const v = l === undefined ? NaN : Number(l.slice(key.length + 1).trim());
    return Number.isFinite(v) ? v : undefined;
  };
  const start = at('start');
  const ms = (end: number | undefined) => (start !== undefined && end !== undefined ? Math.max(0, Math.round((end - start) * 1000)) : 0);
  const opened = at('open');
  // (open wins over a watchdog that fired between the connect and its own end)
  if (opened !== undefined && (r.exitCode === 0 || r.exitCode === 2)) {
    const raw = lines.find((l) => l.startsWith('banner:'))?.slice('banner:'.length) ?? '';
    const banner = raw.replace(/[\p{Cc}\p{Cf}]/gu, '').slice(0, 200);
    return { outcome: 'open', ms: ms(opened), ...(banner ? { banner } : {}) };
  }
  const late = at('timeout');
  if (r.exitCode === 2 && late !== undefined) return { outcome: 'timed-out', ms: ms(late) };
  const failed = at('failed');
  const why = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (r.exitCode === 1 && failed !== undefined) {
    const text = why.join(' ');
    if (/\/dev\/tcp\/[^:]*: No such file or directory/.test(text) && !/connect:/.test(text)) {
      throw new TcpConnectUnsupported(host, 'bash there has no /dev/tcp (built without network redirections)');
    }
    for (const [re, code, outcome] of ERRORS) if (re.test(text)) return { outcome, ms: ms(failed), code };
    return { outcome: 'error', ms: ms(failed), ...(why[0] ? { code: why[0].replace(/^.*connect: /, '').slice(0, 100) } : {}) };
  }
  throw new TcpConnectUnsupported(host, `the check did not run there (exit ${r.exitCode ?? 'none'}${why.length ? `: ${why.at(-1)!.slice(0, 200)}` : ''})`);
}

/** The node could not run the check (no bash, no /dev/tcp): not an answer about the address. */
export class TcpConnectUnsupported extends ChatOpsError {
  constructor(host: string, detail: string) {
    super('REMOTE_COMMAND_FAILED', `${host} cannot make a TCP connect for the bot: ${detail}; nothing was checked`, { details: { host } });
  }
}
