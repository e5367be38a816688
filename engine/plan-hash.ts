/**
 * The plan hash: one sha256 over everything an approval is about (reliability.md, "An approval is for
 * one exact request"): runbook, target, normalised arguments, resolved targets and the steps as shown.
 * Canonical JSON (sorted keys, no undefined, no functions) so that the same plan built twice — in
 * another process, after a restart, with keys inserted in another order — hashes the same, and any
 * difference that a person could care about changes it.
 */
import { createHash } from 'node:crypto';
import type { Plan, PlanStep } from '../core/types.js';
import { ChatOpsError } from '../core/errors.js';

/** Bumped when the hashed shape changes, so old approvals can never match a new-format plan. */
export const PLAN_HASH_VERSION = 1;

/** What the hash covers; everything else in a Plan (summary, warnings, risk) is derived or prose. */
export type HashedPlan = Pick<Plan, 'runbook' | 'target' | 'args' | 'resolved' | 'steps'>;

/** The step fields a person sees in the preview; functions on executable steps are never hashed. */
function stepForHash(s: PlanStep): Record<string, unknown> {
  return {
    id: s.id,
    title: s.title,
    equivalent: s.equivalent,
    effect: s.effect,
    touches: s.touches ?? [],
    always: s.always === true,
  };
}

/**
 * Canonical JSON: object keys sorted by code unit, `undefined` members dropped, -0 written as 0,
 * Dates as ISO strings. Refuses values JSON cannot carry faithfully (NaN, Infinity, bigint,
 * functions, symbols, cycles) rather than hashing something ambiguous.
 */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        if (!Number.isFinite(v)) throw notHashable(path, String(v));
        return JSON.stringify(Object.is(v, -0) ? 0 : v);
      case 'object': {
        if (v instanceof Date) return JSON.stringify(v.toISOString());
        if (seen.has(v)) throw notHashable(path, 'a cycle');
        seen.add(v);
        let out: string;
        if (Array.isArray(v)) {
          // undefined inside arrays becomes null, as JSON.stringify does: positions matter in arrays.
          out = `[${v.map((x, i) => (x === undefined ? 'null' : walk(x, `${path}[${i}]`))).join(',')}]`;
        } else {
          const keys = Object.keys(v)
            .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
            .sort();
          out = `{${keys.map((k) => `${JSON.stringify(k)}:${walk((v as Record<string, unknown>)[k], `${path}.${k}`)}`).join(',')}}`;
        }
        seen.delete(v);
        return out;
      }
      default:
        throw notHashable(path, typeof v);
    }
  };
  return walk(value, '$');
}

function notHashable(path: string, what: string): ChatOpsError {
  return new ChatOpsError(
    'INTERNAL',
    `plan value at ${path} cannot be hashed (${what}); expected JSON data: strings, finite numbers, booleans, null, arrays, objects`,
    {
      details: { path, what },
    },
  );
}

/** sha256 (hex) of the canonical form of the hashed part of a plan. */
export function planHash(p: HashedPlan): string {
  const body = canonicalJson({
    v: PLAN_HASH_VERSION,
    runbook: p.runbook,
    target: p.target,
    args: p.args,
    resolved: p.resolved,
    steps: p.steps.map(stepForHash),
  });
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/** One line per difference between two plans, for the thread when re-planning voids an approval. */
export function planDifferences(before: HashedPlan, after: HashedPlan): string[] {
  const out: string[] = [];
  for (const k of ['runbook', 'target'] as const) {
    if (before[k] !== after[k]) out.push(`${k}: ${before[k]} → ${after[k]}`);
  }
  diffValues('args', before.args, after.args, out);
  diffValues('resolved', before.resolved, after.resolved, out);
  const bs = new Map(before.steps.map((s) => [s.id, s]));
  const as = new Map(after.steps.map((s) => [s.id, s]));
  for (const [id, s] of as) {
    const old = bs.get(id);
    if (!old) out.push(`step added: ${id} (${s.title})`);
    else if (canonicalJson(stepForHash(old)) !== canonicalJson(stepForHash(s))) out.push(`step changed: ${id} (${s.title})`);
  }
  for (const [id, s] of bs) if (!as.has(id)) out.push(`step removed: ${id} (${s.title})`);
  if (out.length === 0 && before.steps.map((s) => s.id).join('\n') !== after.steps.map((s) => s.id).join('\n')) out.push('steps reordered');
  return out;
}

function diffValues(path: string, a: unknown, b: unknown, out: string[]): void {
  if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) return;
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) diffValues(`${path}.${k}`, a[k], b[k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.every((x) => typeof x !== 'object') && b.every((x) => typeof x !== 'object')) {
    const sa = new Set(a.map((x) => canonicalJson(x)));
    const sb = new Set(b.map((x) => canonicalJson(x)));
    const added = [...sb].filter((x) => !sa.has(x));
    const removed = [...sa].filter((x) => !sb.has(x));
    if (added.length) out.push(`${path}: added ${added.join(', ')}`);
    if (removed.length) out.push(`${path}: removed ${removed.join(', ')}`);
    if (!added.length && !removed.length) out.push(`${path}: order changed`);
    return;
  }
  out.push(`${path}: ${canonicalJson(a ?? null)} → ${canonicalJson(b ?? null)}`);
}
