/**
 * The steps of a drain other than the migrations: disable, list, check empty, stop nova-compute,
 * init files aside, record origins. Each one reads the real state in `check` so a restarted bot
 * neither repeats nor skips them blindly.
 */
import type { ComputeService } from '../../adapters/openstack/cloud.js';
import { cliCommands, commandLine } from '../../adapters/openstack/cli-commands.js';
import { fileExists, moveFile, type NodeCommands, type RemoteCommand } from '../../adapters/ssh.js';
import { ChatOpsError } from '../../core/errors.js';
import { formatDuration } from '../../core/values.js';
import { sleep } from '../../core/sleep.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import type { MoveResult, PlannedInstance } from '../steps/migrate-instances.js';
import type { ExecutableStep, JsonValue, StepContext } from '../../engine/runbook.js';

/** Everything the steps need, rebuilt from the stored plan. */
export interface DrainPlanData {
  host: string;
  reason: string;
  to?: string;
  mode: 'live' | 'block' | 'auto';
  parallel: number;
  stopService: boolean;
  pinInit: boolean;
  instances: PlannedInstance[];
  /** Instances Nova cannot migrate (ERROR, SUSPENDED, busy…): named in the plan, left on the host. */
  leftAlone: { id: string; name: string; status: string }[];
}

type Step = ExecutableStep<NodeDeps>;
const pre = (c: CloudDeps | undefined) => (c?.cliPrefix ? `${c.cliPrefix} ` : '');
const nodeEq = (c: CloudDeps | undefined, host: string, pick: (n: NodeCommands) => RemoteCommand) =>
  c ? c.shell.equivalent(host, pick(c.commands(host)), { sudo: c.sudo }) : `ssh ${host} (the cloud's node command)`;

/** A read-only step interrupted mid-way is simply read again. */
const readAgain = async () => ({ state: 'not-done' as const, detail: 'read-only step: read again' });

/** Where an init file goes while the node is drained (the chapter's /root/tmp), and comes back from. */
export const initAsidePath = (file: string) => `/root/tmp/chatops-init${file}`;

/** Is nova-compute running on the node (the preset's status command)? */
export async function serviceRunning(c: CloudDeps, host: string): Promise<boolean> {
  const cmds = c.commands(host);
  const r = await c.shell.run(host, cmds.status.command, { okExitCodes: cmds.status.okExitCodes, sudo: c.sudo, timeoutMs: 30_000 });
  return cmds.status.isRunning(r);
}

export function disableStep(d: DrainPlanData, c: CloudDeps | undefined): Step {
  return {
    id: 'disable-service',
    title: `Disable nova-compute on ${d.host} (reason: ${d.reason})`,
    equivalent: [`${pre(c)}${commandLine(cliCommands.disableComputeService(d.host, 'nova-compute', d.reason).argv)}`],
    effect: 'change',
    touches: [d.host],
    async check(ctx) {
      const s = await cloudOf(ctx.deps).cloud.getComputeService(d.host, 'nova-compute');
      return s?.status === 'disabled' && s.disabledReason === d.reason
        ? { state: 'done', detail: `disabled with reason "${d.reason}"` }
        : { state: 'not-done', detail: `service is ${s?.status ?? 'missing'}`, ...(s ? { seen: s } : {}) };
    },
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      // the state before the change, for undo: as check read it a moment ago (read again without a check)
      const checked = ctx.checked?.seen as ComputeService | undefined;
      const s = checked?.host === d.host ? checked : await cd.cloud.getComputeService(d.host, 'nova-compute');
      await ctx.save({ status: s?.status ?? null, reason: s?.disabledReason ?? null });
      await ctx.audit('api-call', { op: 'disable-compute-service', host: d.host, reason: d.reason });
      await cd.cloud.disableComputeService(d.host, 'nova-compute', d.reason);
      return { previous: { status: s?.status ?? null, reason: s?.disabledReason ?? null } };
    },
    async undo(ctx, saved) {
      const cd = cloudOf(ctx.deps);
      const prev = saved as { status: string | null; reason: string | null } | undefined;
      if (prev?.status === 'disabled') await cd.cloud.disableComputeService(d.host, 'nova-compute', prev.reason ?? 'disabled before the drain');
      else await cd.cloud.enableComputeService(d.host, 'nova-compute');
    },
  };
}

