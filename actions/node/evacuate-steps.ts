/**
 * The steps of /node evacuate after fencing: the instance list read again (drift), then either
 * Nova's evacuations (method=api) or the chapter's SQL with its Placement, reboot and volume
 * follow-ups (method=db), then one verification of every instance. Each step reads the real state
 * in `check`, so a restarted bot neither repeats nor skips a move.
 */
import type { Server } from '../../adapters/openstack/cloud.js';
import { cliCommands, commandLine } from '../../adapters/openstack/cli-commands.js';
import type { PreImageEntry } from '../../adapters/db.js';
import { ChatOpsError, isChatOpsError } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';
import type { PlanStep } from '../../core/types.js';
import type { ExecutableStep, JsonValue, Observation } from '../../engine/runbook.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import { evacuateInstance, observeEvacuation, verifyMoved, type EvacuatedInstance } from '../steps/evacuate-instance.js';
import { pollDelay } from '../steps/migrate-instances.js';
import { movesCounted } from '../steps/moves-counted.js';
import { reattachedSince, reattachVolume, utcMs, type VolumePair } from '../steps/reattach-volumes.js';

/** What the steps need, rebuilt from the stored plan. */
export interface EvacuatePlanData {
  from: string;
  to: string;
  reason: string;
  method: 'api' | 'db';
  parallel: number;
  instances: EvacuatedInstance[];
  /** Placement resource providers of the two hosts. */
  fromProvider: string | null;
  toProvider: string | null;
  /** method=db: the statements as planned, and the row counts the apply asserts. */
  sql?: {
    toNode: string;
    expected: { instances: number; portBindings: number; portBindingLevels: number };
    statements: { statement: string; display: string; rows: number }[];
  };
}

type Step = ExecutableStep<NodeDeps>;
const pre = (c: CloudDeps | undefined) => (c?.cliPrefix ? `${c.cliPrefix} ` : '');
const readAgain = async (): Promise<Observation> => ({ state: 'not-done', detail: 'read-only step: read again' });

export function listStep(d: EvacuatePlanData): Step {
  const known = new Set(d.instances.map((i) => i.id));
  return {
    id: 'list-instances',
    title: `List the instances Nova places on ${d.from} (all projects)`,
    equivalent: [
      commandLine(cliCommands.listServersOnHost(d.from).argv),
      ...(d.method === 'db' ? ['mysql nova -e "select uuid from instances where host = \'' + d.from + '\' and deleted = 0"'] : []),
    ],
    effect: 'read',
    touches: [d.from],
    reconcile: readAgain,
    async run(ctx) {
      const servers = await cloudOf(ctx.deps).cloud.listServersOnHost({ host: d.from });
      const added = servers.filter((s) => !known.has(s.id));
      if (added.length) {
        throw new ChatOpsError(
          'PLAN_DRIFT',
          `${added.length} instance(s) appeared on ${d.from} after the plan was made (${added
            .slice(0, 10)
            .map((s) => `${s.name} ${s.id}`)
            .join(', ')}): nothing was moved; ask again for a plan that includes them`,
          { details: { added: added.map((s) => s.id) } },
        );
      }
      return { instances: servers.map((s) => ({ id: s.id, name: s.name, status: s.status })) };
    },
  };
}

/**
 * method=api: one step per instance, `parallel` at a time as a sliding window (the next starts as
 * soon as any ends). Plans stored before the window had one step per batch (`evacuate-batch:k`,
 * `batched`): they run as they were approved.
 */
