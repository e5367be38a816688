/**
 * `/node drain <host> reason=…` — planned maintenance (runbook.md §1): disable the compute service
 * with the reason, list the instances across projects, migrate them `parallel` at a time and verify
 * each one, check the host is empty, stop nova-compute over SSH, optionally move its init files
 * aside, and record where every instance came from (undrain's migrate-back reads it).
 *
 * One step per instance (per batch with parallel > 1), so the journal knows which instances moved
 * and a restarted bot resumes at the next one; every step reads Nova before it acts.
 */
import type { Server } from '../../adapters/openstack/cloud.js';
import { ChatOpsError, InputError, isChatOpsError } from '../../core/errors.js';
import type { PlanStep } from '../../core/types.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import { blockMigrationOf, moveEquivalent, moveKindOf, moveInstance, movesObserver, observeMove, type PlannedInstance } from '../steps/migrate-instances.js';
import type { NovaObserver } from '../steps/nova-observer.js';
import { movesCounted, quarterMarks } from '../steps/moves-counted.js';
import { checkEmptyStep, disableStep, listStep, pinInitStep, recordStep, stopStep, type DrainPlanData } from './drain-steps.js';
import { defineRunbook, type ExecutableStep, type JsonValue } from '../../engine/runbook.js';
import { differentHosts, opt, pos, reasonOption, scheduleOptions, command } from '../../engine/spec/spec-builders.js';
import { usageOf } from '../../engine/spec/usage.js';
import { HOST, YES_NO, choice, intRange } from '../../engine/spec/value-types.js';

export const drainSpec = command({
  family: 'node',
  words: ['drain'],
  summary: 'Planned maintenance: disable the node, move every instance off, stop nova-compute.',
  description:
    'Disables scheduling onto the node with the reason, migrates its instances (one by one or N at a time, to a given host or where the scheduler picks), checks the node is empty, stops nova-compute and optionally moves its init files aside so configuration management cannot restart it. Remembers where every instance came from, for undrain.',
  positionals: [pos('host', HOST, 'The compute node to drain.')],
  options: [
    reasonOption(),
    opt('to', HOST, 'Destination host for every instance.', { defaultText: 'the scheduler picks' }),
    opt('mode', choice(['live', 'block', 'auto']), 'live: shared storage; block: live block migration; auto: decide from the instance.', {
      default: 'auto',
      defaultText: 'auto',
    }),
    opt('parallel', intRange(1, 16), 'How many migrations run at a time.', { default: 1, defaultText: '1' }),
    opt('stop-service', YES_NO, 'Stop nova-compute once the node is empty.', { default: true, defaultText: 'yes' }),
    opt('pin-init', YES_NO, 'Move the init files aside so Puppet cannot restart nova-compute.', { default: false, defaultText: 'no' }),
    ...scheduleOptions(),
  ],
  exclusive: [['at', 'in']],
  schedulable: true,
  check: differentHosts('host', 'host', 'to', 'to'),
  kind: 'runbook',
  effect: 'change',
  approval: 'policy',
  examples: [
    'drain c01 reason=maintenance',
    'drain c01.example.com reason="disk swap in rack 4" to=c02 mode=block parallel=4',
    'drain c01 reason=kernel-update pin-init=yes at=2026-12-01T02:00Z',
  ],
});

/** drain's args (input-of.ts derives the schema from drainSpec; `at`/`in` are the scheduler's, not drain's). */
export type DrainArgs = {
  host: string;
  reason: string;
  to?: string;
  mode: 'live' | 'block' | 'auto';
  parallel: number;
  stopService: boolean;
  pinInit: boolean;
};

/**
 * The instances in the order they move, live ones first, in groups of `size`: one step each. A plan
 * made today has groups of one, run `parallel` at a time as a sliding window (the next move starts
 * as soon as any ends); plans stored before the window had groups of `parallel` (`migrate-batch:k`)
 * and are run as they were approved.
 */
export function batchesOf(instances: readonly PlannedInstance[], parallel: number): PlannedInstance[][] {
  const ordered = [...instances.filter((i) => i.kind === 'live'), ...instances.filter((i) => i.kind === 'cold')];
  const out: PlannedInstance[][] = [];
  for (let k = 0; k < ordered.length; k += parallel) out.push(ordered.slice(k, k + parallel));
  return out;
}

