/**
 * Deliveries exactly as given, for tests of malformed input: correctly signed HTTP bodies of any
 * content (the signature is the only thing right about them), and raw Socket Mode frames.
 */
import { Agent, request } from 'node:http';
import { signRequest } from '../../slack-standin/sign.js';
import type { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { AckResult } from '../../slack-standin/socket-mode.js';

export interface RawAnswer {
  /** HTTP status; 0 when the connection failed; undefined when nothing came within the deadline. */
  status?: number;
  text: string;
  ms: number;
}

const FORM = 'application/x-www-form-urlencoded';

/** Posts `body` signed with `secret` (now), and reads the answer within `deadlineMs` (Slack's 3 s). */
export function postSigned(
  url: string,
  body: string | Buffer,
  opts: { secret: string; contentType?: string; agent?: Agent; deadlineMs?: number },
): Promise<RawAnswer> {
  const started = performance.now();
  const ts = Math.floor(Date.now() / 1000);
  const raw = typeof body === 'string' ? Buffer.from(body) : body;
  const headers = {
    'content-type': opts.contentType ?? FORM,
    'content-length': String(raw.length),
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': signRequest(opts.secret, ts, raw.toString('utf8')),
  };
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Omit<RawAnswer, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...a, ms: performance.now() - started });
    };
    const req = request(url, { method: 'POST', headers, ...(opts.agent ? { agent: opts.agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => done({ status: res.statusCode ?? 0, text: '' }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ text: 'no answer within the deadline' });
    }, opts.deadlineMs ?? 3000);
    // Status 0: the connection failed (the bot must read a body it refuses, or this write breaks).
    req.on('error', (e) => done({ status: 0, text: e.message }));
    req.end(raw);
  });
}

/** A form body whose `payload` field is `json` as given (not necessarily valid JSON). */
export const formPayload = (json: string) => new URLSearchParams({ payload: json }).toString();

/** Sends a raw frame on the live Socket Mode connection; with an envelope id, waits for its ack. */
export async function sendFrame(standin: SlackStandin, frame: string, envelopeId?: string): Promise<AckResult> {
  await standin.workspace.waitFor(() => standin.sockets.connections > 0, 10_000, 'a Socket Mode connection');
  return standin.sockets.deliverRaw(frame, envelopeId);
}

/** The value of one sample of a counter on /metrics (0 when absent). */
export async function counter(port: number, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}
