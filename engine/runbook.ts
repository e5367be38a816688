/**
 * The runbook contract: one runbook per file in actions/<family>/, exporting its command spec, a
 * read-only `plan()` and the steps it runs; `defineRunbook` derives its name, usage line and zod
 * input from the spec. `plan()` only reads; only steps change the world. The runner is the only
 * caller of `run`/`check`/`reconcile`/`undo`.
 */
import type { z } from 'zod';
import type { Effect, Plan, PlanStep, Requester } from '../core/types.js';
import { planHash } from './plan-hash.js';
import type { CommandSpec } from './spec/command-spec.js';
import { inputOf } from './spec/input-of.js';
import { usageOf } from './spec/usage.js';

/** What a step may store in the journal: plain JSON, nothing else. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** What a step reads back from the real world when asked "did this already happen?". */
export interface Observation {
  /** done: the effect is in place; not-done: it is provably absent; unknown: cannot tell. */
  state: 'done' | 'not-done' | 'unknown';
  /** One line for the thread and the journal: what was seen ("service is disabled", "3 rows in scratch"). */
  detail?: string;
  /** When done: the output the step would have returned (e.g. the id of the port it created). */
  output?: JsonValue;
  /** When not done: what check read (a server, say), handed to the run that follows; never journaled. */
  seen?: unknown;
}

/** Kinds of audit entries a step writes before it acts (reliability.md invariant 3). */
export type StepAuditKind = 'ssh-command' | 'sql-pre-image' | 'api-call' | 'note';

/** Everything a step gets when it runs. `D` is the composition root's deps (adapters, config). */
export interface StepContext<D = unknown> {
  opId: string;
  plan: Plan;
  step: PlanStep;
  deps: D;
  /** Aborted on operator abort or the step's timeout; pass it to every adapter call. */
  signal: AbortSignal;
  /**
   * Journal what the step is about to change (a DB pre-image, where files go, created ids) so it
   * can be undone; durable when the promise resolves. Call it before the change, not after.
   */
  save(data: JsonValue): Promise<void>;
  /** Audit what is about to leave the process (SSH argv, SQL pre-image); durable on resolve. */
  audit(kind: StepAuditKind, detail: Record<string, JsonValue>): Promise<void>;
  /** Progress of a long step (instance 37 of 200); never waits for Slack. */
  progress(done: number, total: number, note?: string): void;
  /** A line worth a thread reply ("all 212 instances moved"); use sparingly, failures are automatic. */
  milestone(text: string): void;
  /** A message only the requester sees (ephemeral), never the channel: user data an inspection read. */
  privately(text: string): void;
  /** Outputs of steps that completed earlier in this operation, by step id. */
  outputs: Readonly<Record<string, JsonValue>>;
  /** What `check` observed just before this run (same attempt), so run need not read it again. */
  checked?: Observation;
}

/** A PlanStep plus the code that carries it out. Rebuilt from the stored plan by `steps(plan)`. */
export interface ExecutableStep<D = unknown> extends PlanStep {
  /** Does the change. Returns an output stored in the journal (ids it created…), or nothing. */
  run(ctx: StepContext<D>): Promise<JsonValue | void>;
  /**
   * Read-only: is the effect already in place? Called before `run`; `done` makes the step a no-op
   * (a service already disabled). Also used for in-doubt steps when `reconcile` is absent.
   */
  check?(ctx: StepContext<D>): Promise<Observation>;
  /**
   * Read-only: the step has an intent and no result (the bot died mid-step). Read the real state
   * (where is the instance now? is the service disabled?) and say done / not-done / unknown.
   * Without check or reconcile, an in-doubt step is always put in front of an operator.
   */
  reconcile?(ctx: StepContext<D>): Promise<Observation>;
  /** Reverses the step from what it saved (`ctx.save`). */
  undo?(ctx: StepContext<D>, saved: JsonValue | undefined): Promise<void>;
  /** Upper bound for one run; the step's signal is aborted after it (default: the runner's). */
  timeoutMs?: number;
  /**
   * Consecutive steps of one `group` run up to `size` at a time, a sliding window: the next starts
   * as soon as any ends (a drain's migrations, `parallel=N`). Each is still journaled on its own.
   * After a failure or an abort none starts; those in flight finish.
   */
  window?: { group: string; size: number };
}