/** Step id of a group: the instance UUID for a group of one. */
export const migrateStepId = (batch: readonly PlannedInstance[], k: number) =>
  batch.length === 1 && batch[0] ? `migrate:${batch[0].id}` : `migrate-batch:${k + 1}`;

function migrateSteps(d: DrainPlanData, c: CloudDeps | undefined, batched: boolean): ExecutableStep<NodeDeps>[] {
  const bm = blockMigrationOf(d.mode);
  const batches = batchesOf(d.instances, batched ? d.parallel : 1);
  const total = d.instances.length;
  const marks = quarterMarks(total);
  const window = !batched && d.parallel > 1 ? { group: 'migrate', size: d.parallel } : undefined;
  const counter = movesCounted(batches.map((b, k) => ({ id: migrateStepId(b, k), instances: b.length })));
  let before = 0;
  // One observer for all the moves of this run (checks and moves): checks asked together are one
  // read, and a tick reads what changed since the previous one, whichever step it was for.
  let shared: NovaObserver | undefined;
  const observerOf = (cd: CloudDeps) => (shared ??= movesObserver(cd, d.host));
  return batches.map((batch, k) => {
    const doneBefore = before;
    before += batch.length;
    const names = batch.map((i) => i.name).join(', ');
    const step: PlanStep = {
      id: migrateStepId(batch, k),
      title: `${batch.length === 1 ? `Migrate ${names}` : `Migrate ${batch.length} instances (${names})`}${batch.some((i) => i.kind === 'cold') ? ' (cold, stays SHUTOFF)' : ''}`,
      equivalent: batch.flatMap((i) => moveEquivalent(i, { dest: d.to, blockMigration: bm, ...(c?.cliPrefix ? { prefix: c.cliPrefix } : {}) })),
      effect: 'change',
      touches: batch.map((i) => i.id),
    };
    return {
      ...step,
      ...(window ? { window } : {}),
      // Bounded by the cloud's migration timeout per instance (the abort happens inside), plus slack.
      ...(c ? { timeoutMs: c.migrationTimeoutMs + 5 * 60_000 } : {}),
      async check(ctx) {
        const cd = cloudOf(ctx.deps);
        const observer = observerOf(cd);
        const seen = await Promise.all(batch.map((i) => observeMove(cd, i, d.host, observer, ctx.signal)));
        if (seen.every((o) => o.state === 'done'))
          return { state: 'done', detail: seen.map((o) => o.detail).join('; '), output: { moved: seen.map((o) => o.output ?? null) } };
        return { state: 'not-done', detail: seen.map((o) => o.detail).join('; '), seen: seen.map((o) => o.seen) };
      },
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        const checked = (ctx.checked?.seen ?? []) as (Server | undefined)[];
        let finished = 0;
        // one batched read of Nova a tick for the whole batch, whatever `parallel` is
        const observer = observerOf(cd);
        const settled = await Promise.allSettled(
          batch.map((i, n) =>
            moveInstance(cd, i, {
              ...(checked[n]?.id === i.id ? { seen: checked[n] } : {}),
              source: d.host,
              dest: d.to,
              blockMigration: bm,
              signal: ctx.signal,
              observer,
              ...(window || batched ? {} : { next: (batches[k + 1] ?? []).map((x) => x.id) }),
              beforeStart: (detail) => ctx.audit('api-call', { op: i.kind === 'live' ? 'live-migrate' : 'migrate', ...detail }),
            }).finally(() => {
              if (batched) ctx.progress(doneBefore + ++finished, total, i.name);
            }),
          ),
        );
        const moved = settled.map((r) => (r.status === 'fulfilled' ? r.value : null));
        const failed = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
        if (failed.length === 1) throw failed[0];
        if (failed.length) {
          throw new ChatOpsError(
            isChatOpsError(failed[0]) ? failed[0].code : 'STEP_FAILED',
            `${failed.length} migrations of this batch failed: ${failed.map((e) => e.message).join(' | ')}`,
          );
        }
        const { from, reached } = batched ? { from: doneBefore, reached: doneBefore + batch.length } : counter.ended(step.id, ctx.outputs);
        if (!batched) ctx.progress(reached, total, names);
        for (const m of marks) if (m > from && m <= reached) ctx.milestone(`${reached} of ${total} instances moved off ${d.host}`);
        return { moved: moved as unknown as JsonValue };
      },
    };
  });
}

