/**
 * Acknowledgement latency of the HTTP receiver: 1,000 signed slash commands, 50 in flight, against
 * the real entry point as a child process (so the client's CPU is not charged to the bot), through
 * the Slack stand-in's driver. Slack's hard limit is 3,000 ms; our floor is p99 < 100 ms.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlackDriver } from '../slack-standin/driver.js';
import { SlackStandin } from '../slack-standin/slack-standin.js';
import { SIGNING_SECRET, startBot } from '../test/helpers/bot-process.js';

const TOTAL = Number(process.env.BENCH_TOTAL ?? 1000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 50);
const MIXES: Record<string, [string, string][]> = {
  mixed: [
    ['/op', 'list'], // valid query: ack, then a store read and an ephemeral answer
    ['/node', 'help drain'], // help
    ['/node', 'drain c01;reboot reason=x'], // refused input
  ],
  /** Acknowledgement only: no work follows it, so only the receiver is measured. */
  ackonly: [
    ['/node', 'help drain'],
    ['/node', 'drain c01;reboot reason=x'],
  ],
};
const MIX = process.env.BENCH_MIX ?? 'mixed';
const TEXTS = MIXES[MIX]!;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  const bot = await startBot({ mode: 'http', standin });
  const slack = new SlackDriver(standin, { kind: 'http', url: `http://127.0.0.1:${bot.port}/slack/events` });
  // Warm-up at full concurrency: JIT, the 50 keep-alive connections, the store's first statements.
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = 0; i < 10; i++) await slack.command({ user: 'alice', channel: 'ops', command: '/node', text: 'help' });
    }),
  );
  const ms: number[] = [];
  let next = 0;
  let timedOut = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < TOTAL) {
        const [command, text] = TEXTS[next++ % TEXTS.length]!;
        const r = await slack.command({ user: 'bob', channel: 'ops', command, text });
        if (r.timedOut || r.status !== 200) timedOut++;
        ms.push(r.ackMs);
      }
    }),
  );
  const wall = performance.now() - started;
  ms.sort((a, b) => a - b);
  const result = {
    mix: MIX,
    total: TOTAL,
    inFlight: IN_FLIGHT,
    notAcked: timedOut,
    p50Ms: +pct(ms, 50).toFixed(1),
    p90Ms: +pct(ms, 90).toFixed(1),
    p99Ms: +pct(ms, 99).toFixed(1),
    maxMs: +ms.at(-1)!.toFixed(1),
    perSecond: +((TOTAL / wall) * 1000).toFixed(0),
    floorP99Ms: 100,
  };
  slack.close();
  await bot.stop();
  await standin.stop();
  const out = join(import.meta.dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `ack-latency-${MIX}.json`), JSON.stringify(result, null, 2));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stdout.write(`p99 ${result.p99Ms} ms ${result.p99Ms < result.floorP99Ms ? '<' : '>='} floor ${result.floorP99Ms} ms\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
