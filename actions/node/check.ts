/**
 * `/node check <host> [reboot-instances]` — after a node rebooted (runbook.md §2): nova-compute
 * runs (the preset's status), its log shows "Connected to AMQP" after the node's boot time (read on
 * the node), and the instances Nova places there are listed. With reboot-instances each one is
 * started: a soft reboot, then a hard one (which recreates its libvirt XML) for any that does not
 * come back within the timeout, with the tail of the node's nova-compute log for it in the thread.
 * It closes with the reminder that an instance stopped uncleanly may need fsck from its console.
 */
import { amqpConnectedSince, template } from '../../adapters/ssh.js';
import { cliCommands, commandLine } from '../../adapters/openstack/cli-commands.js';
import { ChatOpsError, InputError } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';
import { defineRunbook, type ExecutableStep, type JsonValue } from '../../engine/runbook.js';
import { command, flag, pos, scheduleOptions } from '../../engine/spec/spec-builders.js';
import { usageOf } from '../../engine/spec/usage.js';
import { HOST } from '../../engine/spec/value-types.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import { serviceRunning } from './drain-steps.js';
import { pollDelay } from '../steps/migrate-instances.js';
import { utcMs } from '../steps/reattach-volumes.js';

export const nodeCheckSpec = command({
  family: 'node',
  words: ['check'],
  summary: 'After a reboot: nova-compute running and on AMQP, instances listed; optionally start them.',
  description:
    'Checks that nova-compute runs and connected to AMQP after the boot, lists the instances hosted there and, with reboot-instances, starts each one (hard reboot for those that do not come up, which recreates their libvirt XML).',
  positionals: [pos('host', HOST, 'The compute node that rebooted.')],
  flags: [flag('reboot-instances', 'Start every instance on the node (hard reboot where a soft one fails).')],
  options: [...scheduleOptions()],
  exclusive: [['at', 'in']],
  schedulable: true,
  kind: 'runbook',
  effect: 'change',
  effectFor: (args) => (args['rebootInstances'] === true ? 'change' : 'read'),
  approval: 'policy',
  examples: ['check c01', 'check c01 reboot-instances', 'check c01 in=30m'],
});

/** check's args (input-of.ts derives the schema from nodeCheckSpec). */
export type CheckArgs = { host: string; rebootInstances: boolean };
const USAGE = usageOf(nodeCheckSpec);
/** How long a soft reboot may take before the hard one. */
export const SOFT_REBOOT_TIMEOUT_MS = 60_000;

type Step = ExecutableStep<NodeDeps>;
interface Listed {
  id: string;
  name: string;
  status: string;
  [k: string]: JsonValue;
}
const readAgain = async () => ({ state: 'not-done' as const, detail: 'read-only step: read again' });

/** The node's boot time (epoch ms), from /proc/uptime read on the node. */
async function bootTime(c: CloudDeps, host: string): Promise<number> {
  const r = await c.shell.run(host, template('cat /proc/uptime', {}), { sudo: false, timeoutMs: 30_000 });
  const up = Number(r.stdout.trim().split(/\s+/)[0]);
  if (!Number.isFinite(up)) throw new ChatOpsError('STEP_FAILED', `cannot read the boot time of ${host} (/proc/uptime said "${r.stdout.trim().slice(0, 80)}")`);
  return c.clock.now() - Math.round(up * 1000);
}

async function waitActive(c: CloudDeps, id: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = c.clock.now() + timeoutMs;
  for (let k = 0; c.clock.now() <= deadline; k++) {
    const s = await c.cloud.getServer(id);
    if (!s) return true;
    if (s.status === 'ACTIVE' && s.taskState === null) return true;
    // a reboot Nova gave up on (a guest the hypervisor lost) will not come back by waiting: go on
    if (s.status === 'ERROR' && s.taskState === null && k > 0) return false;
    await sleep(pollDelay(k, 2000), signal);
  }
  return false;
}

