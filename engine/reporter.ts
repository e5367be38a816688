/**
 * The reporter port: how the runner (and the runbooks through it) tell the world how an operation
 * goes. `emit` returns nothing on purpose: the runner never waits for Slack. bot/thread-reporter.ts
 * implements it; tests use a recording one.
 */
import type { Effect, Requester } from '../core/types.js';

/** What the status card needs to know about an operation once, when it starts. */
export interface OperationView {
  opId: string;
  runbook: string;
  target: string;
  summary: string;
  requester: Requester;
  approvers: Requester[];
  channelId: string;
  /** The parent message of the thread (the plan preview), when one exists. */
  threadTs?: string;
  steps: { id: string; title: string; effect: Effect; always?: boolean }[];
}

/** A failed step as an operator needs to see it: the command, the exit status, the tail of the output. */
export interface StepFailure {
  message: string;
  code?: string;
  command?: string;
  exitStatus?: number | null;
  outputTail?: string;
}

/** Final states an operation can reach in one run of the runner. */
export type RunEnd = 'succeeded' | 'failed' | 'aborted' | 'needs-operator' | 'interrupted';

export type OperationEvent =
  /** `replay`: the end of a run a killed process finished, told again from the store (nothing runs; no failure replies again). */
  | { type: 'started'; at: number; op: OperationView; resumed?: boolean; replay?: boolean }
  | { type: 'step-started'; at: number; stepId: string }
  | { type: 'step-progress'; at: number; stepId: string; done: number; total: number; note?: string }
  | { type: 'step-finished'; at: number; stepId: string; outcome: 'ok' | 'skipped' | 'reconciled' | 'undone'; detail?: string }
  | { type: 'step-failed'; at: number; stepId: string; failure: StepFailure }
  | { type: 'milestone'; at: number; text: string }
  /** For the requester's eyes only (user data an inspection read): never posted to the channel or thread. */
  | { type: 'private'; at: number; text: string }
  | { type: 'in-doubt'; at: number; stepId: string; detail: string }
  | { type: 'finished'; at: number; state: RunEnd; detail?: string };

/** Fire-and-forget sink for operation events. Implementations must never throw. */
export interface Reporter {
  emit(event: OperationEvent): void;
}

/** A reporter that drops everything (read-only commands answered inline, tests that don't look). */
export const nullReporter: Reporter = { emit: () => undefined };

/** Calls every reporter; one that throws does not stop the others or the runner. */
export function fanOut(...reporters: Reporter[]): Reporter {
  return {
    emit(e) {
      for (const r of reporters) {
        try {
          r.emit(e);
        } catch {
          // A reporter bug must not become a runbook failure.
        }
      }
    },
  };
}