export function apiEvacuateSteps(d: EvacuatePlanData, c: CloudDeps | undefined, batched = false): Step[] {
  const size = batched ? d.parallel : 1;
  const batches: EvacuatedInstance[][] = [];
  for (let k = 0; k < d.instances.length; k += size) batches.push(d.instances.slice(k, k + size));
  const total = d.instances.length;
  const idOf = (batch: readonly EvacuatedInstance[], k: number) => (batch.length === 1 && batch[0] ? `evacuate:${batch[0].id}` : `evacuate-batch:${k + 1}`);
  const window = !batched && d.parallel > 1 ? { group: 'evacuate', size: d.parallel } : undefined;
  const counter = movesCounted(batches.map((b, k) => ({ id: idOf(b, k), instances: b.length })));
  let before = 0;
  return batches.map((batch, k) => {
    const doneBefore = before;
    before += batch.length;
    const names = batch.map((i) => i.name).join(', ');
    const plan: PlanStep = {
      id: idOf(batch, k),
      title: batch.length === 1 ? `Evacuate ${names} to ${d.to}` : `Evacuate ${batch.length} instances to ${d.to} (${names})`,
      equivalent: batch.map(
        (i) =>
          `${pre(c)}${commandLine(cliCommands.evacuateServer(i.id, { host: d.to }).argv)}  # then wait for ${i.status === 'SHUTOFF' ? 'SHUTOFF' : 'ACTIVE'} on ${d.to}`,
      ),
      effect: 'destructive',
      touches: batch.map((i) => i.id),
    };
    return {
      ...plan,
      ...(window ? { window } : {}),
      ...(c ? { timeoutMs: c.migrationTimeoutMs + 5 * 60_000 } : {}),
      async check(ctx) {
        const cd = cloudOf(ctx.deps);
        const seen = await Promise.all(batch.map((i) => observeEvacuation(cd, i, d.from, d.to)));
        const detail = seen.map((o) => o.detail).join('; ');
        if (seen.every((o) => o.done)) return { state: 'done', detail, output: { moved: seen.map((o) => o.output ?? null) } };
        return { state: 'not-done', detail, seen: seen.map((o) => o.seen) };
      },
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        const checked = (ctx.checked?.seen ?? []) as (Server | undefined)[];
        let finished = 0;
        const settled = await Promise.allSettled(
          batch.map((i, n) =>
            evacuateInstance(cd, i, {
              from: d.from,
              to: d.to,
              signal: ctx.signal,
              ...(checked[n]?.id === i.id ? { seen: checked[n] } : {}),
              beforeStart: (detail) => ctx.audit('api-call', { op: 'evacuate', ...detail }),
            }).finally(() => {
              if (batched) ctx.progress(doneBefore + ++finished, total, i.name);
            }),
          ),
        );
        const failed = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
        if (failed.length === 1) throw failed[0];
        if (failed.length)
          throw new ChatOpsError(
            isChatOpsError(failed[0]) ? failed[0].code : 'STEP_FAILED',
            `${failed.length} evacuations of this batch failed: ${failed.map((e) => e.message).join(' | ')}`,
          );
        if (!batched) ctx.progress(counter.ended(plan.id, ctx.outputs).reached, total, names);
        return { moved: settled.map((r) => (r.status === 'fulfilled' ? r.value : null)) as unknown as JsonValue };
      },
    };
  });
}

/** Where nova and neutron place the instances: all on `to`, all on `from`, or split (reported). */
async function sqlState(c: CloudDeps, d: EvacuatePlanData): Promise<Observation> {
  if (!c.db)
    throw new ChatOpsError('CONFIG_INVALID', `evacuate method=db needs clouds.${c.name}.db (nova, nova_api, neutron, cinder)`, {
      details: { key: `clouds.${c.name}.db` },
    });
  const locs = await c.db.instanceLocations(d.instances.map((i) => i.id));
  const onTo = locs.filter((l) => l.host === d.to && l.node === d.sql?.toNode && l.bindings.every((b) => b.host === d.to));
  const onFrom = locs.filter((l) => l.host === d.from && l.bindings.every((b) => b.host === d.from));
  // Found done (a restarted bot, or a new attempt after a kill): the commit time is not known, but no
  // later step of this operation has run yet, so "now" is a safe bound for the reboot and re-attach
  // checks (a reboot or attachment after it is this operation's). Without it they compared with NaN.
  if (onTo.length === locs.length)
    return {
      state: 'done',
      detail: `nova and neutron place all ${locs.length} instance(s) on ${d.to}`,
      output: { at: new Date(c.clock.now()).toISOString(), rows: locs.length },
    };
  if (onFrom.length === locs.length) return { state: 'not-done', detail: `nova and neutron place all ${locs.length} instance(s) on ${d.from}` };
  const odd = locs.filter((l) => !onTo.includes(l) && !onFrom.includes(l));
  return {
    state: 'unknown',
    detail: `the rows disagree: ${onTo.length} on ${d.to}, ${onFrom.length} on ${d.from}, ${odd.length} split (${odd
      .slice(0, 5)
      .map((l) => `${l.uuid}: host ${l.host}, node ${l.node}, bindings ${l.bindings.map((b) => b.host).join('/')}`)
      .join('; ')})`,
  };
}