export function listStep(d: DrainPlanData): Step {
  const known = new Set([...d.instances.map((i) => i.id), ...d.leftAlone.map((i) => i.id)]);
  return {
    id: 'list-instances',
    reconcile: readAgain,
    title: `List the instances on ${d.host} (all projects)`,
    equivalent: [commandLine(cliCommands.listServersOnHost(d.host).argv)],
    effect: 'read',
    touches: [d.host],
    async run(ctx) {
      const servers = await cloudOf(ctx.deps).cloud.listServersOnHost({ host: d.host });
      const added = servers.filter((s) => !known.has(s.id));
      if (added.length) {
        throw new ChatOpsError(
          'PLAN_DRIFT',
          `${added.length} instance(s) arrived on ${d.host} after the plan was made (${added
            .slice(0, 10)
            .map((s) => `${s.name} ${s.id}`)
            .join(', ')}): nothing was migrated; the service is disabled now, so a new /node drain sees them all`,
          {
            details: { added: added.map((s) => s.id) },
          },
        );
      }
      return { from: d.host, instances: servers.map((s) => ({ id: s.id, name: s.name, status: s.status })) };
    },
  };
}

export function checkEmptyStep(d: DrainPlanData): Step {
  const allowed = new Set(d.leftAlone.map((i) => i.id));
  return {
    id: 'check-empty',
    reconcile: readAgain,
    title: `Check ${d.host} is empty${d.leftAlone.length ? ` (but for ${d.leftAlone.length} left alone)` : ''}`,
    equivalent: [commandLine(cliCommands.listServersOnHost(d.host).argv)],
    effect: 'read',
    touches: [d.host],
    async run(ctx) {
      const servers = await cloudOf(ctx.deps).cloud.listServersOnHost({ host: d.host });
      const left = servers.filter((s) => !allowed.has(s.id));
      if (left.length) {
        throw new ChatOpsError(
          'STEP_FAILED',
          `${d.host} still hosts ${left.length} instance(s): ${left
            .slice(0, 10)
            .map((s) => `${s.name} (${s.status})`)
            .join(', ')}`,
          { details: { remaining: left.map((s) => s.id) } },
        );
      }
      return { remaining: servers.map((s) => s.id) };
    },
  };
}

export function stopStep(d: DrainPlanData, c: CloudDeps | undefined): Step {
  const waitStopped = async (ctx: StepContext<NodeDeps>) => {
    const cd = cloudOf(ctx.deps);
    for (let n = 0; n < 30; n++) {
      if (!(await serviceRunning(cd, d.host))) return;
      await sleep(1000, ctx.signal);
    }
    throw new ChatOpsError('STEP_FAILED', `nova-compute on ${d.host} still runs 30 s after the stop command`);
  };
  return {
    id: 'stop-service',
    title: `Stop nova-compute on ${d.host} over SSH`,
    equivalent: [nodeEq(c, d.host, (n) => n.stop)],
    effect: 'change',
    touches: [d.host],
    async check(ctx) {
      return (await serviceRunning(cloudOf(ctx.deps), d.host))
        ? { state: 'not-done', detail: 'nova-compute is running' }
        : { state: 'done', detail: 'nova-compute is not running' };
    },
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      const cmd = cd.commands(d.host).stop;
      await ctx.audit('ssh-command', { host: d.host, command: cmd.display });
      await cd.shell.run(d.host, cmd, { sudo: cd.sudo, timeoutMs: 120_000 });
      await waitStopped(ctx);
      return { stoppedAt: cd.clock.now() };
    },
    async undo(ctx) {
      const cd = cloudOf(ctx.deps);
      await cd.shell.run(d.host, cd.commands(d.host).start, { sudo: cd.sudo, timeoutMs: 120_000 });
    },
  };
}

