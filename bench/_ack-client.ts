/**
 * The acknowledgement-latency client of a bench, as a process of its own: the bench process also
 * serves the wire-level Nova and the Slack stand-in, and a client sharing their event loop charges
 * their work to the bot (an ack that reached the socket waits for the stand-in to finish a Web API
 * call). It posts the bodies of a JSON file (slash commands built by the parent, used round-robin),
 * each signed now, at RATE a second (an open loop: a slow answer does not slow the next request) with
 * at most IN_FLIGHT at a time over keep-alive connections, COUNT of them or until SIGTERM, then prints
 * one JSON line: {acks, notAcked, p50Ms, p99Ms, maxMs}, measured from the request's first byte to
 * the whole response (Slack's 3 s deadline: a later one counts as not acknowledged).
 *
 *   node --import tsx bench/_ack-client.ts <url> <signing-secret> <bodies.json> <rate> <in-flight> <count>
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { signRequest } from '../slack-standin/sign.js';

const [url, secret, file, rateArg, inFlightArg, countArg] = process.argv.slice(2);
if (!url || !secret || !file) throw new Error('usage: ack-client.ts <url> <signing-secret> <bodies.json> <rate> <in-flight> <count>');
const bodies = JSON.parse(readFileSync(file, 'utf8')) as string[];
const rate = Number(rateArg ?? 20);
const inFlight = Number(inFlightArg ?? 10);
const count = Number(countArg ?? bodies.length);
const agent = new Agent({ keepAlive: true, maxSockets: inFlight });

let stop = false;
process.on('SIGTERM', () => (stop = true));

function post(body: string): Promise<{ ms: number; ok: boolean }> {
  const ts = Math.floor(Date.now() / 1000);
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url!,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': signRequest(secret!, ts, body),
        },
        timeout: 3000, // Slack's deadline
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: performance.now() - started, ok: res.statusCode === 200 }));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ ms: performance.now() - started, ok: false }));
    req.end(body);
  });
}

const ms: number[] = [];
let notAcked = 0;
let open = 0;
const pending = new Set<Promise<void>>();
const t0 = performance.now();
for (let i = 0; i < count && !stop; i++) {
  const wait = t0 + (i * 1000) / rate - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  while (open >= inFlight && !stop) await Promise.race(pending);
  if (stop) break;
  open++;
  const p: Promise<void> = post(bodies[i % bodies.length]!).then((r) => {
    ms.push(r.ms);
    if (!r.ok) notAcked++;
    open--;
    pending.delete(p);
  });
  pending.add(p);
}
await Promise.all(pending);
agent.destroy();
ms.sort((a, b) => a - b);
const pct = (p: number) => (ms.length ? Math.round(ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)]! * 10) / 10 : null);
process.stdout.write(`${JSON.stringify({ acks: ms.length, notAcked, p50Ms: pct(50), p99Ms: pct(99), maxMs: pct(100) })}\n`);
