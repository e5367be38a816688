/**
 * `at=`/`in=` ask for a scheduled run. Scheduled runs exist (engine/scheduled-runs.ts, jobs/), so
 * this switch is on and nothing is refused here; turning it off refuses them again before the
 * acknowledgement, with nothing done (running such a command now would lie to whoever asked for a window).
 */
import { InputError } from '../../core/errors.js';
import type { Command } from '../../core/types.js';
import { SCHEDULE_KEYS } from '../../engine/spec/spec-builders.js';
import { usageOf } from '../../engine/spec/usage.js';
import { getCommand, type CommandNames } from '../grammar/registry.js';

/** True: scheduled runs exist, and `scheduleRefusal` refuses nothing. */
export const SCHEDULED_RUNS_AVAILABLE = true;

/** The refusal of a command asking for a scheduled run, or undefined when it may go on. */
export function scheduleRefusal(command: Pick<Command, 'name' | 'args'>, names: CommandNames = {}): InputError | undefined {
  if (SCHEDULED_RUNS_AVAILABLE) return undefined;
  const given = SCHEDULE_KEYS.filter((k) => command.args[k] !== undefined);
  const spec = getCommand(command.name);
  if (!given.length || !spec) return undefined;
  return new InputError(
    given.map((k) => ({
      path: k,
      message: `scheduled runs are not available in this version of the bot yet, so ${k}= is refused and nothing was done; run the command without ${k}= when the window comes`,
    })),
    usageOf(spec, names),
  );
}