/** What `plan()` returns; `finalizePlan` adds the runbook name, risk and hash. */
export interface PlanDraft {
  target: string;
  args: Readonly<Record<string, unknown>>;
  resolved: Readonly<Record<string, unknown>>;
  steps: PlanStep[];
  summary: string;
  warnings?: string[];
}

/** Context of a planning call (who asks matters to some runbooks; time is injected). */
export interface PlanContext {
  requester: Requester;
  now: number;
}

/** One runbook. `A` is the parsed input, `D` the deps the composition root hands down. */
export interface Runbook<A = Record<string, unknown>, D = unknown> {
  /** Registry key, the Command's `name`, e.g. "node.drain". */
  name: string;
  /** The command that asks for it (absent for runbooks no one types: undo, test fixtures). */
  spec?: CommandSpec;
  /** One line shown on bad input, e.g. "/node drain <host> reason=<text> [to=<host>]". */
  usage: string;
  input: z.ZodType<A>;
  /** Read-only look-ups only: builds what would be done. */
  plan(args: A, deps: D, ctx: PlanContext): Promise<PlanDraft>;
  /** The executable steps for a stored plan, in plan order, one per plan step (same ids). */
  steps(plan: Plan, deps: D): ExecutableStep<D>[];
  /** Hosts this plan needs to itself while it runs (one operation per host); default: none. */
  locks?(plan: Plan): string[];
  /**
   * What a restarted bot does with an operation of this runbook that was running: `continue` it
   * (default), or run only its cleanup steps, before any other operation (an inspection: a guest
   * paused with its disk attached must not wait for the rest of a bot's start-up).
   */
  afterRestart?: 'continue' | 'cleanup';
}

const EFFECT_RANK: Record<Effect, number> = { read: 0, change: 1, destructive: 2 };

/** The strongest effect among the steps (a plan with no steps is read-only). */
export function strongestEffect(steps: readonly PlanStep[]): Effect {
  let risk: Effect = 'read';
  for (const s of steps) if (EFFECT_RANK[s.effect] > EFFECT_RANK[risk]) risk = s.effect;
  return risk;
}

/** Turns a runbook's draft into a Plan with risk and hash; strips functions from the steps. */
export function finalizePlan(runbook: string, draft: PlanDraft): Plan {
  const steps: PlanStep[] = draft.steps.map((s) => {
    const p: PlanStep = { id: s.id, title: s.title, equivalent: [...s.equivalent], effect: s.effect };
    if (s.touches) p.touches = [...s.touches];
    if (s.always) p.always = true;
    return p;
  });
  const base = { runbook, target: draft.target, args: draft.args, resolved: draft.resolved, steps };
  const plan: Plan = { ...base, risk: strongestEffect(steps), summary: draft.summary, hash: planHash(base) };
  if (draft.warnings?.length) plan.warnings = [...draft.warnings];
  return plan;
}

/** Pure steps → plan steps (for runbooks whose plan() builds executable steps directly). */
export function toPlanSteps(steps: readonly ExecutableStep<never>[]): PlanStep[] {
  return steps.map(({ id, title, equivalent, effect, touches, always }) => ({
    id,
    title,
    equivalent,
    effect,
    ...(touches ? { touches } : {}),
    ...(always ? { always } : {}),
  }));
}

/** What a runbook file writes; name, usage and input come from the spec. */
export interface RunbookDefinition<A, D> extends Pick<Runbook<A, D>, 'plan' | 'steps' | 'locks' | 'afterRestart'> {
  spec: CommandSpec;
}

/**
 * A runbook from its spec: `name` is the spec's, `usage` its usage line, `input` its derived zod
 * schema (input-of.ts). `A` is the args type the runbook reads; test/actions/registry.test.ts holds
 * that every registered spec's examples pass the input, so the two cannot disagree unseen.
 */
export function defineRunbook<A, D>(def: RunbookDefinition<A, D>): Runbook<A, D> & { spec: CommandSpec } {
  if (def.spec.kind !== 'runbook') throw new Error(`${def.spec.name} is declared as a ${def.spec.kind}, not a runbook`);
  return { ...def, name: def.spec.name, usage: usageOf(def.spec), input: inputOf(def.spec) as unknown as z.ZodType<A> };
}
