/**
 * Slack's signing spec: a request is fresh when |now − X-Slack-Request-Timestamp| ≤ window.
 * Bolt checks only the past side; this guard runs in front of Bolt's receiver and refuses both
 * stale and future-dated requests with 401 before the body is read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';

export type WindowVerdict = { ok: true } | { ok: false; reason: string };

export function checkRequestTimestamp(header: string | string[] | undefined, nowMs: number, windowSeconds: number): WindowVerdict {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^[0-9]{1,12}$/.test(value)) return { ok: false, reason: 'missing or malformed X-Slack-Request-Timestamp' };
  const skew = Math.floor(nowMs / 1000) - Number(value);
  if (skew > windowSeconds) return { ok: false, reason: `request timestamp is ${skew}s old (window ${windowSeconds}s)` };
  if (-skew > windowSeconds) return { ok: false, reason: `request timestamp is ${-skew}s in the future (window ${windowSeconds}s)` };
  return { ok: true };
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Wraps a receiver's request listener: requests to `endpoints` outside the window get 401. */
export function guardRequestWindow(
  inner: Listener,
  opts: { endpoints: string[]; clock: Clock; windowSeconds: number; onReject?: (reason: string, req: IncomingMessage) => void },
): Listener {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'POST' && opts.endpoints.includes(path)) {
      const verdict = checkRequestTimestamp(req.headers['x-slack-request-timestamp'], opts.clock.now(), opts.windowSeconds);
      if (!verdict.ok) {
        opts.onReject?.(verdict.reason, req);
        req.resume(); // drain the body so the connection can be reused
        res.writeHead(401).end();
        return;
      }
    }
    inner(req, res);
  };
}
