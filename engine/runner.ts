/**
 * The journaled runner (reliability.md, "A crash loses nothing and repeats nothing blindly").
 *
 * For each step, in plan order (a window's steps several at a time: `ExecutableStep.window`): skip
 * it if the journal says it completed; if it has an intent and no result (in doubt), read the real
 * state through `reconcile`/`check` and continue only on a clear answer, else stop and ask an
 * operator; otherwise audit, write the intent, run, write the result.
 * After a failure or an abort only `always` (cleanup) steps run. The runner never waits for Slack:
 * the reporter's `emit` returns at once, and every audit entry is written before its event.
 */
import { ChatOpsError } from '../core/errors.js';
import type { Plan } from '../core/types.js';
import type { JournalEntry, JsonObject, OperationRecord, Store } from '../store/store.js';
import { LeaseLostError } from '../store/store-error.js';
import { noCrashPoints, type CrashPoints } from './crash-points.js';
import type { OperationView, Reporter, RunEnd } from './reporter.js';
import type { ExecutableStep, JsonValue, Runbook, StepContext } from './runbook.js';
import { settleInDoubt } from './in-doubt.js';
import { bounded, failureFromJson, failureJson, failureOf } from './step-failure.js';

/** What the runner needs of the store. */
export type RunnerStore = Pick<
  Store,
  'clock' | 'updateOperation' | 'renewLease' | 'releaseOperation' | 'recordIntent' | 'recordResult' | 'listJournal' | 'appendAudit' | 'releaseLocksOf'
>;

export interface RunnerOptions<D> {
  store: RunnerStore;
  deps: D;
  /** This replica's id: unique per replica, stable across its restarts (the lease owner). */
  owner: string;
  /** Lease on a running operation (default 60 s), renewed every third of it. */
  leaseMs?: number;
  /** Default bound of one step (default 30 min); a step may set its own `timeoutMs`. */
  stepTimeoutMs?: number;
  /** Bound of a reconcile/check read (default 60 s). */
  readTimeoutMs?: number;
  crash?: CrashPoints;
}

export type { RunMode } from './run-mode.js';
import type { RunMode } from './run-mode.js';

interface Active {
  ctl: AbortController;
  done: Promise<RunEnd>;
  abortBy?: string;
}

export class Runner<D> {
  private draining = false;
  private readonly active = new Map<string, Active>();
  private readonly leaseMs: number;
  private readonly crash: CrashPoints;

  constructor(private readonly o: RunnerOptions<D>) {
    this.leaseMs = o.leaseMs ?? 60_000;
    this.crash = o.crash ?? noCrashPoints;
  }

  get owner(): string {
    return this.o.owner;
  }

  isActive(opId: string): boolean {
    return this.active.has(opId);
  }

  activeCount(): number {
    return this.active.size;
  }

  /** True while draining: callers must not start operations. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Abort a run of this process: the current step's signal fires, then only cleanup steps run. */
  requestAbort(opId: string, actor: string): boolean {
    const a = this.active.get(opId);
    if (!a) return false;
    a.abortBy = actor;
    a.ctl.abort(new ChatOpsError('STEP_FAILED', `aborted by ${actor}`));
    return true;
  }

  /** No new step starts from now on; runs end after their current step as 'interrupted'. */
  drain(): void {
    this.draining = true;
  }

  /** drain(), then wait for every run to stop (true) or for `timeoutMs` (false). */
  async shutdown(timeoutMs = 25_000): Promise<boolean> {
    this.drain();
    const all = Promise.allSettled([...this.active.values()].map((a) => a.done)).then(() => true);
    let t: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (t = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([all, late]);
    } finally {
      clearTimeout(t);
    }
  }

  /**
   * Runs an operation this process has claimed (state 'running', owner = this replica) to its end
   * or to a stop. Resolves with how it ended; never rejects.
   */
  run(op: OperationRecord, runbook: Runbook<never, D>, reporter: Reporter, mode: RunMode = {}): Promise<RunEnd> {
    if (this.active.has(op.id))
      throw new ChatOpsError('OPERATION_RUNNING_ELSEWHERE', `operation ${op.id} is already running in this process`, { details: { opId: op.id } });
    if (this.draining) throw new ChatOpsError('SHUTTING_DOWN', 'the bot is shutting down; no operation starts now', { details: { opId: op.id } });
    const a: Active = { ctl: new AbortController(), done: Promise.resolve('interrupted') };
    this.active.set(op.id, a);
    a.done = this.execute(op, runbook, reporter, mode, a)
      .catch((err: unknown) => this.broken(op, err, reporter))
      .finally(() => this.active.delete(op.id));
    return a.done;
  }

