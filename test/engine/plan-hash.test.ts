import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, planDifferences, planHash, type HashedPlan } from '../../engine/plan-hash.js';
import { finalizePlan, strongestEffect } from '../../engine/runbook.js';

const base: HashedPlan = {
  runbook: 'node.drain',
  target: 'c01',
  args: { host: 'c01', reason: 'maintenance', parallel: 2 },
  resolved: { instances: ['0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'], service: { disabled: false } },
  steps: [
    { id: 'disable', title: 'Disable scheduling', equivalent: ['openstack compute service set --disable c01 nova-compute'], effect: 'change' },
    { id: 'migrate:0f1e', title: 'Migrate', equivalent: ['openstack server migrate 0f1e… --live'], effect: 'change', touches: ['0f1e'] },
  ],
};

describe('plan hash', () => {
  it('is a sha256 hex digest and stable across key order', () => {
    const reordered: HashedPlan = {
      steps: base.steps.map((s) => Object.fromEntries(Object.entries(s).reverse()) as typeof s),
      resolved: { service: { disabled: false }, instances: ['0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'] },
      args: { parallel: 2, reason: 'maintenance', host: 'c01' },
      target: 'c01',
      runbook: 'node.drain',
    };
    expect(planHash(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(planHash(reordered)).toBe(planHash(base));
  });

  it('changes with every part a person approves: args, resolved targets, row counts, steps and their order', () => {
    const h = planHash(base);
    const variants: HashedPlan[] = [
      { ...base, runbook: 'node.evacuate' },
      { ...base, target: 'c02' },
      { ...base, args: { ...base.args, parallel: 3 } },
      { ...base, resolved: { ...base.resolved, instances: [] } },
      { ...base, resolved: { ...base.resolved, rows: 1 } },
      { ...base, steps: [...base.steps].reverse() },
      { ...base, steps: [{ ...base.steps[0]!, effect: 'destructive' }, base.steps[1]!] },
      { ...base, steps: [{ ...base.steps[0]!, always: true }, base.steps[1]!] },
      { ...base, steps: [base.steps[0]!, { ...base.steps[1]!, equivalent: ['openstack server migrate 0f1e… --live --block-migration'] }] },
    ];
    const hashes = variants.map(planHash);
    expect(new Set([h, ...hashes]).size).toBe(variants.length + 1);
  });

  it('ignores undefined members and functions on executable steps, but refuses NaN and cycles', () => {
    const withUndef = { ...base, args: { ...base.args, to: undefined } };
    expect(planHash(withUndef)).toBe(planHash(base));
    const withRun = { ...base, steps: base.steps.map((s) => ({ ...s, run: async () => undefined })) };
    expect(planHash(withRun)).toBe(planHash(base));
    expect(() => planHash({ ...base, resolved: { n: Number.NaN } })).toThrow(/cannot be hashed/);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    expect(() => canonicalJson(cyc)).toThrow(/cycle/);
  });

  it('canonical JSON parses back to the same value for any JSON data', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const once = canonicalJson(v);
        expect(canonicalJson(JSON.parse(once))).toBe(once);
      }),
    );
  });

  it('lists the differences an operator should see when a plan drifts', () => {
    const after: HashedPlan = {
      ...base,
      resolved: { instances: ['0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', '11111111-2222-3333-4444-555555555555'], service: { disabled: true } },
      steps: [...base.steps, { id: 'migrate:1111', title: 'Migrate 1111', equivalent: ['openstack server migrate 1111…'], effect: 'change' }],
    };
    expect(planDifferences(base, after)).toEqual([
      'resolved.instances: added "11111111-2222-3333-4444-555555555555"',
      'resolved.service.disabled: false → true',
      'step added: migrate:1111 (Migrate 1111)',
    ]);
    expect(planDifferences(base, base)).toEqual([]);
  });

  it('finalizePlan derives risk and hash and strips code from steps', () => {
    const plan = finalizePlan('node.drain', {
      target: 'c01',
      args: base.args,
      resolved: base.resolved,
      steps: base.steps.map((s) => ({ ...s, run: () => undefined }) as typeof s),
      summary: 's',
    });
    expect(plan.hash).toBe(planHash(base));
    expect(plan.risk).toBe('change');
    expect(Object.keys(plan.steps[0]!)).not.toContain('run');
    expect(strongestEffect([])).toBe('read');
  });
});
