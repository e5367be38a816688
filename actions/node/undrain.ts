/**
 * `/node undrain <host> [migrate-back]` (runbook.md §1, the way back): init files back, start
 * nova-compute over SSH, verify it runs and logged "Connected to AMQP" after the start and that Nova
 * sees it up, enable the compute service, and with migrate-back return every instance the last
 * drain moved (and that still exists) to this host, one step per instance. A return that fails is reported and the
 * others go on: the host is in service again either way.
 */
import type { Server } from '../../adapters/openstack/cloud.js';
import { amqpConnectedSince, moveFile } from '../../adapters/ssh.js';
import { cliCommands, commandLine } from '../../adapters/openstack/cli-commands.js';
import { ChatOpsError, InputError } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import { existing, initAsidePath, serviceRunning } from './drain-steps.js';
import {
  blockMigrationOf,
  moveEquivalent,
  moveInstance,
  moveKindOf,
  observingMoves,
  type MoveResult,
  type PlannedInstance,
} from '../steps/migrate-instances.js';
import { defineRunbook, type ExecutableStep, type JsonValue } from '../../engine/runbook.js';
import { command, flag, pos, scheduleOptions } from '../../engine/spec/spec-builders.js';
import { usageOf } from '../../engine/spec/usage.js';
import { HOST } from '../../engine/spec/value-types.js';
import { evacuatedState, leftoverGuests, pendingEvacuations } from '../steps/evacuated-guests.js';

/** After an evacuation the host stays fenced until its guests are gone (plan data, part of the hash). */
interface Fenced {
  forcedDown: boolean;
  /** Nova evacuation records off the host that its nova-compute must complete before `--up`. */
  apiRecords: number;
  /** Instances the SQL way moved off the host: none of them may be left on the node. */
  sqlUuids: string[];
}

export const undrainSpec = command({
  family: 'node',
  words: ['undrain'],
  summary: 'Bring a drained node back: init files, nova-compute, AMQP check, enable; optionally migrate back.',
  description:
    'Puts the init files back, starts nova-compute, verifies it runs and reached AMQP, enables the compute service and, with migrate-back, moves the instances drained off it back to it.',
  positionals: [pos('host', HOST, 'The compute node to bring back.')],
  flags: [flag('migrate-back', 'Migrate the instances that drain moved off back to this node.')],
  options: [...scheduleOptions()],
  exclusive: [['at', 'in']],
  schedulable: true,
  kind: 'runbook',
  effect: 'change',
  approval: 'policy',
  examples: ['undrain c01', 'undrain c01 migrate-back', 'undrain c01 at=2026-12-01T06:00Z'],
});

/** undrain's args (input-of.ts derives the schema from undrainSpec). */
export type UndrainArgs = {
  host: string;
  migrateBack: boolean;
};

type Step = ExecutableStep<NodeDeps>;
/** Instance to bring home, with where it is now (plan time). */
type Returning = PlannedInstance & { from: string };

/** The log and Nova clocks may differ a little from the bot's: a connection this much before the start still counts. */
const CLOCK_SLACK_MS = 1000;

