/**
 * A drain's migrate steps over the wire, as the runner runs them: planned by drainRunbook against a
 * MiniNova, each step checked and then run with what its check saw; a window's steps `size` at a time,
 * the next as soon as one ends. What reached the wire during the moves is returned (Keystone left out).
 */
import { expect } from 'vitest';
import type { CloudDeps, NodeDeps } from '../../actions/deps.js';
import { drainRunbook } from '../../actions/node/drain.js';
import type { Plan } from '../../core/types.js';
import type { ExecutableStep, Observation, StepContext } from '../../engine/runbook.js';
import type { MiniNova } from '../adapters/openstack/mini-nova.js';

export async function drainOverWire(o: { nova: MiniNova; cloud: CloudDeps; n: number; parallel: number }) {
  const servers = o.nova.add(o.n);
  const deps: NodeDeps = { node: o.cloud };
  const draft = await drainRunbook.plan(
    { host: 'c01', reason: 'wire', to: 'c02', mode: 'auto', parallel: o.parallel, stopService: false, pinInit: false },
    deps,
    {} as never,
  );
  const plan = { ...draft, steps: draft.steps.map((x) => ({ ...x })) } as unknown as Plan;
  const steps = drainRunbook.steps(plan, deps).filter((x) => x.id.startsWith('migrate')) as ExecutableStep<NodeDeps>[];
  const before = o.nova.wire.requests.length;
  const ctx = (step: ExecutableStep<NodeDeps>) =>
    ({
      deps,
      step,
      plan,
      signal: new AbortController().signal,
      outputs: {},
      save: async () => undefined,
      audit: async () => undefined,
      progress: () => undefined,
      milestone: () => undefined,
      privately: () => undefined,
    }) as unknown as StepContext<NodeDeps>;
  let next = 0;
  let inFlight = 0;
  let most = 0;
  const results: unknown[] = [];
  const worker = async () => {
    while (next < steps.length) {
      const step = steps[next++]!;
      inFlight++;
      most = Math.max(most, inFlight);
      const seen = (await step.check!(ctx(step))) as Observation;
      expect(seen.state).toBe('not-done');
      results.push(await step.run({ ...ctx(step), checked: seen }));
      inFlight--;
    }
  };
  await Promise.all(Array.from({ length: steps[0]?.window?.size ?? 1 }, worker));
  const reqs = o.nova.wire.requests.slice(before).filter((r) => !r.path.startsWith('/v3/'));
  return { servers, steps, most, reqs, results, lines: reqs.map((r) => `${r.method} ${r.path}`) };
}
