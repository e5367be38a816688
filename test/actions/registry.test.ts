import { describe, expect, it } from 'vitest';
import { ACTION_SPECS, QUERIES, REGISTRY, RUNBOOKS } from '../../actions/index.js';
import { allCommands, getCommand } from '../../bot/grammar/registry.js';
import { parseCommand } from '../../bot/grammar/parse-command.js';
import { QUERY_RENDERERS } from '../../bot/render/query-renderers.js';
import { SCHEDULE_KEYS } from '../../engine/spec/spec-builders.js';
import { usageOf } from '../../engine/spec/usage.js';

/** The args a spec example parses to, without `at=`/`in=` (the scheduler's, never the runbook's). */
function exampleArgs(family: string, example: string): Record<string, unknown> {
  const r = parseCommand(`/${family}`, example);
  if (r.kind !== 'command') throw new Error(`${example} is not a command`);
  const args = { ...r.command.args };
  for (const k of SCHEDULE_KEYS) delete args[k];
  return args;
}

describe('the registry of actions/ (one registration per command)', () => {
  it('is what the grammar knows, spec for spec (the grammar adds only /op and /schedule)', () => {
    for (const spec of ACTION_SPECS) expect(getCommand(spec.name), spec.name).toBe(spec);
    expect(
      allCommands()
        .filter((c) => !ACTION_SPECS.includes(c))
        .every((c) => c.family === 'op' || c.family === 'schedule'),
    ).toBe(true);
    expect(new Set(ACTION_SPECS.map((s) => s.name)).size).toBe(ACTION_SPECS.length);
  });

  it('registers runbooks with runbook specs and queries with query specs', () => {
    for (const r of REGISTRY) {
      if (r.kind === 'runbook') {
        expect(r.spec.kind, r.spec.name).toBe('runbook');
        expect(r.runbook.name).toBe(r.spec.name);
        expect(r.runbook.spec).toBe(r.spec);
        expect(r.runbook.usage).toBe(usageOf(r.spec));
      } else if (r.kind === 'query') {
        expect(r.spec.kind, r.spec.name).toBe('query');
        expect([r.query.name, r.query.spec, r.query.usage]).toEqual([r.spec.name, r.spec, usageOf(r.spec)]);
      } else {
        expect(['runbook', 'query'], r.spec.name).toContain(r.spec.kind);
      }
    }
    expect(RUNBOOKS.map((r) => r.name)).toEqual([
      'node.drain',
      'node.undrain',
      'node.check',
      'node.evacuate',
      'node.copy-instances',
      'instance.inspect',
      'volume.reattach',
      'ip.port-create',
      'ip.detach',
      'ip.recover',
    ]);
    expect([...QUERIES.keys()]).toEqual(['node.status', 'node.list', 'ip.check']);
  });

  it("accepts every example of a built command with the runbook's or query's input, unchanged (parser and input agree)", () => {
    for (const r of REGISTRY) {
      if (r.kind === 'planned') continue;
      const input = r.kind === 'runbook' ? r.runbook.input : r.query.input;
      for (const e of r.spec.examples) {
        const args = exampleArgs(r.spec.family, e);
        const parsed = input.safeParse(args);
        expect(parsed.success ? parsed.data : parsed.error.issues, `${r.spec.name}: ${e}`).toEqual(args);
      }
    }
  });

  it('refuses what its spec does not declare, `at`/`in` included, naming the key', () => {
    for (const r of REGISTRY) {
      if (r.kind === 'planned') continue;
      const input = r.kind === 'runbook' ? r.runbook.input : r.query.input;
      const args = exampleArgs(r.spec.family, r.spec.examples[0]!);
      const extra = input.safeParse({ ...args, bogus: 1 });
      expect(extra.success, r.spec.name).toBe(false);
      expect(JSON.stringify(extra.error?.issues)).toContain('bogus');
      expect(input.safeParse({ ...args, at: Date.UTC(2026, 11, 1) }).success, `${r.spec.name} at`).toBe(false);
    }
  });

  it("checks the spec's types and cross-field rules again (the engine validates what it is handed)", () => {
    const drain = RUNBOOKS.find((r) => r.name === 'node.drain')!;
    expect(drain.input.safeParse({ host: 'c01', reason: 'disk swap', parallel: 17 }).success).toBe(false);
    expect(drain.input.safeParse({ host: 'c01', reason: 'disk swap', mode: 'fast' }).success).toBe(false);
    const same = drain.input.safeParse({ host: 'c01', reason: 'disk swap', to: 'c01' });
    expect(same.success).toBe(false);
    expect(same.error?.issues[0]?.message).toBe('to must differ from host (both are c01)');
    expect(drain.input.parse({ host: 'c01', reason: 'disk swap' })).toEqual({
      host: 'c01',
      reason: 'disk swap',
      mode: 'auto',
      parallel: 1,
      stopService: true,
      pinInit: false,
    });
  });

  it('has a renderer for every query', () => {
    expect([...QUERY_RENDERERS.keys()].sort()).toEqual([...QUERIES.keys()].sort());
  });
});
