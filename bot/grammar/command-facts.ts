/** Facts about a parsed command that the dispatcher needs: its effect and when it should run. */
import type { Effect } from '../../core/types.js';
import type { ParsedCommand } from './parse-command.js';
import { getCommand } from './registry.js';

/** The effect of this command with these args (e.g. `/node check` is read-only without reboot-instances). */
export function effectOf(command: Pick<ParsedCommand, 'name' | 'args'>): Effect {
  const spec = getCommand(command.name);
  if (!spec) return 'destructive'; // unknown: assume the worst
  return spec.effectFor ? spec.effectFor(command.args) : spec.effect;
}

/**
 * When a scheduled command should run (epoch ms): `at` as given, or `now + in`. Undefined when the
 * command is to run now (neither `at=` nor `in=` given).
 */
export function scheduledRunAt(command: Pick<ParsedCommand, 'args'>, now: number): number | undefined {
  const { at, in: delay } = command.args;
  if (typeof at === 'number') return at;
  if (typeof delay === 'number') return now + delay;
  return undefined;
}
