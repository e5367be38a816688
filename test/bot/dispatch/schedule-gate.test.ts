import { describe, expect, it } from 'vitest';
import { interpretCommand } from '../../../bot/grammar/interpret-command.js';
import { SCHEDULED_RUNS_AVAILABLE, scheduleRefusal } from '../../../bot/dispatch/schedule-gate.js';
import type { Command } from '../../../core/types.js';

const who = { requester: { userId: 'U024BE7LH', teamId: 'T0001' }, channelId: 'C0001' };
const now = Date.UTC(2026, 10, 25, 12, 0);

function command(text: string): Command {
  const r = interpretCommand({ command: '/node', text, ...who }, { now });
  if (r.kind !== 'command') throw new Error(`${text} did not parse`);
  return r.command;
}

describe('at= and in= until scheduled runs exist', () => {
  it('refuses at= and in= with a message that says nothing was done, and the usage', () => {
    expect(SCHEDULED_RUNS_AVAILABLE).toBe(false);
    for (const [text, key] of [
      ['drain c01 reason=kernel-update at=2026-12-01T02:00Z', 'at'],
      ['drain c01 reason=kernel-update in=2h', 'in'],
    ] as const) {
      const e = scheduleRefusal(command(text));
      expect(e?.code, text).toBe('INPUT_INVALID');
      expect(e?.problems).toEqual([
        {
          path: key,
          message: expect.stringContaining(`scheduled runs are not available in this version of the bot yet, so ${key}= is refused and nothing was done`),
        },
      ]);
      expect(e?.usage).toMatch(/^\/node drain <host> reason=<text> .*\[at=<utc time> \| in=<duration>\]$/);
    }
  });

  it('lets a command without them through', () => {
    expect(scheduleRefusal(command('drain c01 reason=kernel-update'))).toBeUndefined();
    expect(scheduleRefusal(command('undrain c01'))).toBeUndefined();
  });
});