/** Only the pre-images of the transactions that committed (a deadlock retry journals its first attempt too). */
function committedEntries(entries: PreImageEntry[], writeIds?: readonly string[]): PreImageEntry[] {
  if (writeIds) return entries.filter((e) => writeIds.includes(e.writeId));
  const last = new Map<string, string>();
  for (const e of entries) last.set(e.database, e.writeId);
  return entries.filter((e) => last.get(e.database) === e.writeId);
}

export function sqlSteps(d: EvacuatePlanData, c: CloudDeps | undefined): Step[] {
  const sql = d.sql!;
  const steps: Step[] = [
    {
      id: 'sql-move',
      title: `Move ${sql.expected.instances} instance(s) to ${d.to} in nova and neutron (one transaction per database server, pre-images kept for /op undo)`,
      equivalent: sql.statements.map((s) => `${s.display};  -- expect ${s.rows} row(s)`),
      effect: 'destructive',
      touches: [d.from, d.to, ...d.instances.map((i) => i.id)],
      check: (ctx) => sqlState(cloudOf(ctx.deps), d),
      reconcile: (ctx) => sqlState(cloudOf(ctx.deps), d),
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        const entries: PreImageEntry[] = [];
        const r = await cd.db!.applyEvacuate({ from: d.from, to: d.to, toNode: sql.toNode, instanceUuids: d.instances.map((i) => i.id) }, sql.expected, {
          operationId: ctx.opId,
          journal: {
            // durable before the UPDATE runs: the runner's save and audit resolve once written
            preImage: async (e) => {
              entries.push(e);
              await ctx.save({ entries: entries as unknown as JsonValue });
              await ctx.audit('sql-pre-image', { statement: e.statement, database: e.database, rows: e.rows.length, display: e.display });
            },
          },
        });
        await ctx.save({ entries: committedEntries(entries, r.writeIds) as unknown as JsonValue, writeIds: r.writeIds });
        ctx.milestone(
          `SQL move committed (${r.statements.map((s) => `${s.statement}: ${s.rows} row(s)`).join(', ')}${r.singleTransaction ? ', one transaction' : ''})`,
        );
        return { at: new Date(cd.clock.now()).toISOString(), writeIds: r.writeIds, rows: r.statements.map((s) => ({ statement: s.statement, rows: s.rows })) };
      },
      async undo(ctx, saved) {
        const cd = cloudOf(ctx.deps);
        if (!cd.db) throw new ChatOpsError('CONFIG_INVALID', `undo needs clouds.${cd.name}.db`, { details: { key: `clouds.${cd.name}.db` } });
        const s = saved as { entries?: PreImageEntry[]; writeIds?: string[] } | undefined;
        const entries = committedEntries(s?.entries ?? [], s?.writeIds);
        if (!entries.length) return;
        const r = await cd.db.undo(entries, {
          operationId: ctx.opId,
          journal: { preImage: (e) => ctx.audit('sql-pre-image', { statement: e.statement, database: e.database, rows: e.rows.length, display: e.display }) },
        });
        ctx.milestone(`SQL move undone: ${r.statements.map((x) => `${x.statement}: ${x.rows} row(s)`).join(', ')}`);
      },
    },
    {
      id: 'move-allocations',
      title: `Move the instances' Placement allocations from ${d.from} to ${d.to}`,
      equivalent: d.instances.map(
        (i) =>
          `${pre(c)}openstack --os-placement-api-version 1.28 resource provider allocation set ${i.id} --allocation rp=${d.toProvider ?? '<' + d.to + '>'},… --project-id … --user-id …`,
      ),
      effect: 'change',
      touches: d.instances.map((i) => i.id),
      async check(ctx) {
        const cd = cloudOf(ctx.deps);
        const left: string[] = [];
        for (const i of d.instances) if (d.fromProvider && (await cd.cloud.getConsumerAllocations(i.id))[d.fromProvider]) left.push(i.name);
        return left.length
          ? { state: 'not-done', detail: `${left.length} instance(s) still allocated on ${d.from}` }
          : { state: 'done', detail: `no instance allocated on ${d.from}` };
      },
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        if (!d.fromProvider || !d.toProvider) throw new ChatOpsError('STEP_FAILED', `Placement has no resource provider for ${d.fromProvider ? d.to : d.from}`);
        await ctx.save({ from: d.fromProvider, to: d.toProvider, consumers: d.instances.map((i) => i.id) });
        let n = 0;
        for (const i of d.instances) {
          await ctx.audit('api-call', { op: 'move-allocations', consumer: i.id, from: d.fromProvider, to: d.toProvider });
          await cd.cloud.moveConsumerAllocations(i.id, d.fromProvider, d.toProvider);
          ctx.progress(++n, d.instances.length, i.name);
        }
        return { moved: n };
      },
      async undo(ctx, saved) {
        const cd = cloudOf(ctx.deps);
        const s = saved as { from: string; to: string; consumers: string[] } | undefined;
        for (const id of s?.consumers ?? []) await cd.cloud.moveConsumerAllocations(id, s!.to, s!.from);
      },
    },
  ];
  // Stopped instances stay stopped (a later start recreates their XML); the others are hard-rebooted.
  for (const i of d.instances.filter((x) => x.status !== 'SHUTOFF')) steps.push(rebootStep(d, i, c));
  const pairs: VolumePair[] = d.instances.flatMap((i) =>
    i.volumes.map((v) => ({ instanceId: i.id, instanceName: i.name, volumeId: v.volumeId, device: v.device })),
  );
  for (const p of pairs) steps.push(reattachStep(p, c, 'sql-move'));
  return steps;
}

