/**
 * Acknowledgement latency under load, for the benches: writes the signed-at-send slash-command bodies
 * (a mix the bot answers without touching a cloud: `/op list`, a help page, a drain refused by its
 * grammar) and runs bench/_ack-client.ts as a process of its own against the bot's HTTP endpoint,
 * `count` requests or until `stopWhen` settles. Returns the client's figures (null if it printed none).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildCommand } from '../slack-standin/payloads.js';
import type { SlackStandin } from '../slack-standin/slack-standin.js';

export interface AckFigures {
  acks: number;
  notAcked: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The commands sent, round-robin. */
export const ACK_MIX: [string, string][] = [
  ['/op', 'list'],
  ['/node', 'help drain'],
  ['/node', 'drain c01;reboot reason=x'],
];
const REPO = resolve(import.meta.dirname, '..');

export async function ackLoad(o: {
  url: string;
  standin: SlackStandin;
  /** Where the bodies file is written. */
  dir: string;
  ratePerSecond: number;
  inFlight: number;
  count: number;
  stopWhen?: Promise<unknown>;
}): Promise<AckFigures | null> {
  const bodies = Array.from({ length: 30 }, (_, i) => {
    const [command, text] = ACK_MIX[i % ACK_MIX.length]!;
    return new URLSearchParams(buildCommand(o.standin, { user: 'carol', channel: 'ops', command, text }).payload as Record<string, string>).toString();
  });
  const file = join(o.dir, `ack-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(bodies));
  const client = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'bench/_ack-client.ts'), o.url, o.standin.signingSecret, file, String(o.ratePerSecond), String(o.inFlight), String(o.count)],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  client.stdout.on('data', (d: Buffer) => (out += d.toString()));
  void o.stopWhen?.then(
    () => client.kill('SIGTERM'),
    () => client.kill('SIGTERM'),
  );
  await new Promise((r) => client.once('exit', r));
  return JSON.parse(out.trim().split('\n').at(-1) ?? 'null') as AckFigures | null;
}
