/**
 * A query: a read-only command that is not an operation (`/node status`, `/node list`). No plan, no
 * approval, no journal: the dispatcher validates the args against the spec-derived input, calls
 * `answer` and renders what it returns (bot/render/query-renderers.ts, by the query's name).
 */
import type { z } from 'zod';
import type { LockRecord } from '../store/store.js';
import type { CommandSpec } from './spec/command-spec.js';
import { inputOf } from './spec/input-of.js';
import { usageOf } from './spec/usage.js';

/** What a query may read beyond its deps: the time, and which operations hold which hosts. */
export interface QueryContext {
  now: number;
  locks(): Promise<readonly LockRecord[]>;
}

export interface Query<A = Record<string, unknown>, R = unknown, D = unknown> {
  name: string;
  usage: string;
  spec: CommandSpec;
  input: z.ZodType<A>;
  /** Read-only: what to show. Throws a ChatOpsError when it cannot be read at all. */
  answer(args: A, deps: D, ctx: QueryContext): Promise<R>;
}

export function defineQuery<A, R, D = unknown>(def: { spec: CommandSpec; answer: Query<A, R, D>['answer'] }): Query<A, R, D> {
  if (def.spec.kind !== 'query') throw new Error(`${def.spec.name} is declared as a ${def.spec.kind}, not a query`);
  return { ...def, name: def.spec.name, usage: usageOf(def.spec), input: inputOf(def.spec) as unknown as z.ZodType<A> };
}
