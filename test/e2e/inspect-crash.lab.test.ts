/**
 * kill -9 of the real bot process (bot/main.ts) during `/instance inspect` of a real QEMU guest on
 * the lab's c03: at a journal phase of every step (CHATOPS_CRASH_AT), then at random moments. Each
 * time the bot is started again on the same store; its start-up cleans up the inspection before
 * anything else (the runbook's afterRestart: 'cleanup'): the domain runs again, nothing is mounted,
 * no loop device, export or work directory is left on c03, and Nova shows the instance ACTIVE.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { SIGNING_SECRET, type BotProcess } from '../helpers/bot-process.js';
import { cleanup, requireLab, uniquePrefix } from '../lab/lab-helpers.js';
import { askInspect, bootGuest, clickApprove, endOf, leftOnNode, novaStatus, startInspectBot, type Guest } from './inspect-lab.js';

const P = uniquePrefix('inspk');
/** A phase of every step: after-intent (intent journaled, effect not yet) or after-effect (done, not journaled). */
const POINTS = [
  'find-domain:after-intent',
  'suspend:after-effect',
  'expose:after-intent',
  'expose:after-effect',
  'mount:after-effect',
  'read:after-intent',
  'unmount:after-intent',
  'disconnect:after-intent',
  'resume:after-intent',
];
const RANDOM_KILLS = Number(process.env['INSPECT_RANDOM_KILLS'] ?? 2);

describe('/instance inspect survives kill -9 at every step and at random times', () => {
  let standin: SlackStandin;
  let guest: Guest;
  let bot: BotProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'inspect-crash-'));
  const exited = (b: BotProcess) =>
    new Promise<string | null>((r) => (b.child.exitCode !== null || b.child.signalCode ? r(b.child.signalCode) : b.child.once('exit', (_c, s) => r(s))));

  beforeAll(async () => {
    await requireLab(['c03']); // c03 only: c01/c02 belong to the other lock
    guest = await bootGuest(`${P}guest`);
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  }, 300_000);

  afterAll(async () => {
    await bot?.stop('SIGKILL');
    await standin?.stop();
    await cleanup(P);
  }, 300_000);

  /** Ask, approve, let `kill` end the bot; start it again and wait until its start-up finished the operation. */
  async function crashOnce(label: string, crashAt: string | undefined, kill: (b: BotProcess) => void): Promise<string> {
    const first = await startInspectBot(standin, dir, crashAt ? { crashAt } : {});
    bot = first.bot;
    const { ts } = await askInspect(standin, first.slack, `inspect ${guest.id} reason="crash test ${label}" path=/home/ubuntu/notes.txt`);
    await clickApprove(standin, first.slack, ts, 'dave').catch(() => undefined); // the bot may die mid-answer
    kill(first.bot);
    const signal = await Promise.race([exited(first.bot), new Promise<string>((r) => setTimeout(() => r('still running'), 120_000))]);
    const end0 = endOf(standin, ts);
    if (signal !== 'SIGKILL') throw new Error(`${label}: the bot was not killed (${signal}):\n${first.bot.output().slice(-2000)}`);
    if (crashAt) expect(first.bot.output(), label).toContain(`crash point ${crashAt}\n`);
    const second = await startInspectBot(standin, dir);
    bot = second.bot;
    await standin.workspace.waitFor(
      () => (endOf(standin, ts) !== end0 || end0 === 'succeeded' ? endOf(standin, ts) : undefined),
      120_000,
      `${label}: the operation to end after the restart`,
    );
    const end = endOf(standin, ts)!;
    await second.bot.stop('SIGTERM');
    bot = undefined;
    expect(await leftOnNode(guest.domain), label).toEqual([]);
    expect(await novaStatus(guest.id), label).toBe('ACTIVE');
    return end;
  }

  it(`cleans up after a kill at ${POINTS.length} step phases`, async () => {
    const ends: string[] = [];
    for (const point of POINTS) {
      const end = await crashOnce(point, point, () => undefined);
      // Killed before the read: the restart only cleans up (aborted). Killed in the clean-up: it finishes it.
      expect(['aborted', 'failed'], point).toContain(end);
      ends.push(`${point} → ${end}`);
    }
    process.stdout.write(`inspect-crash: ${ends.join('; ')}\n`);
  }, 900_000);

  it(`cleans up after ${RANDOM_KILLS} kills at random moments of the run`, async () => {
    for (let k = 0; k < RANDOM_KILLS; k++) {
      const delay = 200 + Math.round(Math.random() * 2500);
      const end = await crashOnce(`random ${delay} ms`, undefined, (b) => setTimeout(() => b.child.kill('SIGKILL'), delay));
      expect(['aborted', 'failed', 'succeeded']).toContain(end);
    }
  }, 600_000);
});