const sqlMovedAt = (outputs: Readonly<Record<string, JsonValue>>): number => utcMs((outputs['sql-move'] as { at?: string } | undefined)?.at ?? null);

function rebootStep(d: EvacuatePlanData, i: EvacuatedInstance, c: CloudDeps | undefined): Step {
  return {
    id: `reboot:${i.id}`,
    title: `Hard-reboot ${i.name} on ${d.to} (recreates its guest definition there)`,
    equivalent: [`${pre(c)}${commandLine(cliCommands.rebootServer(i.id, 'HARD').argv)}`],
    effect: 'change',
    touches: [i.id],
    async check(ctx) {
      const cd = cloudOf(ctx.deps);
      const since = sqlMovedAt(ctx.outputs);
      const rebooted = (await cd.cloud.listInstanceActions(i.id)).some((a) => a.action === 'reboot' && utcMs(a.startTime) >= since - 1000);
      const s = await cd.cloud.getServer(i.id);
      if (!s) return { state: 'done', detail: `${i.name} no longer exists` };
      if (rebooted && s.taskState === null && s.status === 'ACTIVE') return { state: 'done', detail: `${i.name} was rebooted after the move and is ACTIVE` };
      return {
        state: 'not-done',
        detail: `${i.name} is ${s.status}${s.taskState ? `/${s.taskState}` : ''}${rebooted ? ' (reboot under way)' : ''}`,
        seen: { rebooted },
      };
    },
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      if (!(ctx.checked?.seen as { rebooted?: boolean } | undefined)?.rebooted) {
        await ctx.audit('api-call', { op: 'reboot-hard', server: i.id });
        await cd.cloud.rebootServer(i.id, 'HARD');
      }
      const deadline = cd.clock.now() + 180_000;
      for (let k = 0; ; k++) {
        const s = await cd.cloud.getServer(i.id);
        if (!s || (s.taskState === null && s.status === 'ACTIVE')) return { status: s?.status ?? 'gone' };
        if (s.status === 'ERROR' || cd.clock.now() > deadline)
          throw new ChatOpsError(
            'STEP_FAILED',
            `${i.name} (${i.id}) is ${s.status}${s.taskState ? `/${s.taskState}` : ''} on ${s.host ?? '?'} after its hard reboot`,
            { details: { server: i.id } },
          );
        await sleep(pollDelay(k, 2000), ctx.signal);
      }
    },
  };
}

