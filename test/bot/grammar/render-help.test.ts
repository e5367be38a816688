import { describe, expect, it } from 'vitest';
import { InputError } from '../../../core/errors.js';
import { SLACK_LIMITS } from '../../../bot/render/slack-limits.js';
import { parseCommand } from '../../../bot/grammar/parse-command.js';
import { FAMILIES, allCommands, commandsOf, usageOf } from '../../../bot/grammar/registry.js';
import { renderHelp } from '../../../bot/grammar/render-help.js';
import { renderInputError } from '../../../bot/grammar/render-input-error.js';

function errorOf(slash: string, text: string): InputError {
  try {
    parseCommand(slash, text);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('renderHelp', () => {
  it('lists every command of a family with its usage line and summary', () => {
    for (const family of FAMILIES) {
      const { text } = renderHelp({ family });
      for (const c of commandsOf(family)) {
        expect(text).toContain(usageOf(c));
        expect(text).toContain(c.summary);
      }
      expect(text).toContain(`/${family} help <command>`);
    }
  });

  it('shows a command: usage, description, every option with allowed values and default, effect, example', () => {
    const { text } = renderHelp({ family: 'node', command: 'node.drain' });
    expect(text.split('\n')[0]).toBe(usageOf(allCommands()[0]!));
    expect(text).toContain('mode=live|block|auto');
    expect(text).toContain('Default: auto.');
    expect(text).toContain('parallel=1-16');
    expect(text).toContain('reason=<text> (required)');
    expect(text).toContain('at= and in= exclude each other');
    expect(text).toContain('Effect: change; shows a plan first');
    expect(text).toContain('/node drain c01 reason=maintenance');
    expect(renderHelp({ family: 'node', command: 'node.undrain' }).text).toContain('migrate-back (flag, a word on its own)');
    expect(renderHelp({ family: 'node', command: 'node.copy-instances' }).text).toContain('Unsupported upstream:');
    expect(renderHelp({ family: 'instance', command: 'instance.inspect' }).text).toContain('always needs approval');
  });

  it('escapes < > & in mrkdwn and marks syntax as code', () => {
    for (const c of allCommands()) {
      const { mrkdwn } = renderHelp({ family: c.family, command: c.name });
      expect(mrkdwn, c.name).not.toMatch(/[<>]/);
      expect(mrkdwn.split('\n')[0]).toBe(`\`${usageOf(c).replace(/</g, '&lt;').replace(/>/g, '&gt;')}\``);
    }
    expect(renderHelp({ family: 'node' }).mrkdwn).toContain('*/node*:');
  });

  it('stays within a Slack section for every family and command', () => {
    const all = [...FAMILIES.map((family) => renderHelp({ family })), ...allCommands().map((c) => renderHelp({ family: c.family, command: c.name }))];
    for (const r of all) {
      expect(r.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect(r.mrkdwn.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    }
  });

  it('uses configured slash command names', () => {
    expect(renderHelp({ family: 'node', command: 'node.status' }, { node: '/os-node' }).text).toMatch(/^\/os-node status <host>/);
  });
});

describe('renderInputError', () => {
  it('lists every problem, the usage and the help command', () => {
    const { text } = renderInputError(errorOf('/node', 'drain c01 mode=fast'));
    expect(text).toMatch(/^That command has 2 problems:/);
    expect(text).toContain('  - mode: got "fast": expected one of live, block, auto');
    expect(text).toContain('  - reason: missing reason=<text>');
    expect(text).toContain('Usage: /node drain <host> reason=<text>');
    expect(text).toContain('Help: /node help drain');
    expect(renderInputError(errorOf('/ip', 'port create')).text).toContain('Help: /ip help port create');
    expect(renderInputError(errorOf('/node', 'drian')).text).toMatch(/Help: \/node help$/);
  });

  it('escapes what was typed in mrkdwn, so it cannot ping a channel', () => {
    const { mrkdwn } = renderInputError(errorOf('/node', 'status &lt;!channel&gt;'));
    expect(mrkdwn).toContain('&lt;!channel&gt;');
    expect(mrkdwn).not.toMatch(/<!channel>/);
    expect(mrkdwn).toContain('*Usage:*\n`/node status &lt;host&gt;`');
  });
});

describe('renderHelp: allowed values', () => {
  it('lists the states /op list accepts, since its usage line only says <state>', () => {
    const { text } = renderHelp({ family: 'op', command: 'op.list' });
    expect(text).toContain('state=<state>');
    expect(text).toContain('in_doubt');
  });
});
