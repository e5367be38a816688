/**
 * Proving a compute node is dead before anything of it moves (two hosts running one shared disk
 * corrupt it), shared by /node evacuate and /node copy-instances: what Nova says of its compute
 * service, what SSH finds (unreachable, or nova-compute not running), and the cloud's own fence
 * command where one is configured. Then the service is forced down and disabled with the reason.
 */
import type { ComputeService } from '../../adapters/openstack/cloud.js';
import { cliCommands, commandLine } from '../../adapters/openstack/cli-commands.js';
import { ChatOpsError } from '../../core/errors.js';
import type { ExecutableStep, JsonValue } from '../../engine/runbook.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import { serviceRunning } from '../node/drain-steps.js';

/** What was seen of a node, in the plan and again just before anything moves. */
export interface FenceEvidence {
  host: string;
  nova: { state: 'up' | 'down'; status: 'enabled' | 'disabled'; forcedDown: boolean; updatedAt: string | null };
  /** unreachable: SSH failed; stopped: nova-compute not running; running: it runs. */
  ssh: 'unreachable' | 'stopped' | 'running';
  sshDetail: string;
  [k: string]: JsonValue;
}

export async function readFenceEvidence(c: CloudDeps, host: string, svc?: ComputeService): Promise<FenceEvidence> {
  const s = svc ?? (await c.cloud.getComputeService(host, 'nova-compute'));
  if (!s) throw new ChatOpsError('STEP_FAILED', `Nova has no nova-compute service on ${host} any more`, { details: { host } });
  let ssh: FenceEvidence['ssh'];
  let sshDetail: string;
  try {
    ssh = (await serviceRunning(c, host)) ? 'running' : 'stopped';
    sshDetail = ssh === 'running' ? `SSH to ${host} works and nova-compute runs there` : `SSH to ${host} works; nova-compute is not running`;
  } catch (e) {
    ssh = 'unreachable';
    sshDetail = `SSH to ${host} fails: ${(e as Error).message.slice(0, 200)}`;
  }
  return { host, nova: { state: s.state, status: s.status, forcedDown: s.forcedDown, updatedAt: s.updatedAt }, ssh, sshDetail };
}

/** One line for the plan and the thread. */
export function describeEvidence(e: FenceEvidence): string {
  const nova = `Nova reports nova-compute on ${e.host} ${e.nova.state}${e.nova.forcedDown ? ' (forced down)' : ''}, ${e.nova.status}${e.nova.updatedAt ? `, last report ${e.nova.updatedAt}` : ''}`;
  return `${nova}; ${e.sshDetail}`;
}

/** Why this evidence does not prove the node dead, or undefined when it does. */
export function notDeadBecause(e: FenceEvidence): string | undefined {
  if (e.nova.state === 'up' && !e.nova.forcedDown) return `Nova still reports nova-compute on ${e.host} up`;
  if (e.ssh === 'running') return `nova-compute still runs on ${e.host} (SSH)`;
  return undefined;
}

/** The refusal shown when a node is not proven dead. */
export function notDeadError(e: FenceEvidence, why: string, command: string): ChatOpsError {
  return new ChatOpsError(
    'STEP_FAILED',
    `${why}: ${describeEvidence(e)}. A node that may still run its guests is not ${command}: power it off (or stop nova-compute and cut its network), wait until Nova reports it down, and ask again; if you fenced it by hand and Nova has not noticed yet, ask again with force-down=yes (recorded in the audit).`,
    { details: { host: e.host, evidence: e } },
  );
}

type Step = ExecutableStep<NodeDeps>;