function steps(host: string, back: Returning[], c: CloudDeps | undefined, drainOp: string | undefined, fenced: Fenced): Step[] {
  const pre = c?.cliPrefix ? `${c.cliPrefix} ` : '';
  const files = c ? c.commands(host).initFiles : [];
  const out: Step[] = [
    {
      id: 'init-files-back',
      title: `Put nova-compute's init files back on ${host}`,
      equivalent: files.length ? files.map((f) => `ssh ${host} mv ${initAsidePath(f)} ${f}`) : ['# the preset names no init files: nothing to put back'],
      effect: 'change',
      touches: [host],
      async check(ctx) {
        const cd = cloudOf(ctx.deps);
        const aside = await existing(cd, host, cd.commands(host).initFiles.map(initAsidePath));
        return aside.length
          ? { state: 'not-done', detail: `${aside.length} init file(s) aside` }
          : { state: 'done', detail: 'no init file aside', output: { restored: [] } };
      },
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        const cmds = cd.commands(host);
        const aside = new Set(await existing(cd, host, cmds.initFiles.map(initAsidePath)));
        const restored: string[] = [];
        for (const f of cmds.initFiles) {
          if (!aside.has(initAsidePath(f))) continue;
          const cmd = moveFile(initAsidePath(f), f);
          await ctx.audit('ssh-command', { host, command: cmd.display });
          await cd.shell.run(host, cmd, { sudo: cd.sudo });
          restored.push(f);
        }
        if (restored.length && cmds.afterInitFilesMoved) await cd.shell.run(host, cmds.afterInitFilesMoved, { sudo: cd.sudo });
        return { restored };
      },
    },
    ...(fenced.sqlUuids.length ? [noGuestsStep(host, fenced.sqlUuids)] : []),
    {
      id: 'start-service',
      title: `Start nova-compute on ${host} over SSH`,
      equivalent: [c ? c.shell.equivalent(host, c.commands(host).start, { sudo: c.sudo }) : `ssh ${host} (the cloud's start command)`],
      effect: 'change',
      touches: [host],
      async check(ctx) {
        return (await serviceRunning(cloudOf(ctx.deps), host))
          ? { state: 'done', detail: 'nova-compute is already running', output: { startedAt: null } }
          : { state: 'not-done', detail: 'nova-compute is not running' };
      },
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        const cmd = cd.commands(host).start;
        const startedAt = cd.clock.now();
        await ctx.audit('ssh-command', { host, command: cmd.display });
        await cd.shell.run(host, cmd, { sudo: cd.sudo, timeoutMs: 120_000 });
        return { startedAt };
      },
    },
    ...(fenced.apiRecords ? [evacuationsCompletedStep(host)] : []),
    ...(fenced.forcedDown ? [forceUpStep(host, c)] : []),
    {
      id: 'verify-service',
      title: `Verify nova-compute runs on ${host}, reached AMQP after the start, and Nova sees it up`,
      equivalent: [
        c ? c.shell.equivalent(host, c.commands(host).status.command, { sudo: c.sudo }) : `ssh ${host} (status)`,
        c ? c.shell.equivalent(host, c.commands(host).amqpLines(5), { sudo: c.sudo }) : `ssh ${host} grep AMQP (log)`,
        `${pre}${commandLine(cliCommands.listComputeServices({ host, binary: 'nova-compute' }).argv)}`,
      ],
      effect: 'read',
      touches: [host],
      reconcile: async () => ({ state: 'not-done', detail: 'read-only step: read again' }),
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        const startedAt = (ctx.outputs['start-service'] as { startedAt?: number | null } | undefined)?.startedAt ?? null;
        const since = startedAt === null ? 0 : startedAt - CLOCK_SLACK_MS;
        const deadline = cd.clock.now() + 120_000;
        for (;;) {
          const running = await serviceRunning(cd, host);
          const log = await cd.shell.run(host, cd.commands(host).amqpLines(20), { sudo: cd.sudo });
          const conn = amqpConnectedSince(log.stdout, since);
          const svc = await cd.cloud.getComputeService(host, 'nova-compute');
          if (running && conn && svc?.state === 'up') {
            return { connectedAt: conn.at, server: conn.server ?? null, novaState: svc.state };
          }
          const last = `running: ${running ? 'yes' : 'no'}; AMQP connection ${startedAt === null ? 'in the log' : 'after the start'}: ${conn ? 'yes' : 'not yet'}; Nova: ${svc?.state ?? 'no service'}`;
          if (cd.clock.now() > deadline)
            throw new ChatOpsError('STEP_FAILED', `nova-compute on ${host} did not come back within 120 s (${last})`, { details: { host } });
          await sleep(2000, ctx.signal);
        }
      },
    },
    {
      id: 'enable-service',
      title: `Enable nova-compute on ${host}`,
      equivalent: [`${pre}${commandLine(cliCommands.enableComputeService(host, 'nova-compute').argv)}`],
      effect: 'change',
      touches: [host],
      async check(ctx) {
        const s = await cloudOf(ctx.deps).cloud.getComputeService(host, 'nova-compute');
        return s?.status === 'enabled'
          ? { state: 'done', detail: 'service is enabled' }
          : { state: 'not-done', detail: `service is ${s?.status ?? 'missing'}` };
      },
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        const s = await cd.cloud.getComputeService(host, 'nova-compute');
        await ctx.save({ reason: s?.disabledReason ?? null });
        await ctx.audit('api-call', { op: 'enable-compute-service', host });
        await cd.cloud.enableComputeService(host, 'nova-compute');
      },
      async undo(ctx, saved) {
        await cloudOf(ctx.deps).cloud.disableComputeService(
          host,
          'nova-compute',
          (saved as { reason?: string | null } | undefined)?.reason ?? 'undo of undrain',
        );
      },
    },
  ];
  const total = back.length;
  back.forEach((i, k) => {
    out.push({
      id: `migrate-back:${i.id}`,
      title: `Migrate ${i.name} back from ${i.from}${i.kind === 'cold' ? ' (cold, stays SHUTOFF)' : ''}`,
      equivalent: moveEquivalent(i, { dest: host, blockMigration: 'auto', ...(c?.cliPrefix ? { prefix: c.cliPrefix } : {}) }),
      effect: 'change',
      touches: [i.id],
      ...(c ? { timeoutMs: c.migrationTimeoutMs + 5 * 60_000 } : {}),
      async check(ctx) {
        const s = await cloudOf(ctx.deps).cloud.getServer(i.id);
        if (!s)
          return {
            state: 'done',
            detail: `${i.name} no longer exists`,
            output: { moved: [{ id: i.id, name: i.name, from: i.from, to: null, result: 'gone', ms: 0 }] },
          };
        if (s.host === host && s.taskState === null && s.status !== 'VERIFY_RESIZE')
          return {
            state: 'done',
            detail: `${i.name} is on ${host}`,
            output: { moved: [{ id: i.id, name: i.name, from: i.from, to: host, result: 'already', ms: 0 }] },
          };
        return { state: 'not-done', detail: `${i.name} is on ${s.host ?? '?'} (${s.status})`, seen: s };
      },
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        let moved: MoveResult;
        try {
          const seen = ctx.checked?.seen as Server | undefined;
          moved = await observingMoves(cd, i.from, (observer) =>
            moveInstance(cd, i, {
              ...(seen?.id === i.id ? { seen } : {}),
              source: i.from,
              dest: host,
              blockMigration: blockMigrationOf('auto'),
              signal: ctx.signal,
              observer,
              beforeStart: (detail) => ctx.audit('api-call', { op: 'migrate-back', drain: drainOp ?? null, ...detail }),
            }),
          );
        } catch (e) {
          if (ctx.signal.aborted) throw e;
          // The host is back in service either way: one instance that cannot return is reported, the others go on.
          ctx.milestone(`:warning: ${i.name} (${i.id}) could not be migrated back to ${host}: ${(e as Error).message}. It stays on ${i.from}.`);
          moved = { id: i.id, name: i.name, from: i.from, to: i.from, result: 'stayed', ms: 0, reason: (e as Error).message };
        }
        ctx.progress(k + 1, total, i.name);
        if (k + 1 === total) ctx.milestone(`${total} instance(s) are back on ${host}`);
        return { moved: [moved] as unknown as JsonValue };
      },
    });
  });
  return out;
}

