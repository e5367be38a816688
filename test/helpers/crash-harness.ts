/**
 * The kill -9 harness of the crash tests: the real bot process (test/helpers/bot-process.ts) is
 * started again and again on one store, each time either to die at the next crash point
 * (`CHATOPS_CRASH_AT=<stepId>:<phase>`, engine/crash-points.ts) or to be killed by the test after a
 * seeded random delay, until every planned kill happened. Whatever the runbook, the test then starts
 * a last bot without a crash point and checks the world.
 *
 * Random kills are armed with probability 2 × (random left) / (all kills left), so they spread over
 * the run and are spent before its end, and only while the next point is an intent phase (or none is
 * left): a random kill during a step's effect would let the restarted bot find that step done by
 * reading the world, and its after-effect or after-result point would never be reached.
 */
import type { BotProcess } from './bot-process.js';

/** The four journal phases of a step (engine/crash-points.ts). */
export const CRASH_PHASES = ['before-intent', 'after-intent', 'after-effect', 'after-result'] as const;

/** mulberry32: a small seeded generator, so a failing run can be repeated with its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ends = new WeakMap<BotProcess, Promise<string | null>>();
/** The signal that ended the process (one listener per process, however often it is asked). */
export function exitSignal(b: BotProcess): Promise<string | null> {
  let p = ends.get(b);
  if (!p) {
    p = new Promise<string | null>((r) => (b.child.exitCode !== null || b.child.signalCode ? r(b.child.signalCode) : b.child.once('exit', (_c, s) => r(s))));
    ends.set(b, p);
  }
  return p;
}

export interface KillLoop {
  /** Starts a bot (not waiting for readiness: it may die before) with this crash point, or none. */
  start(crashAt: string | undefined): Promise<BotProcess>;
  /** The crash points still to hit, in order; consumed as they are hit. */
  phaseKills: string[];
  randomKills: number;
  random: () => number;
  /** The operation's state in the store ('running' while it goes on). */
  opState(): Promise<string>;
  /** One line per kill is appended (the story a failure prints). */
  log: string[];
  /** How long one bot may run without reaching its point (default 5 minutes). */
  maxRunMs?: number;
  /** Random kills land this long after the start: [min, min + span) ms (default 300 + 3700). */
  delay?: { min: number; span: number };
  /**
   * A short operation may end before its random kills are spent: once no crash point is left, its
   * end stops the loop (the bot that saw it is killed) instead of failing it. Default: it fails.
   */
  randomMayOutlive?: boolean;
}

/** Runs the kills; throws with the story when a bot ends otherwise (the operation finished first, it hung, it died by itself). */
export async function runKillLoop(o: KillLoop): Promise<void> {
  let randomLeft = o.randomKills;
  const maxRunMs = o.maxRunMs ?? 300_000;
  const { min, span } = o.delay ?? { min: 300, span: 3700 };
  const outcome = async (b: BotProcess): Promise<string | null> => {
    const deadline = Date.now() + maxRunMs;
    for (;;) {
      const died = await Promise.race([exitSignal(b), new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000))]);
      if (died !== undefined) return died;
      const state = await o.opState();
      if (state !== 'running') return `the operation became ${state} before the crash point was reached`;
      if (Date.now() > deadline) return `still running after ${maxRunMs / 1000} s`;
    }
  };
  while (o.phaseKills.length > 0 || randomLeft > 0) {
    const next = o.phaseKills[0];
    const mayArm = next === undefined || /:(before|after)-intent$/.test(next);
    const armed = mayArm && randomLeft > 0 && o.random() < (2 * randomLeft) / (randomLeft + o.phaseKills.length);
    const delayMs = Math.round(min + o.random() * span);
    const b = await o.start(next);
    let ours = false;
    const timer = armed
      ? setTimeout(() => {
          ours = true;
          b.child.kill('SIGKILL');
        }, delayMs)
      : undefined;
    const signal = await outcome(b);
    clearTimeout(timer);
    if (signal !== 'SIGKILL' && next === undefined && o.randomMayOutlive) {
      b.child.kill('SIGKILL');
      await exitSignal(b);
      o.log.push(`ended with ${randomLeft} random kill(s) unspent: ${signal}`);
      return;
    }
    if (signal !== 'SIGKILL') {
      b.child.kill('SIGKILL');
      throw new Error(`${next ?? 'random'}: ${signal}\n${o.log.join('\n')}\n${b.output().slice(-3000)}`);
    }
    // The bot says which point it crashed at; a kill of ours that raced with it does not count.
    if (next && b.output().includes(`crash point ${next}\n`)) o.log.push(`kill: ${o.phaseKills.shift()}`);
    else if (ours) {
      randomLeft--;
      o.log.push(`kill: random after ${delayMs} ms`);
    } else throw new Error(`the bot died without our kill and without reaching ${next}:\n${o.log.join('\n')}\n${b.output().slice(-3000)}`);
  }
}