/** Runs the cloud's fence command; its exit status and output go to the thread. */
export function fenceStep(host: string, c: CloudDeps | undefined): Step {
  const argv = c?.fence ? c.fence.argvFor(host) : ['# no fence command configured'];
  return {
    id: 'fence',
    title: `Fence ${host} with the cloud's fence command`,
    equivalent: [commandLine(argv)],
    effect: 'destructive',
    touches: [host],
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      if (!cd.fence)
        throw new ChatOpsError('CONFIG_INVALID', `the plan fences ${host} but clouds.${cd.name}.fence is no longer configured`, {
          details: { key: `clouds.${cd.name}.fence` },
        });
      await ctx.audit('note', { op: 'fence', host, argv: cd.fence.argvFor(host) });
      const r = await cd.fence.run(host, ctx.signal);
      const said = `fence command for ${host} ${r.timedOut ? 'timed out' : `exited ${r.exitCode}`} after ${r.durationMs} ms${r.output ? `:\n\`\`\`${r.output.slice(-800)}\`\`\`` : ' (no output)'}`;
      if (r.exitCode !== 0 || r.timedOut)
        throw new ChatOpsError('REMOTE_COMMAND_FAILED', `${said} — nothing was moved`, { details: { host, exitCode: r.exitCode, output: r.output } });
      ctx.milestone(said);
      return { exitCode: r.exitCode, durationMs: r.durationMs, output: r.output };
    },
  };
}

/** Reads the evidence again just before anything moves; refuses when the node came back. */
export function verifyFencedStep(host: string, forceDown: boolean, command: string): Step {
  return {
    id: 'verify-fenced',
    title: `Check ${host} is dead: Nova's service state and SSH${forceDown ? ' (force-down=yes: recorded, not required)' : ''}`,
    equivalent: [commandLine(cliCommands.listComputeServices({ host, binary: 'nova-compute' }).argv), `ssh ${host} (the preset's status command)`],
    effect: 'read',
    touches: [host],
    reconcile: async () => ({ state: 'not-done', detail: 'read-only step: read again' }),
    async run(ctx) {
      const e = await readFenceEvidence(cloudOf(ctx.deps), host);
      const why = notDeadBecause(e);
      if (why && !forceDown) throw notDeadError(e, why, command);
      if (why) {
        await ctx.audit('note', { op: 'force-down=yes', host, evidence: e });
        ctx.milestone(`:warning: ${why}, and force-down=yes was given: going on as the requester said the node is fenced (${describeEvidence(e)})`);
      }
      return { evidence: e };
    },
  };
}

/** Forces the compute service down and disables it with the reason; the way back is /node undrain. */
export function forceDownStep(host: string, reason: string, c: CloudDeps | undefined): Step {
  const pre = c?.cliPrefix ? `${c.cliPrefix} ` : '';
  return {
    id: 'force-down',
    title: `Force nova-compute on ${host} down and disable it (reason: ${reason})`,
    equivalent: [
      `${pre}${commandLine(cliCommands.disableComputeService(host, 'nova-compute', reason).argv)}`,
      `${pre}${commandLine(cliCommands.setComputeServiceForcedDown(host, 'nova-compute', true).argv)}`,
    ],
    effect: 'change',
    touches: [host],
    async check(ctx) {
      const s = await cloudOf(ctx.deps).cloud.getComputeService(host, 'nova-compute');
      return s?.forcedDown && s.status === 'disabled'
        ? { state: 'done', detail: `forced down and disabled (${s.disabledReason ?? ''})` }
        : { state: 'not-done', detail: `service is ${s?.status ?? 'missing'}${s?.forcedDown ? ', forced down' : ''}` };
    },
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      const s = await cd.cloud.getComputeService(host, 'nova-compute');
      await ctx.save({ status: s?.status ?? null, reason: s?.disabledReason ?? null, forcedDown: s?.forcedDown ?? null });
      await ctx.audit('api-call', { op: 'force-down-compute-service', host, reason });
      if (s?.status !== 'disabled') await cd.cloud.disableComputeService(host, 'nova-compute', reason);
      if (!s?.forcedDown) await cd.cloud.setComputeServiceForcedDown(host, 'nova-compute', true);
      return { previous: { status: s?.status ?? null, forcedDown: s?.forcedDown ?? null } };
    },
  };
}