  /**
   * Something other than a step failed (the store went away, the runbook no longer matches its
   * plan). Whatever was in flight is in doubt in the journal; put the operation in front of an
   * operator if the store still answers, else leave it to the lease and the next reconciliation.
   */
  private async broken(op: OperationRecord, err: unknown, reporter: Reporter): Promise<RunEnd> {
    const { store } = this.o;
    const problem = err instanceof Error ? err.message : String(err);
    let end: RunEnd = 'interrupted';
    try {
      const held = await store.updateOperation(op.id, { state: 'in_doubt', detail: { ...op.detail, problem } }, { owner: this.o.owner });
      if (held) end = 'needs-operator';
      await store.appendAudit({ actor: `bot:${this.o.owner}`, kind: 'operation.in_doubt', operationId: op.id, payload: { problem } });
      await store.releaseOperation(op.id, this.o.owner);
    } catch {
      // The store is down too: the lease runs out and a later reconciliation takes the operation up.
    }
    reporter.emit({ type: 'finished', at: Date.now(), state: end, detail: `the bot could not go on: ${problem}` });
    return end;
  }

  private async execute(op: OperationRecord, runbook: Runbook<never, D>, reporter: Reporter, mode: RunMode, a: Active): Promise<RunEnd> {
    const { store } = this.o;
    const now = () => store.clock.now();
    const plan = op.plan as unknown as Plan;
    const steps = runbook.steps(plan, this.o.deps);
    const ids = plan.steps.map((s) => s.id).join('\n');
    if (steps.map((s) => s.id).join('\n') !== ids) {
      throw new ChatOpsError('INTERNAL', `runbook ${runbook.name} built steps that do not match its stored plan`, { details: { opId: op.id } });
    }
    let lostLease = false;
    const renew = setInterval(
      () => {
        Promise.resolve()
          .then(() => store.renewLease(op.id, this.o.owner, this.leaseMs))
          .then(
            (ok) => (lostLease ||= !ok),
            () => undefined, // a store hiccup: the next renewal tries again; the lease is 3 renewals long
          );
      },
      Math.max(1000, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    const audit = (kind: string, payload: JsonObject) => store.appendAudit({ actor: `bot:${this.o.owner}`, kind, operationId: op.id, payload });
    const last = new Map<string, JournalEntry>();
    for (const e of await store.listJournal(op.id)) last.set(e.stepId, e);
    const outputs: Record<string, JsonValue> = {};
    // A step that failed in an earlier run of this operation (not a reconciled "not done", which a
    // new attempt follows) keeps the operation failing: it is not retried, only cleanup runs.
    let failed = [...last.values()].some((e) => e.status === 'failed' && (!e.reconciled || e.output?.abandoned !== undefined));
    // An abort survives a restart: it is written on the operation before the run is told.
    if (op.detail.aborting !== undefined) mode = { ...mode, abort: true, actor: mode.actor ?? String(op.detail.aborting) };
    const startedAt = now();
    reporter.emit({ type: 'started', at: startedAt, op: viewOf(op), resumed: last.size > 0 });
    let end: RunEnd | undefined;
    /** One step, as the plan orders it: 'stop' ends the run (`end` says how). */
    const one = async (step: ExecutableStep<D>): Promise<'next' | 'stop'> => {
      const prev = last.get(step.id);
      if (prev?.status === 'ok' || prev?.status === 'skipped') {
        // Completed before (this run or an earlier one): never again.
        const v = prev.output?.value;
        if (v !== undefined) outputs[step.id] = v as JsonValue;
        reporter.emit({
          type: 'step-finished',
          at: prev.resultAt ?? now(),
          stepId: step.id,
          outcome: prev.status === 'ok' ? (prev.reconciled ? 'reconciled' : 'ok') : 'skipped',
        });
        return 'next';
      }
      if (this.draining || lostLease) {
        end = 'interrupted';
        return 'stop';
      }
      const stopping = failed || mode.abort === true || a.ctl.signal.aborted;
      const inDoubt = prev !== undefined && prev.status === null;
      // An in-doubt step is settled even when stopping, so the journal says what became of it.
      if (stopping && !step.always && !inDoubt) return 'next';
      if (prev?.status === 'failed' && !prev.reconciled) return 'next'; // a failed cleanup step is not retried either
      const ctx = this.context(op, plan, step, outputs, a.ctl.signal, reporter, audit);
      if (prev && inDoubt) {
        const decided = await settleInDoubt({
          store,
          opId: op.id,
          step,
          prev,
          ctx,
          mode,
          stopping,
          audit,
          reporter,
          readTimeoutMs: this.o.readTimeoutMs ?? 60_000,
          crash: this.crash,
        });
        if (decided === 'ask') {
          end = 'needs-operator';
          return 'stop';
        }
        if (decided === 'done') {
          const v = (await store.listJournal(op.id)).filter((e) => e.stepId === step.id).pop()?.output?.value;
          if (v !== undefined) outputs[step.id] = v as JsonValue;
          return 'next';
        }
        if (decided === 'leave' || (stopping && !step.always)) return 'next';
      }
      let ok: boolean;
      try {
        ok = await this.attempt(op, step, ctx, audit, reporter, a.ctl.signal);
      } catch (err) {
        if (!(err instanceof LeaseLostError)) throw err;
        // Another replica holds the operation now (this one stalled past its lease): it goes on
        // from the journal; this one stops without touching anything more.
        lostLease = true;
        end = 'interrupted';
        return 'stop';
      }
      if (!ok) failed = true;
      return 'next';
    };
    try {
      for (let i = 0; i < steps.length;) {
        const step = steps[i]!;
        const w = step.window;
        if (!w || w.size <= 1) {
          if ((await one(step)) === 'stop') break;
          i++;
          continue;
        }
        // A window: the consecutive steps of its group, up to `size` of them at a time, each one
        // journaled as any step is. The next one starts as soon as one ends (never a whole batch's
        // wait for its slowest); after a failure, an abort or a stop, none starts and those in
        // flight finish.
        let j = i;
        while (j < steps.length && steps[j]!.window?.group === w.group) j++;
        const group = steps.slice(i, j);
        let next = 0;
        let stop = false;
        const worker = async () => {
          while (!stop && next < group.length) {
            const s = group[next++]!;
            try {
              if ((await one(s)) === 'stop') stop = true;
            } catch (err) {
              stop = true;
              throw err;
            }
          }
        };
        const ran = await Promise.allSettled(Array.from({ length: Math.min(w.size, group.length) }, worker));
        const thrown = ran.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (thrown) throw thrown.reason;
        if (stop) break;
        i = j;
      }
      end ??= a.ctl.signal.aborted || mode.abort ? 'aborted' : failed ? 'failed' : 'succeeded';
      await this.finish(op, end, startedAt, audit, reporter, a.abortBy ?? mode.actor);
      return end;
    } finally {
      clearInterval(renew);
    }
  }

  /** One new attempt of a step: audit, intent, check/run, result. True when it did not fail. */
  private async attempt(
    op: OperationRecord,
    step: ExecutableStep<D>,
    ctx: StepContext<D> & { savedData(): JsonObject | undefined },
    audit: (kind: string, p: JsonObject) => Promise<unknown>,
    reporter: Reporter,
    opSignal: AbortSignal,
  ): Promise<boolean> {
    const { store } = this.o;
    const t0 = store.clock.now();
    this.crash.hit(step.id, 'before-intent');
    await audit('step.start', { stepId: step.id, title: step.title, effect: step.effect, equivalent: step.equivalent });
    // Under the lease fence: a replica whose lease ended (another one took the operation over) cannot
    // start another step; the store refuses the intent in the same statement that checks the lease.
    const entry = await store.recordIntent(
      op.id,
      step.id,
      { title: step.title, effect: step.effect, equivalent: step.equivalent, touches: step.touches ?? [] },
      { owner: this.o.owner },
    );
    this.crash.hit(step.id, 'after-intent');
    reporter.emit({ type: 'step-started', at: t0, stepId: step.id });
    try {
      const limit = step.timeoutMs ?? this.o.stepTimeoutMs ?? 30 * 60_000;
      const seen = step.check
        ? await bounded(`check of step ${step.id}`, this.o.readTimeoutMs ?? 60_000, opSignal, (signal) => step.check!({ ...ctx, signal }))
        : undefined;
      if (seen?.state === 'done') {
        await store.recordResult(op.id, step.id, entry.attempt, {
          status: 'skipped',
          output: { observed: seen.detail ?? 'already done', ...(seen.output !== undefined ? { value: seen.output } : {}) },
        });
        this.crash.hit(step.id, 'after-result');
        await audit('step.end', { stepId: step.id, status: 'skipped', observed: seen.detail ?? 'already done' });
        if (seen.output !== undefined) (ctx.outputs as Record<string, JsonValue>)[step.id] = seen.output;
        reporter.emit({ type: 'step-finished', at: store.clock.now(), stepId: step.id, outcome: 'skipped', ...(seen.detail ? { detail: seen.detail } : {}) });
        return true;
      }
      const out = await bounded(`step ${step.id}`, limit, opSignal, (signal) => step.run({ ...ctx, signal, ...(seen ? { checked: seen } : {}) }));
      this.crash.hit(step.id, 'after-effect');
      if (out !== undefined) (ctx.outputs as Record<string, JsonValue>)[step.id] = out;
      const saved = ctx.savedData();
      await store.recordResult(op.id, step.id, entry.attempt, { status: 'ok', output: out === undefined ? {} : { value: out }, ...(saved ? { saved } : {}) });
      this.crash.hit(step.id, 'after-result');
      await audit('step.end', { stepId: step.id, status: 'ok', durationMs: store.clock.now() - t0 });
      reporter.emit({ type: 'step-finished', at: store.clock.now(), stepId: step.id, outcome: 'ok' });
      return true;
    } catch (err) {
      const f = failureOf(err);
      const saved = ctx.savedData();
      await store.recordResult(op.id, step.id, entry.attempt, { status: 'failed', output: failureJson(f), ...(saved ? { saved } : {}) });
      await audit('step.failed', { stepId: step.id, ...failureJson(f), durationMs: store.clock.now() - t0 });
      reporter.emit({ type: 'step-failed', at: store.clock.now(), stepId: step.id, failure: f });
      return false;
    }
  }

  private context(
    op: OperationRecord,
    plan: Plan,
    step: ExecutableStep<D>,
    outputs: Record<string, JsonValue>,
    signal: AbortSignal,
    reporter: Reporter,
    audit: (kind: string, p: JsonObject) => Promise<unknown>,
  ): StepContext<D> & { savedData(): JsonObject | undefined } {
    let saved: JsonObject | undefined;
    const kinds = { 'ssh-command': 'ssh.command', 'sql-pre-image': 'sql.preimage', 'api-call': 'api.call', note: 'step.note' } as const;
    return {
      opId: op.id,
      plan,
      step,
      deps: this.o.deps,
      signal,
      outputs,
      // Durable before the change: the store writes `saved` only with the result, so it also goes
      // to the audit log now; an in-doubt step's undo data is found there.
      save: async (data) => {
        saved = { value: data };
        await audit('step.saved', { stepId: step.id, saved: data });
      },
      audit: async (kind, detail) => {
        await audit(kinds[kind], { stepId: step.id, ...detail });
      },
      progress: (done, total, note) =>
        reporter.emit({ type: 'step-progress', at: this.o.store.clock.now(), stepId: step.id, done, total, ...(note !== undefined ? { note } : {}) }),
      milestone: (text) => reporter.emit({ type: 'milestone', at: this.o.store.clock.now(), text }),
      privately: (text) => reporter.emit({ type: 'private', at: this.o.store.clock.now(), text }),
      savedData: () => saved,
    };
  }

  /**
   * Tells the thread how an operation ended, again, from the store alone: for an operation a killed
   * process finished (its end state written) before its card said so. The card is rebuilt from the
   * journal — completed steps, failed ones — and the final summary follows. Nothing runs and nothing
   * is written; the caller records the delivery (`Engine.markReported`).
   */
  async replayEnd(op: OperationRecord, reporter: Reporter): Promise<void> {
    const run = lastRunOf(op);
    if (!run) return;
    const last = new Map<string, JournalEntry>();
    for (const e of await this.o.store.listJournal(op.id)) last.set(e.stepId, e);
    reporter.emit({ type: 'started', at: run.startedAt, op: viewOf(op), resumed: true, replay: true });
    for (const [stepId, e] of last) {
      const at = e.resultAt ?? run.endedAt;
      if (e.status === 'ok' || e.status === 'skipped')
        reporter.emit({ type: 'step-finished', at, stepId, outcome: e.status === 'ok' ? (e.reconciled ? 'reconciled' : 'ok') : 'skipped' });
      else if (e.status === 'failed') reporter.emit({ type: 'step-failed', at, stepId, failure: failureFromJson(e.output) });
    }
    reporter.emit({ type: 'finished', at: run.endedAt, state: run.end });
  }

  private async finish(
    op: OperationRecord,
    end: RunEnd,
    startedAt: number,
    audit: (kind: string, p: JsonObject) => Promise<unknown>,
    reporter: Reporter,
    actor?: string,
  ): Promise<void> {
    const { store } = this.o;
    const at = store.clock.now();
    const state = end === 'needs-operator' ? 'in_doubt' : end === 'interrupted' ? 'running' : end;
    const detail = { ...op.detail, lastRun: { startedAt, endedAt: at, end, ...(actor ? { by: actor } : {}) } };
    if (!(await store.updateOperation(op.id, { state, detail }, { owner: this.o.owner }))) {
      // Another replica took the operation over (this one's lease ended): its card is theirs now.
      await audit('operation.lease_lost', { end });
      return;
    }
    // From here until the card shows the end, a kill leaves a finished operation whose thread does not
    // say so: `replayEnd` at the next start-up closes that gap (the kill -9 tests aim here too).
    if (end !== 'interrupted') this.crash.hit(END_POINT, 'after-result');
    // A finished operation frees its hosts; one in doubt or interrupted keeps them.
    if (end === 'succeeded' || end === 'failed' || end === 'aborted') await store.releaseLocksOf(op.id);
    await audit(`operation.${end === 'needs-operator' ? 'in_doubt' : end}`, { durationMs: at - startedAt, ...(actor ? { by: actor } : {}) });
    await store.releaseOperation(op.id, this.o.owner);
    reporter.emit({ type: 'finished', at, state: end, detail: end === 'interrupted' ? 'the bot is restarting; the operation continues when it is back' : '' });
  }
}

/** The crash point of an operation's end (`CHATOPS_CRASH_AT=@end:after-result`): after its end state is written. */
export const END_POINT = '@end';

const RUN_ENDS: readonly RunEnd[] = ['succeeded', 'failed', 'aborted', 'needs-operator'];

/** How the operation's last run ended, as `finish` wrote it (undefined when no run finished). */
export function lastRunOf(op: OperationRecord): { startedAt: number; endedAt: number; end: RunEnd } | undefined {
  const r = op.detail.lastRun as { startedAt?: unknown; endedAt?: unknown; end?: unknown } | undefined;
  if (!r || typeof r.endedAt !== 'number' || typeof r.startedAt !== 'number' || !RUN_ENDS.includes(r.end as RunEnd)) return undefined;
  return { startedAt: r.startedAt, endedAt: r.endedAt, end: r.end as RunEnd };
}

function viewOf(op: OperationRecord): OperationView {
  const plan = op.plan as unknown as Plan;
  return {
    opId: op.id,
    runbook: op.runbook,
    target: op.target,
    summary: plan.summary,
    requester: op.requester,
    approvers: Array.isArray(op.detail.approvers) ? (op.detail.approvers as OperationView['approvers']) : [],
    channelId: op.channelId,
    ...(op.threadTs ? { threadTs: op.threadTs } : {}),
    steps: plan.steps.map((s) => ({ id: s.id, title: s.title, effect: s.effect, ...(s.always ? { always: true } : {}) })),
  };
}