function steps(host: string, instances: Listed[], reboot: boolean, c: CloudDeps | undefined): Step[] {
  const pre = c?.cliPrefix ? `${c.cliPrefix} ` : '';
  const out: Step[] = [
    {
      id: 'service-running',
      title: `nova-compute runs on ${host} and reached AMQP after the node booted`,
      equivalent: [
        c ? c.shell.equivalent(host, c.commands(host).status.command, { sudo: c.sudo }) : `ssh ${host} status nova-compute`,
        `ssh ${host} cat /proc/uptime  # the boot time`,
        c ? c.shell.equivalent(host, c.commands(host).amqpLines(5), { sudo: c.sudo }) : `ssh ${host} grep AMQP /var/log/nova/nova-compute.log`,
      ],
      effect: 'read',
      touches: [host],
      reconcile: readAgain,
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        const running = await serviceRunning(cd, host);
        const booted = await bootTime(cd, host);
        const log = await cd.shell.run(host, cd.commands(host).amqpLines(20), { sudo: cd.sudo });
        const conn = amqpConnectedSince(log.stdout, booted - 1000);
        const svc = await cd.cloud.getComputeService(host, 'nova-compute');
        const said = `nova-compute ${running ? 'runs' : 'does NOT run'} on ${host}; booted ${new Date(booted).toISOString()}; AMQP: ${conn ? `connected ${new Date(conn.at).toISOString()}${conn.server ? ` to ${conn.server}` : ''}` : 'no connection logged since the boot'}; Nova: ${svc?.state ?? 'no service'}, ${svc?.status ?? ''}`;
        if (!running || (!conn && svc?.state !== 'up'))
          throw new ChatOpsError('STEP_FAILED', `${said}. Start it (/node undrain ${host} does) and check again.`, { details: { host } });
        ctx.milestone(said);
        return { running, bootedAt: booted, amqpAt: conn?.at ?? null, nova: svc?.state ?? null };
      },
    },
    {
      id: 'list-instances',
      title: `List the instances Nova places on ${host}`,
      equivalent: [`${pre}${commandLine(cliCommands.listServersOnHost(host).argv)}`],
      effect: 'read',
      touches: [host],
      reconcile: readAgain,
      async run(ctx) {
        const servers = await cloudOf(ctx.deps).cloud.listServersOnHost({ host });
        ctx.milestone(
          servers.length
            ? `${servers.length} instance(s) on ${host}: ${servers
                .slice(0, 30)
                .map((s) => `${s.name} (${s.status})`)
                .join(', ')}`
            : `Nova places no instance on ${host}`,
        );
        return { at: cloudOf(ctx.deps).clock.now(), instances: servers.map((s) => ({ id: s.id, name: s.name, status: s.status })) };
      },
    },
  ];
  if (!reboot) return out;
  for (const i of instances) {
    out.push({
      id: `start:${i.id}`,
      title: `Start ${i.name}: soft reboot, hard reboot if it is not ACTIVE within ${SOFT_REBOOT_TIMEOUT_MS / 1000} s`,
      equivalent: [
        `${pre}${commandLine(cliCommands.rebootServer(i.id, 'SOFT').argv)}`,
        `${pre}${commandLine(cliCommands.rebootServer(i.id, 'HARD').argv)}  # if it does not come back`,
      ],
      effect: 'change',
      touches: [i.id],
      async check(ctx) {
        const s = await cloudOf(ctx.deps).cloud.getServer(i.id);
        // a reboot is this run's when Nova recorded it after this operation listed the instances
        const since = Number((ctx.outputs['list-instances'] as { at?: number } | undefined)?.at ?? NaN);
        const acted = (await cloudOf(ctx.deps).cloud.listInstanceActions(i.id)).some((a) => a.action === 'reboot' && utcMs(a.startTime) >= since - 1000);
        return s?.status === 'ACTIVE' && s.taskState === null && acted
          ? { state: 'done', detail: `${i.name} is ACTIVE` }
          : { state: 'not-done', detail: `${i.name} is ${s?.status ?? 'gone'}` };
      },
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        const s = await cd.cloud.getServer(i.id);
        if (!s) return { result: 'gone' };
        // Nova refuses a soft reboot of an instance in ERROR: it goes straight to the hard one
        if (s.taskState === null && s.status !== 'ERROR') {
          await ctx.audit('api-call', { op: 'reboot-soft', server: i.id });
          // a soft reboot of a SHUTOFF instance is refused by Nova: start it instead
          if (s.status === 'SHUTOFF') await cd.cloud.startServer(i.id);
          else await cd.cloud.rebootServer(i.id, 'SOFT');
        }
        if (s.status !== 'ERROR' && (await waitActive(cd, i.id, SOFT_REBOOT_TIMEOUT_MS, ctx.signal))) return { result: 'soft' };
        const after = await cd.cloud.getServer(i.id);
        const tail = await cd.shell
          .run(host, cd.commands(host).logTail(20), { sudo: cd.sudo })
          .catch((e: Error) => ({ stdout: `(cannot read the log: ${e.message})` }));
        ctx.milestone(
          `${i.name} did not come back from a soft reboot (${after?.status === 'ERROR' ? 'Nova put it in ERROR' : `not ACTIVE within ${SOFT_REBOOT_TIMEOUT_MS / 1000} s`}); the end of nova-compute's log on ${host}:\n\`\`\`${tail.stdout.slice(-1500)}\`\`\`\nHard reboot (recreates its libvirt XML).`,
        );
        await ctx.audit('api-call', { op: 'reboot-hard', server: i.id });
        await cd.cloud.rebootServer(i.id, 'HARD');
        if (await waitActive(cd, i.id, 180_000, ctx.signal)) return { result: 'hard' };
        throw new ChatOpsError('STEP_FAILED', `${i.name} (${i.id}) is not ACTIVE 3 minutes after a hard reboot`, { details: { server: i.id } });
      },
    });
  }
  out.push({
    id: 'fsck-reminder',
    title: 'Remind: an instance stopped uncleanly may need fsck from its console',
    equivalent: ['openstack console url show <server>  # then fsck inside the guest'],
    effect: 'read',
    reconcile: readAgain,
    async run(ctx) {
      ctx.milestone(
        `Every instance on ${host} was started. One stopped uncleanly by the reboot may need \`fsck\` from its console (openstack console url show <server>).`,
      );
    },
  });
  return out;
}

