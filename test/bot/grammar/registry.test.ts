import { describe, expect, it } from 'vitest';
import { OPERATION_STATES as STORE_OPERATION_STATES, SCHEDULE_STATES as STORE_SCHEDULE_STATES } from '../../../store/store.js';
import { effectOf, scheduledRunAt } from '../../../bot/grammar/command-facts.js';
import { parseCommand } from '../../../bot/grammar/parse-command.js';
import { FAMILIES, SLASH_COMMANDS, allCommands, commandsOf, familyOfSlash, getCommand, usageOf } from '../../../bot/grammar/registry.js';
import { OPERATION_STATES, SCHEDULE_STATES } from '../../../engine/spec/value-types.js';

describe('command registry', () => {
  it('has every command of the runbook, /op and /schedule', () => {
    expect(allCommands().map((c) => c.name)).toEqual([
      'node.drain',
      'node.undrain',
      'node.check',
      'node.evacuate',
      'node.copy-instances',
      'node.status',
      'node.list',
      'instance.inspect',
      'volume.reattach',
      'ip.port-create',
      'ip.detach',
      'ip.check',
      'ip.recover',
      'op.list',
      'op.show',
      'op.resume',
      'op.abort',
      'op.undo',
      'op.export',
      'schedule.list',
      'schedule.cancel',
    ]);
  });

  it('names every command family.verb, uniquely, with a usage line, a summary and examples', () => {
    const names = new Set<string>();
    for (const c of allCommands()) {
      expect(c.name).toBe(`${c.family}.${c.verb}`);
      expect(names.has(c.name)).toBe(false);
      names.add(c.name);
      expect(getCommand(c.name)).toBe(c);
      expect(usageOf(c).startsWith(`/${c.family} ${c.words.join(' ')}`)).toBe(true);
      expect(c.summary.length).toBeGreaterThan(10);
      expect(c.examples.length).toBeGreaterThan(0);
    }
  });

  it('has examples that parse to their own command', () => {
    for (const c of allCommands()) {
      for (const e of c.examples) {
        const r = parseCommand(`/${c.family}`, e);
        expect(r.kind === 'command' && r.command.name, e).toBe(c.name);
      }
    }
  });

  it('has defaults that are what their default text parses to', () => {
    for (const c of allCommands()) {
      for (const o of c.options.filter((x) => x.default !== undefined)) {
        expect(o.type.schema.parse(o.defaultText), `${c.name} ${o.name}`).toEqual(o.default);
      }
    }
  });

  it('gives every option, flag and positional a distinct args key and a description', () => {
    for (const c of allCommands()) {
      const keys = [...c.positionals, ...c.options, ...c.flags].map((x) => x.key);
      expect(new Set(keys).size, c.name).toBe(keys.length);
      for (const x of [...c.positionals, ...c.options, ...c.flags]) expect(x.description.length, `${c.name} ${x.name}`).toBeGreaterThan(3);
    }
  });

  it('classifies effects consistently with approvals', () => {
    for (const c of allCommands()) {
      if (c.kind === 'query') expect([c.effect, c.approval], c.name).toEqual(['read', 'never']);
      if (c.effect === 'destructive' && c.kind === 'runbook') expect(['always', 'policy']).toContain(c.approval);
    }
    expect(getCommand('instance.inspect')!.approval).toBe('always');
    expect(getCommand('node.evacuate')!.effect).toBe('destructive');
  });

  it('tells the effect of a command from its args', () => {
    expect(effectOf({ name: 'node.check', args: { host: 'c01', rebootInstances: false } })).toBe('read');
    expect(effectOf({ name: 'node.check', args: { host: 'c01', rebootInstances: true } })).toBe('change');
    expect(effectOf({ name: 'node.evacuate', args: {} })).toBe('destructive');
    expect(effectOf({ name: 'no.such', args: {} })).toBe('destructive');
  });

  it('tells when a scheduled command runs', () => {
    const now = Date.UTC(2026, 10, 25, 12, 0);
    const at = (text: string) => {
      const r = parseCommand('/node', text);
      if (r.kind !== 'command') throw new Error('not a command');
      return scheduledRunAt(r.command, now);
    };
    expect(at('drain c01 reason=abc')).toBeUndefined();
    expect(at('drain c01 reason=abc in=2h')).toBe(now + 7_200_000);
    expect(at('drain c01 reason=abc at=2026-12-01T02:00Z')).toBe(Date.UTC(2026, 11, 1, 2, 0));
    expect(getCommand('node.drain')!.schedulable).toBe(true);
  });

  it('schedules what an operator plans ahead (drain, undrain, check, reattach), never inspect; at=/in= only where schedulable', () => {
    const schedulable = allCommands()
      .filter((c) => c.schedulable)
      .map((c) => c.name)
      .sort();
    expect(schedulable).toEqual(['node.check', 'node.drain', 'node.undrain', 'volume.reattach']);
    for (const c of allCommands()) {
      const keys = c.options.map((o) => o.key).filter((k) => k === 'at' || k === 'in');
      expect(keys, c.name).toEqual(c.schedulable ? ['at', 'in'] : []);
    }
    expect(() => parseCommand('/instance', 'inspect 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 reason=disk in=2m')).toThrow(/unknown option "in="/);
  });

  it('keeps its state filters equal to the store states', () => {
    expect([...OPERATION_STATES]).toEqual([...STORE_OPERATION_STATES]);
    expect([...SCHEDULE_STATES]).toEqual([...STORE_SCHEDULE_STATES]);
  });
});

describe('slash commands for the manifest', () => {
  it('has one per family, within Slack limits, each with commands', () => {
    expect(SLASH_COMMANDS.map((s) => s.command)).toEqual(['/node', '/instance', '/volume', '/ip', '/op', '/schedule']);
    expect(FAMILIES).toEqual(['node', 'instance', 'volume', 'ip', 'op', 'schedule']);
    for (const s of SLASH_COMMANDS) {
      expect(s.command.length).toBeLessThanOrEqual(32);
      expect(s.description.length).toBeLessThanOrEqual(100);
      expect(s.usageHint.length).toBeLessThanOrEqual(1000);
      expect(commandsOf(s.family).length).toBeGreaterThan(0);
      expect(familyOfSlash(s.command)).toBe(s.family);
      expect(familyOfSlash(s.command.slice(1))).toBe(s.family);
    }
    expect(familyOfSlash('/nope')).toBeUndefined();
  });
});
