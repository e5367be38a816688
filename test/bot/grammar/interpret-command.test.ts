import { describe, expect, it } from 'vitest';
import type { ParseOutcome } from '../../../bot/dispatch/types.js';
import { interpretCommand } from '../../../bot/grammar/interpret-command.js';

const who = { requester: { userId: 'U024BE7LH', teamId: 'T0001' }, channelId: 'C0001' };

describe('interpretCommand', () => {
  it('makes a core Command with requester, channel and the raw text', () => {
    const r = interpretCommand({ command: '/node', text: 'drain <http://c01.example.com|c01.example.com> reason=maintenance', ...who });
    expect(r).toEqual({
      kind: 'command',
      command: {
        family: 'node',
        verb: 'drain',
        name: 'node.drain',
        args: { host: 'c01.example.com', reason: 'maintenance', mode: 'auto', parallel: 1, stopService: true, pinInit: false },
        raw: '/node drain <http://c01.example.com|c01.example.com> reason=maintenance',
        requester: who.requester,
        channelId: 'C0001',
      },
    });
  });

  it('renders help and errors, and fits the dispatcher ParseOutcome', () => {
    const help: ParseOutcome = interpretCommand({ command: '/node', text: '', ...who });
    expect(help.kind === 'help' && help.text).toMatch(/^\/node: /);
    const error = interpretCommand({ command: '/node', text: 'drain c01', ...who });
    expect(error.kind).toBe('error');
    if (error.kind === 'error') {
      expect(error.error.code).toBe('INPUT_INVALID');
      expect(error.text).toContain('missing reason=<text>');
      expect(error.mrkdwn).toContain('missing reason=&lt;text&gt;');
    }
  });

  it('throws UNKNOWN_COMMAND for a slash command that is not ours', () => {
    expect(() => interpretCommand({ command: '/deploy', text: '', ...who })).toThrow(/unknown slash command/);
  });
});