export function pinInitStep(d: DrainPlanData, c: CloudDeps | undefined): Step {
  const files = c ? c.commands(d.host).initFiles : [];
  return {
    id: 'pin-init',
    title: `Move the init files of nova-compute aside on ${d.host}`,
    equivalent: files.length ? files.map((f) => `ssh ${d.host} mv ${f} ${initAsidePath(f)}`) : ['# the preset names no init files: nothing to move'],
    effect: 'change',
    touches: [d.host],
    async check(ctx) {
      const cd = cloudOf(ctx.deps);
      const present = await existing(cd, d.host, cd.commands(d.host).initFiles);
      return present.length
        ? { state: 'not-done', detail: `${present.join(', ')} in place` }
        : { state: 'done', detail: 'no init file in place', output: { moved: await existing(cd, d.host, cd.commands(d.host).initFiles.map(initAsidePath)) } };
    },
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      const cmds = cd.commands(d.host);
      const present = await existing(cd, d.host, cmds.initFiles);
      const moves = present.map((f) => ({ from: f, to: initAsidePath(f) }));
      await ctx.save({ moves });
      for (const m of moves) {
        const cmd = moveFile(m.from, m.to);
        await ctx.audit('ssh-command', { host: d.host, command: cmd.display });
        await cd.shell.run(d.host, cmd, { sudo: cd.sudo });
      }
      if (moves.length && cmds.afterInitFilesMoved) await cd.shell.run(d.host, cmds.afterInitFilesMoved, { sudo: cd.sudo });
      return { moved: moves.map((m) => m.to) };
    },
  };
}

/** Which of `paths` exist on the node. */
export async function existing(c: CloudDeps, host: string, paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const t = fileExists(p);
    const r = await c.shell.run(host, t.command, { okExitCodes: t.okExitCodes, sudo: c.sudo });
    if (r.exitCode === 0) out.push(p);
  }
  return out;
}

/** One line per instance; milestones of at most ~2,800 characters each. */
export function originLines(host: string, moved: readonly MoveResult[]): string[] {
  const lines = moved.map(
    (m) =>
      `${m.name}: ${m.from} → ${m.to ?? 'deleted'}${m.result === 'moved' ? ` (${formatDuration(m.ms)})` : m.result === 'already' ? ' (already moved)' : ''}`,
  );
  const chunks: string[] = [];
  let cur = `Where the ${moved.length} instances of ${host} went (undrain migrate-back brings them home):`;
  for (const l of lines) {
    if (cur.length + l.length + 1 > 2800) {
      chunks.push(cur);
      cur = '(continued)';
    }
    cur += `\n${l.slice(0, 300)}`;
  }
  chunks.push(cur);
  return chunks;
}

export function recordStep(d: DrainPlanData): Step {
  return {
    id: 'record-origins',
    reconcile: readAgain,
    title: `Record where every instance of ${d.host} came from and went`,
    equivalent: ['# kept in the operation journal; /op show lists it'],
    effect: 'read',
    async run(ctx) {
      const moved = originsOf(ctx.outputs);
      for (const text of originLines(d.host, moved)) ctx.milestone(text);
      return { host: d.host, instances: moved as unknown as JsonValue, leftAlone: d.leftAlone as unknown as JsonValue };
    },
  };
}

/** The per-instance records of a drain's migrate steps (outputs by step id, in plan order). */
export function originsOf(outputs: Readonly<Record<string, JsonValue>>): MoveResult[] {
  const out: MoveResult[] = [];
  for (const [id, v] of Object.entries(outputs)) {
    if (!id.startsWith('migrate')) continue;
    for (const m of (v as { moved?: (MoveResult | null)[] } | null)?.moved ?? []) if (m) out.push(m);
  }
  return out;
}
