import { describe, expect, it } from 'vitest';
import { interpretCommand } from '../../../bot/grammar/interpret-command.js';
import { scheduledRunAt } from '../../../bot/grammar/index.js';
import { SCHEDULED_RUNS_AVAILABLE, scheduleRefusal } from '../../../bot/dispatch/schedule-gate.js';
import type { Command } from '../../../core/types.js';

const who = { requester: { userId: 'U024BE7LH', teamId: 'T0001' }, channelId: 'C0001' };
const now = Date.UTC(2026, 10, 25, 12, 0);

function command(text: string): Command {
  const r = interpretCommand({ command: '/node', text, ...who }, { now });
  if (r.kind !== 'command') throw new Error(`${text} did not parse`);
  return r.command;
}

describe('at= and in= now that scheduled runs exist', () => {
  it('lets them through, with the time the run is scheduled for', () => {
    expect(SCHEDULED_RUNS_AVAILABLE).toBe(true);
    for (const [text, runAt] of [
      ['drain c01 reason=kernel-update at=2026-12-01T02:00Z', Date.UTC(2026, 11, 1, 2, 0)],
      ['drain c01 reason=kernel-update in=2h', now + 2 * 3600_000],
      ['undrain c01 in=90s', now + 90_000],
    ] as const) {
      const c = command(text);
      expect(scheduleRefusal(c), text).toBeUndefined();
      expect(scheduledRunAt(c, now), text).toBe(runAt);
    }
  });

  it('a command without them runs now', () => {
    expect(scheduleRefusal(command('drain c01 reason=kernel-update'))).toBeUndefined();
    expect(scheduledRunAt(command('undrain c01'), now)).toBeUndefined();
  });

  it('at= in the past is refused by the grammar, naming now', () => {
    const r = interpretCommand({ command: '/node', text: 'drain c01 reason=kernel at=2026-11-25T11:00Z', ...who }, { now });
    expect(r.kind).toBe('error');
    if (r.kind === 'error') expect(r.error.problems[0]?.message).toMatch(/is not in the future \(now is 2026-11-25T12:00Z\)/);
  });
});
