/**
 * One TCP connect from the bot, as `nc -v -w 2 <ip> <port>` would do it (runbook.md §4): how it
 * ended (open, refused, timed out, unreachable), how long it took, and the first line the service
 * sent within a second of connecting (an SSH or SMTP banner), if any. Nothing is written to the peer.
 */
import { Socket } from 'node:net';

export type TcpOutcome = 'open' | 'refused' | 'timed-out' | 'unreachable' | 'error';

export interface TcpProbeResult {
  outcome: TcpOutcome;
  /** Connect time (open) or time until it failed, in ms. */
  ms: number;
  /** The first line the service sent, at most 200 characters, control characters removed. */
  banner?: string;
  /** The socket error code (ECONNREFUSED, EHOSTUNREACH…) when it failed. */
  code?: string;
}

export interface TcpProbeOptions {
  connectTimeoutMs?: number;
  bannerTimeoutMs?: number;
}

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENETDOWN', 'EHOSTDOWN']);

export function tcpProbe(ip: string, port: number, o: TcpProbeOptions = {}): Promise<TcpProbeResult> {
  const connectMs = o.connectTimeoutMs ?? 2000;
  const bannerMs = o.bannerTimeoutMs ?? 1000;
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  return new Promise((resolve) => {
    const sock = new Socket();
    let connectedMs: number | undefined;
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    const done = (r: TcpProbeResult) => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.destroy();
      resolve(r);
    };
    const open = () => {
      const line = data
        .split(/\r?\n/)[0]!
        .replace(/[\p{Cc}\p{Cf}]/gu, '')
        .slice(0, 200);
      done({ outcome: 'open', ms: connectedMs ?? elapsed(), ...(line ? { banner: line } : {}) });
    };
    timer = setTimeout(() => done({ outcome: 'timed-out', ms: elapsed() }), connectMs);
    sock.once('connect', () => {
      connectedMs = elapsed();
      clearTimeout(timer);
      timer = setTimeout(open, bannerMs);
    });
    sock.on('data', (b: Buffer) => {
      data += b.toString('utf8');
      if (data.includes('\n') || data.length > 1024) open();
    });
    sock.once('end', () => (connectedMs !== undefined ? open() : undefined));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      if (connectedMs !== undefined) return open();
      const code = e.code ?? 'ERROR';
      done({ outcome: code === 'ECONNREFUSED' ? 'refused' : UNREACHABLE.has(code) ? 'unreachable' : 'error', ms: elapsed(), code });
    });
    sock.connect({ host: ip, port });
  });
}