export const checkRunbook = defineRunbook<CheckArgs, NodeDeps>({
  spec: nodeCheckSpec,
  locks: (plan) => (plan.args['rebootInstances'] ? [plan.target] : []),
  async plan(args, deps) {
    const c = cloudOf(deps);
    const svc = await c.cloud.getComputeService(args.host, 'nova-compute');
    if (!svc)
      throw new InputError([{ path: 'host', message: `Nova has no nova-compute service on ${args.host}: expected a compute host of this cloud` }], USAGE);
    const servers = args.rebootInstances ? (await c.cloud.listServersOnHost({ host: args.host })).sort((a, b) => a.name.localeCompare(b.name)) : [];
    const instances: Listed[] = servers.filter((s) => s.taskState === null).map((s) => ({ id: s.id, name: s.name, status: s.status }));
    const warnings = servers.filter((s) => s.taskState !== null).map((s) => `${s.name} (${s.id}) is busy (${s.taskState}): not rebooted.`);
    return {
      target: args.host,
      args,
      resolved: { instances: instances as unknown as JsonValue },
      steps: steps(args.host, instances, args.rebootInstances, c),
      summary: `check ${args.host} after a reboot${args.rebootInstances ? `, then start its ${instances.length} instance(s)` : ''}`,
      warnings,
    };
  },
  steps(plan, deps) {
    return steps(plan.target, (plan.resolved as { instances: Listed[] }).instances, plan.args['rebootInstances'] === true, deps.node);
  },
});