export const undrainRunbook = defineRunbook<UndrainArgs, NodeDeps>({
  spec: undrainSpec,
  locks: (plan) => [plan.target],
  async plan(args, deps) {
    const c = cloudOf(deps);
    const svc = await c.cloud.getComputeService(args.host, 'nova-compute');
    if (!svc) throw new InputError([{ path: 'host', message: `Nova has no nova-compute service on ${args.host}` }], usageOf(undrainSpec));
    // A drain still under way would be undone half-way, and its record of origins is still growing.
    const busy = await deps.history?.drainUnderWay(args.host);
    if (busy) {
      const next =
        busy.state === 'in_doubt' || busy.state === 'paused'
          ? `resume or abort it first (\`/op abort ${busy.opId}\`)`
          : `undrain once it has finished, or abort it first (\`/op abort ${busy.opId}\`)`;
      throw new ChatOpsError('LOCK_HELD', `${args.host} is still being drained: operation ${busy.opId} is ${busy.state.replace('_', ' ')}; ${next}.`, {
        details: { host: args.host, operationId: busy.opId },
      });
    }
    const warnings: string[] = [];
    // The source of an evacuation stays fenced until its guests are gone (two hosts, one shared disk).
    const ev = await evacuatedState(c, deps, args.host);
    const fenced: Fenced = { forcedDown: svc.forcedDown, apiRecords: ev.pendingRecords.length, sqlUuids: ev.movedBySql.map((i) => i.id) };
    if (fenced.apiRecords || fenced.sqlUuids.length) {
      let reachable = true;
      try {
        await serviceRunning(c, args.host);
      } catch {
        reachable = false;
      }
      const what = [
        ...(fenced.apiRecords
          ? [`${fenced.apiRecords} evacuation record(s) off it are not completed yet (its nova-compute destroys the old guests when it starts)`]
          : []),
        ...(fenced.sqlUuids.length
          ? [
              `${fenced.sqlUuids.length} instance(s) were moved off it by SQL (${ev.movedBySql
                .slice(0, 5)
                .map((i) => `${i.name}, ${i.opId}`)
                .join('; ')}), with no record Nova would clean up`,
            ]
          : []),
      ].join('; ');
      if (!reachable) {
        throw new ChatOpsError(
          'STEP_FAILED',
          `${args.host} stays forced down and disabled: ${what}, and SSH to it fails, so nothing can prove its guests are gone. Power it on (its nova-compute may start), then ask again.`,
          { details: { host: args.host } },
        );
      }
      if (fenced.sqlUuids.length) {
        const left = await leftoverGuests(c, args.host, fenced.sqlUuids);
        if (left.length) {
          throw new ChatOpsError(
            'STEP_FAILED',
            `${args.host} stays forced down and disabled: guests moved off it by SQL are still there (${left.slice(0, 10).join('; ')}). Remove them on the node (virsh undefine, the instance directories), then ask again.`,
            { details: { host: args.host, left } },
          );
        }
        warnings.push(
          `${args.host} was checked over SSH: none of the ${fenced.sqlUuids.length} instance(s) moved off it by SQL has a directory or domain left there; the check runs again before nova-compute starts.`,
        );
      }
      if (fenced.apiRecords)
        warnings.push(
          `${args.host} is forced up only after its nova-compute has completed the ${fenced.apiRecords} evacuation record(s) (it destroys the old guests first); if it does not within 3 minutes, the host stays forced down and disabled.`,
        );
    }
    const back: Returning[] = [];
    let drainOp: string | undefined;
    if (args.migrateBack) {
      const rec = await deps.history?.lastDrain(args.host);
      if (!rec) warnings.push(`No drain of ${args.host} is recorded in this bot's journal: there is nothing to migrate back.`);
      else {
        drainOp = rec.opId;
        for (const m of rec.instances) {
          const s = await c.cloud.getServer(m.id);
          if (!s) warnings.push(`${m.name} (${m.id}) was deleted since the drain: nothing to bring back.`);
          else if (s.host === args.host) continue;
          else if (!moveKindOf(s.status) || s.taskState !== null)
            warnings.push(
              `${m.name} (${m.id}) is ${s.status}${s.taskState ? `/${s.taskState}` : ''} on ${s.host ?? '?'}: Nova cannot migrate it; it stays there.`,
            );
          else back.push({ id: s.id, name: s.name, status: s.status, kind: moveKindOf(s.status)!, from: s.host ?? m.to ?? '?' });
        }
      }
    }
    if (back.length) warnings.push('An instance that cannot be migrated back is reported and stays where it is; the others still return.');
    if (svc.status === 'enabled' && svc.state === 'up')
      warnings.push(`nova-compute on ${args.host} is already enabled and up; the steps that find their work done are skipped.`);
    return {
      target: args.host,
      args,
      resolved: {
        service: { status: svc.status, state: svc.state, disabledReason: svc.disabledReason },
        drain: drainOp ?? null,
        back: back as unknown as JsonValue,
        fenced: fenced as unknown as JsonValue,
      },
      steps: steps(args.host, back, c, drainOp, fenced),
      summary: `undrain ${args.host}: start nova-compute, check AMQP, enable${args.migrateBack ? `, bring ${back.length} instance(s) back${drainOp ? ` (from drain ${drainOp})` : ''}` : ''}`,
      warnings,
    };
  },
  steps(plan, deps) {
    const r = plan.resolved as { back: Returning[]; drain: string | null; fenced?: Fenced };
    return steps(plan.target, r.back, deps.node, r.drain ?? undefined, r.fenced ?? { forcedDown: false, apiRecords: 0, sqlUuids: [] });
  },
});