export const drainRunbook = defineRunbook<DrainArgs, NodeDeps>({
  spec: drainSpec,
  locks: (plan) => [plan.target, ...(typeof plan.args.to === 'string' ? [plan.args.to] : [])],
  async plan(args, deps) {
    const c = cloudOf(deps);
    const svc = await c.cloud.getComputeService(args.host, 'nova-compute');
    if (!svc) throw new InputError([{ path: 'host', message: `Nova has no nova-compute service on ${args.host}` }], usageOf(drainSpec));
    const warnings: string[] = [];
    if (args.to) {
      const dest = await c.cloud.getComputeService(args.to, 'nova-compute');
      if (!dest) throw new InputError([{ path: 'to', message: `Nova has no nova-compute service on ${args.to}` }], usageOf(drainSpec));
      if (dest.state !== 'up' || dest.status !== 'enabled')
        warnings.push(`The destination ${args.to} is ${dest.state} and ${dest.status}: Nova will refuse migrations to it.`);
    }
    const servers = (await c.cloud.listServersOnHost({ host: args.host })).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const instances: PlannedInstance[] = [];
    const leftAlone: { id: string; name: string; status: string }[] = [];
    for (const s of servers) {
      const kind = moveKindOf(s.status);
      if (kind && s.taskState === null) instances.push({ id: s.id, name: s.name, status: s.status, kind });
      else leftAlone.push({ id: s.id, name: s.name, status: s.taskState ? `${s.status}/${s.taskState}` : s.status });
    }
    for (const i of instances.filter((x) => x.status !== 'ACTIVE')) {
      warnings.push(
        `${i.name} (${i.id}) was ${i.status} before this run: ${i.kind === 'cold' ? 'it is cold-migrated and stays SHUTOFF' : 'it is live-migrated as it is'}.`,
      );
    }
    for (const l of leftAlone)
      warnings.push(`${l.name} (${l.id}) is ${l.status}: Nova cannot migrate it, so it is left on ${args.host} and named here; the emptiness check allows it.`);
    if (svc.state === 'down') warnings.push(`nova-compute on ${args.host} is down: live migrations off it will fail.`);
    if (args.pinInit && c.commands(args.host).initFiles.length === 0)
      warnings.push(`The ${c.commands(args.host).preset} preset has no init files to move aside: that step records nothing to move.`);
    warnings.push(
      'A failed or stuck migration stops the drain: the node stays disabled, nova-compute keeps running, the remaining instances stay where they are (Resume or Abort on the card).',
    );
    const data: DrainPlanData = {
      host: args.host,
      reason: args.reason,
      mode: args.mode,
      parallel: args.parallel,
      stopService: args.stopService,
      pinInit: args.pinInit,
      instances,
      leftAlone,
      ...(args.to ? { to: args.to } : {}),
    };
    const steps = drainSteps(data, c);
    const where = args.to ? `to ${args.to}` : 'where the scheduler picks';
    return {
      target: args.host,
      args,
      resolved: {
        service: { status: svc.status, state: svc.state, disabledReason: svc.disabledReason },
        instances: instances as unknown as JsonValue,
        leftAlone,
      },
      steps,
      summary: `drain ${args.host} (${args.reason}): ${instances.length} instances ${where}, ${args.parallel} at a time${leftAlone.length ? `, ${leftAlone.length} left alone` : ''}`,
      warnings,
    };
  },
  steps(plan, deps) {
    const a = plan.args as DrainArgs;
    const r = plan.resolved as { instances: PlannedInstance[]; leftAlone: DrainPlanData['leftAlone'] };
    const data: DrainPlanData = {
      host: a.host,
      reason: a.reason,
      mode: a.mode,
      parallel: a.parallel,
      stopService: a.stopService,
      pinInit: a.pinInit,
      instances: r.instances,
      leftAlone: r.leftAlone,
      ...(a.to ? { to: a.to } : {}),
    };
    return drainSteps(
      data,
      deps.node,
      plan.steps.some((s) => s.id.startsWith('migrate-batch:')),
    );
  },
});

function drainSteps(d: DrainPlanData, c: CloudDeps | undefined, batched = false): ExecutableStep<NodeDeps>[] {
  const steps: ExecutableStep<NodeDeps>[] = [disableStep(d, c), listStep(d), ...migrateSteps(d, c, batched), checkEmptyStep(d)];
  if (d.stopService) steps.push(stopStep(d, c));
  if (d.pinInit) steps.push(pinInitStep(d, c));
  steps.push(recordStep(d));
  return steps;
}
