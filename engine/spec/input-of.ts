/**
 * A runbook's zod input, derived from its command spec: exactly the spec's positionals, options and
 * flags (by args key), each value checked against its type's normalised schema, defaults filled in,
 * unknown keys refused, and the spec's cross-field checks applied. `at=`/`in=` are not part of it:
 * they decide when the runbook runs, which is the scheduler's business, not the runbook's.
 */
import { z } from 'zod';
import type { CommandSpec } from './command-spec.js';
import { SCHEDULE_KEYS } from './spec-builders.js';

export function inputOf(spec: CommandSpec): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const p of spec.positionals) shape[p.key] = p.type.value;
  for (const o of spec.options) {
    if ((SCHEDULE_KEYS as readonly string[]).includes(o.key)) continue;
    shape[o.key] = o.required ? o.type.value : o.default !== undefined ? o.type.value.default(o.default) : o.type.value.optional();
  }
  for (const f of spec.flags) shape[f.key] = z.boolean().default(false);
  const object = z.strictObject(shape);
  const check = spec.check;
  if (!check) return object;
  return object.superRefine((args, ctx) => {
    for (const p of check(args)) ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
  });
}