/** Re-attaches one volume on its device; done when Cinder shows it attached again since `after`'s step. */
export function reattachStep(p: VolumePair, c: CloudDeps | undefined, after: string | null): Step {
  const pfx = pre(c);
  return {
    id: `reattach:${p.instanceId}:${p.volumeId}`,
    title: `Re-attach volume ${p.volumeId} to ${p.instanceName}${p.device ? ` on ${p.device}` : ''}`,
    equivalent: [
      `${pfx}${commandLine(cliCommands.detachVolume(p.instanceId, p.volumeId).argv)}`,
      `${pfx}${commandLine(cliCommands.attachVolume(p.instanceId, p.volumeId, p.device ?? undefined).argv)}`,
    ],
    effect: 'change',
    touches: [p.instanceId, p.volumeId],
    async check(ctx) {
      const since = after ? sqlMovedAt(ctx.outputs) : Number((ctx.outputs['list-pairs'] as { at?: number } | undefined)?.at ?? NaN);
      const done = Number.isFinite(since) && (await reattachedSince(cloudOf(ctx.deps), p, since));
      return done
        ? { state: 'done', detail: `volume ${p.volumeId} was attached again since` }
        : { state: 'not-done', detail: `volume ${p.volumeId} not re-attached yet` };
    },
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      return reattachVolume(cd, p, {
        signal: ctx.signal,
        beforeCall: (op) => ctx.audit('api-call', { op: `volume-${op}`, server: p.instanceId, volume: p.volumeId, device: p.device }),
      });
    },
  };
}

export function verifyStep(d: EvacuatePlanData): Step {
  return {
    id: 'verify',
    title: `Verify every instance: on ${d.to}, ports bound there, volumes attached, Placement allocations on ${d.to}`,
    equivalent: [
      commandLine(cliCommands.listServersOnHost(d.to).argv),
      'openstack port show <port> -c binding_host_id',
      'openstack server volume list <server>',
      'openstack resource provider allocation show <server>',
    ],
    effect: 'read',
    reconcile: readAgain,
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      const problems: string[] = [];
      const notes: string[] = [];
      for (const i of d.instances) {
        const r = await verifyMoved(cd, i, d.to, d.toProvider ?? undefined, d.fromProvider ?? undefined, d.method === 'api');
        problems.push(...r.problems);
        notes.push(...r.notes);
      }
      if (problems.length)
        throw new ChatOpsError('STEP_FAILED', `${problems.length} disagreement(s) after the evacuation: ${problems.slice(0, 10).join('; ')}`, {
          details: { problems },
        });
      ctx.milestone(
        `${d.instances.length} instance(s) of ${d.from} run on ${d.to}; ports, volumes and allocations agree.${notes.length ? ` Note: ${notes.length} instance(s) keep an allocation on ${d.from} until its nova-compute starts and cleans up; /node undrain ${d.from} waits for that.` : ''} ${d.from} stays forced down and disabled: /node undrain ${d.from} brings it back once its guests are gone.`,
      );
      return { instances: d.instances.length, notes };
    },
  };
}
