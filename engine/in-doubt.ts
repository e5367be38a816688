/**
 * An in-doubt step (an intent and no result: the bot stopped during it) meets the real world again.
 * Its `reconcile` (or `check`) reads the state: done → the result is written as reconciled and the
 * step is not run; not-done → a reconciled "failed" result, then a new attempt; unknown → what the
 * operator chose on an approved Resume, or a stop that puts it in front of an operator. A step that
 * cannot be read back is never repeated blindly.
 */
import type { JournalEntry, JsonObject, Store } from '../store/store.js';
import type { CrashPoints } from './crash-points.js';
import type { Reporter } from './reporter.js';
import type { RunMode } from './run-mode.js';
import type { ExecutableStep, Observation, StepContext } from './runbook.js';
import { bounded } from './step-failure.js';

export interface InDoubtInput<D> {
  store: Pick<Store, 'clock' | 'recordResult'>;
  opId: string;
  step: ExecutableStep<D>;
  prev: JournalEntry;
  ctx: StepContext<D>;
  mode: RunMode;
  /** The operation is failing or aborting: only cleanup steps still matter. */
  stopping: boolean;
  audit: (kind: string, p: JsonObject) => Promise<unknown>;
  reporter: Reporter;
  readTimeoutMs: number;
  /** `after-result` fires once a reconciled result is written, as it does after a run's own result. */
  crash?: CrashPoints;
}

/** done: skip it; run: a new attempt; ask: stop for an operator; leave: abandoned while stopping. */
export async function settleInDoubt<D>(i: InDoubtInput<D>): Promise<'done' | 'run' | 'ask' | 'leave'> {
  const { store, step, prev, mode, audit, reporter } = i;
  const now = () => store.clock.now();
  const seen = await observe(step, i.ctx, i.readTimeoutMs);
  const record = async (status: 'ok' | 'failed', extra: JsonObject) => {
    await store.recordResult(i.opId, step.id, prev.attempt, {
      status,
      reconciled: true,
      output: { observed: seen.state, detail: seen.detail ?? '', ...extra },
    });
    i.crash?.hit(step.id, 'after-result');
    await audit('step.reconciled', { stepId: step.id, attempt: prev.attempt, observed: seen.state, detail: seen.detail ?? '', ...extra });
  };
  if (seen.state === 'done') {
    await record('ok', seen.output !== undefined ? { value: seen.output } : {});
    reporter.emit({ type: 'step-finished', at: now(), stepId: step.id, outcome: 'reconciled', detail: seen.detail ?? 'found done' });
    return 'done';
  }
  if (seen.state === 'not-done') {
    await record('failed', {});
    return 'run';
  }
  if (i.stopping && !step.always) {
    // Failing or aborting: an undecidable non-cleanup step is left as found, and said so.
    await record('failed', { abandoned: `operation stopping; left as found by ${mode.actor ?? 'the bot'}` });
    reporter.emit({
      type: 'step-failed',
      at: now(),
      stepId: step.id,
      failure: { message: `left in doubt while stopping: ${seen.detail ?? 'state unknown'}; check it by hand`, code: 'IN_DOUBT' },
    });
    return 'leave';
  }
  if (mode.inDoubt === 'rerun' || mode.inDoubt === 'mark-done') {
    await record(mode.inDoubt === 'rerun' ? 'failed' : 'ok', { operatorDecision: mode.inDoubt, by: mode.actor ?? 'unknown' });
    if (mode.inDoubt === 'rerun') return 'run';
    reporter.emit({ type: 'step-finished', at: now(), stepId: step.id, outcome: 'reconciled', detail: `marked done by ${mode.actor ?? 'an operator'}` });
    return 'done';
  }
  await audit('step.in_doubt', { stepId: step.id, attempt: prev.attempt, detail: seen.detail ?? 'state unknown' });
  reporter.emit({ type: 'in-doubt', at: now(), stepId: step.id, detail: seen.detail ?? 'state unknown' });
  return 'ask';
}

async function observe<D>(step: ExecutableStep<D>, ctx: StepContext<D>, timeoutMs: number): Promise<Observation> {
  const read = step.reconcile ?? step.check;
  if (!read) return { state: 'unknown', detail: 'this step cannot read its own state back' };
  try {
    return await bounded(`reconcile of step ${step.id}`, timeoutMs, ctx.signal, (signal) => read.call(step, { ...ctx, signal }));
  } catch (err) {
    return { state: 'unknown', detail: `reading the state failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