/** Re-checks over SSH, before nova-compute starts, that no guest moved off by SQL is left on the node. */
function noGuestsStep(host: string, uuids: string[]): Step {
  return {
    id: 'check-no-guests',
    title: `Check over SSH that none of the ${uuids.length} instance(s) moved off ${host} by SQL is left there (directory or libvirt domain)`,
    equivalent: [`ssh ${host} 'ls /var/lib/nova/instances; virsh list --all --uuid'`],
    effect: 'read',
    touches: [host],
    reconcile: async () => ({ state: 'not-done', detail: 'read-only step: read again' }),
    async run(ctx) {
      const left = await leftoverGuests(cloudOf(ctx.deps), host, uuids);
      if (left.length)
        throw new ChatOpsError(
          'STEP_FAILED',
          `guests moved off ${host} by SQL are still there (${left.slice(0, 10).join('; ')}): ${host} stays forced down and disabled`,
          { details: { host, left } },
        );
      return { checked: uuids.length };
    },
  };
}

/** Waits until the started nova-compute has destroyed the evacuated guests (records completed). */
function evacuationsCompletedStep(host: string): Step {
  return {
    id: 'evacuations-completed',
    title: `Wait until nova-compute on ${host} has cleaned up its evacuated guests (evacuation records completed)`,
    equivalent: [`openstack server migration list --type evacuation --host ${host}  # every record of ${host} completed`],
    effect: 'read',
    touches: [host],
    reconcile: async () => ({ state: 'not-done', detail: 'read-only step: read again' }),
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      const deadline = cd.clock.now() + 180_000;
      for (;;) {
        const pending = await pendingEvacuations(cd, host);
        if (!pending.length) return { completed: true };
        if (cd.clock.now() > deadline) {
          throw new ChatOpsError(
            'STEP_FAILED',
            `${pending.length} evacuation record(s) off ${host} are still ${[...new Set(pending.map((m) => m.status))].join('/')} 3 minutes after nova-compute started: its old guests may still exist; ${host} stays forced down and disabled`,
            { details: { host, records: pending.map((m) => m.id) } },
          );
        }
        await sleep(2000, ctx.signal);
      }
    },
  };
}

function forceUpStep(host: string, c: CloudDeps | undefined): Step {
  const pre = c?.cliPrefix ? `${c.cliPrefix} ` : '';
  return {
    id: 'force-up',
    title: `Clear forced-down on ${host}`,
    equivalent: [`${pre}${commandLine(cliCommands.setComputeServiceForcedDown(host, 'nova-compute', false).argv)}`],
    effect: 'change',
    touches: [host],
    async check(ctx) {
      const s = await cloudOf(ctx.deps).cloud.getComputeService(host, 'nova-compute');
      return s && !s.forcedDown ? { state: 'done', detail: 'not forced down' } : { state: 'not-done', detail: 'forced down' };
    },
    async run(ctx) {
      await ctx.audit('api-call', { op: 'force-up-compute-service', host });
      await cloudOf(ctx.deps).cloud.setComputeServiceForcedDown(host, 'nova-compute', false);
    },
  };
}
