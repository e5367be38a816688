/**
 * Undo of a finished operation as an operation of its own: a plan of "Undo: <step>" steps, newest
 * first, for every step that completed and can undo itself, each fed what the step saved before it
 * changed anything. It is planned, shown, approved and journaled like any other operation; its plan
 * hash covers the saved data, so an approval is for undoing exactly those changes.
 */
import { ChatOpsError } from '../core/errors.js';
import type { Plan, PlanStep } from '../core/types.js';
import type { JournalEntry, OperationRecord, Store } from '../store/store.js';
import type { ExecutableStep, JsonValue, Runbook } from './runbook.js';

export const UNDO_SUFFIX = ':undo';
export const isUndoRunbook = (name: string): boolean => name.endsWith(UNDO_SUFFIX);

type UndoStore = Pick<Store, 'getOperation' | 'listJournal' | 'listAudit' | 'listOperations'>;

interface Undoable {
  step: ExecutableStep<unknown>;
  entry: JournalEntry;
  saved: JsonValue | undefined;
}

/** What each completed step saved: from its result, else from the audit (a reconciled step). */
async function undoables<D>(store: UndoStore, orig: Runbook<never, D>, op: OperationRecord, deps: D): Promise<Undoable[]> {
  const journal = await store.listJournal(op.id);
  const audit = (await store.listAudit({ operationId: op.id, limit: 10_000 })).filter((a) => a.kind === 'step.saved');
  const steps = orig.steps(op.plan as unknown as Plan, deps) as ExecutableStep<unknown>[];
  const out: Undoable[] = [];
  for (const step of steps) {
    const done = journal.filter((e) => e.stepId === step.id && e.status === 'ok').pop();
    if (!done || !step.undo || step.effect === 'read') continue;
    const fromAudit = audit.filter((a) => a.payload.stepId === step.id).pop()?.payload.saved as JsonValue | undefined;
    out.push({ step, entry: done, saved: (done.saved?.value as JsonValue | undefined) ?? fromAudit });
  }
  return out.reverse();
}

/** The runbook that undoes operation `args.of` of runbook `orig`. */
export function undoRunbook<D>(orig: Runbook<never, D>, store: UndoStore): Runbook<never, D> {
  const name = `${orig.name}${UNDO_SUFFIX}`;
  const source = async (of: string) => {
    const op = await store.getOperation(of);
    if (!op || op.runbook !== orig.name) throw new ChatOpsError('OPERATION_NOT_FOUND', `no ${orig.name} operation ${of} to undo`, { details: { of } });
    if (!['succeeded', 'failed', 'aborted'].includes(op.state)) {
      throw new ChatOpsError('NOT_UNDOABLE', `operation ${of} is ${op.state}; only a finished operation can be undone`, { details: { of } });
    }
    return op;
  };
  return {
    name,
    usage: `/op undo <operation id>`,
    input: orig.input as never,
    locks: (plan) => (orig.locks ? orig.locks((plan.resolved as { sourcePlan: Plan }).sourcePlan) : []),
    async plan(args, deps) {
      const of = (args as unknown as { of: string }).of;
      const op = await source(of);
      const others = (await store.listOperations({ runbook: name, limit: 1000 })).filter(
        (o) => (o.plan.args as { of?: string }).of === of && ['running', 'in_doubt', 'paused', 'succeeded'].includes(o.state),
      );
      if (others.length)
        throw new ChatOpsError('NOT_UNDOABLE', `operation ${of} is already being undone or was undone by ${others[0]!.id}`, {
          details: { of, by: others[0]!.id },
        });
      const list = await undoables(store, orig, op, deps);
      if (!list.length) throw new ChatOpsError('NOT_UNDOABLE', `operation ${of} has no completed step that can be undone`, { details: { of } });
      const steps: PlanStep[] = list.map(({ step }) => ({
        id: `undo:${step.id}`,
        title: `Undo: ${step.title}`,
        equivalent: step.equivalent.map((e) => `undo of: ${e}`),
        effect: step.effect,
        ...(step.touches ? { touches: step.touches } : {}),
      }));
      return {
        target: op.target,
        args: { of },
        resolved: { sourcePlan: op.plan, saved: list.map((u) => ({ stepId: u.step.id, attempt: u.entry.attempt, saved: u.saved ?? null })) },
        steps,
        summary: `undo ${list.length} step(s) of ${orig.name} ${op.target} (${of})`,
      };
    },
    steps(plan, deps) {
      const sourcePlan = (plan.resolved as { sourcePlan: Plan }).sourcePlan;
      const saved = new Map((plan.resolved as { saved: { stepId: string; saved: JsonValue }[] }).saved.map((s) => [s.stepId, s.saved]));
      const byId = new Map((orig.steps(sourcePlan, deps) as ExecutableStep<D>[]).map((s) => [s.id, s]));
      return plan.steps.map((p) => {
        const origId = p.id.slice('undo:'.length);
        const s = byId.get(origId);
        if (!s?.undo) throw new ChatOpsError('INTERNAL', `step ${origId} of ${orig.name} cannot undo itself any more`, { details: { step: origId } });
        const undo = s.undo.bind(s);
        return { ...p, run: async (ctx) => undo({ ...ctx, plan: sourcePlan, step: s }, saved.get(origId) ?? undefined) };
      });
    },
  };
}
