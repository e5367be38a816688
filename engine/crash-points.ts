/**
 * Crash points for the kill -9 tests: `CHATOPS_CRASH_AT=<stepId>:<phase>[,<stepId>:<phase>…]` makes
 * the process SIGKILL itself at that point of that step. Phases follow the journal:
 * before-intent → (intent written) after-intent → (side effect) after-effect → (result written)
 * after-result. A restarted runner that settles an in-doubt step writes a reconciled result and
 * passes after-result too, so one drain can be killed at all four phases of one step: before-intent,
 * then after-intent of the next attempt, after-effect of the one after, and after-result of its
 * reconciliation. Unset in production; reading it costs one string split at start-up.
 */
import { writeSync } from 'node:fs';
import { ChatOpsError } from '../core/errors.js';

export const CRASH_PHASES = ['before-intent', 'after-intent', 'after-effect', 'after-result'] as const;
export type CrashPhase = (typeof CRASH_PHASES)[number];

export interface CrashPoints {
  /** Kills the process if (stepId, phase) was chosen; otherwise returns. */
  hit(stepId: string, phase: CrashPhase): void;
}

export const noCrashPoints: CrashPoints = { hit: () => undefined };

/** Parses the variable; the step id may itself contain ':' (the phase is after the last one). */
export function parseCrashAt(value: string): { stepId: string; phase: CrashPhase }[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((item) => {
      const i = item.lastIndexOf(':');
      const stepId = i > 0 ? item.slice(0, i) : '';
      const phase = item.slice(i + 1);
      if (!stepId || !(CRASH_PHASES as readonly string[]).includes(phase)) {
        throw new ChatOpsError('CONFIG_INVALID', `CHATOPS_CRASH_AT: "${item}" is not <stepId>:<phase>; phase is one of ${CRASH_PHASES.join(', ')}`, {
          details: { item },
        });
      }
      return { stepId, phase: phase as CrashPhase };
    });
}

/** Crash points from the environment; `kill` is injectable so the parser and matching are unit-testable. */
export function crashPointsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  kill: () => void = () => process.kill(process.pid, 'SIGKILL'),
  /** Said (synchronously, on stderr) just before the kill, so a test can tell its kills from ours. */
  say: (line: string) => void = (line) => writeSync(2, `${line}\n`),
): CrashPoints {
  const raw = env.CHATOPS_CRASH_AT;
  if (!raw) return noCrashPoints;
  const wanted = new Set(parseCrashAt(raw).map((p) => `${p.stepId}\u0000${p.phase}`));
  return {
    hit(stepId, phase) {
      if (!wanted.has(`${stepId}\u0000${phase}`)) return;
      say(`crash point ${stepId}:${phase}`);
      kill();
    },
  };
}
