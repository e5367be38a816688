/**
 * `/instance inspect <uuid> reason="…" [path=/] [device=disk|disk.local]` — read files from an
 * instance's disk on its libvirt compute node (runbook.md §3). User data: the approval class
 * `userData` always applies (its own approvers, a reason, short windows), the content goes only to
 * the requester, and the thread and the audit log keep path, size, SHA-256 and who.
 *
 * plan() only reads: Nova (host, domain name, status) and one probe of the node (tools, domain
 * state, disks, nbd). Refused with the reason when the instance is not on a libvirt host, is
 * neither running nor paused, has no such disk, or the node lacks a tool (named).
 */
import { DISK_FORMATS, TOOLS, diskInfo, inspectDir, parseProbe, probeNode, type DiskFormat } from '../../adapters/ssh/inspect-commands.js';
import { InputError } from '../../core/errors.js';
import { formatDuration } from '../../core/values.js';
import { defineRunbook, type ExecutableStep } from '../../engine/runbook.js';
import { command, opt, pos, reasonOption } from '../../engine/spec/spec-builders.js';
import { usageOf } from '../../engine/spec/usage.js';
import { PATH, UUID, choice } from '../../engine/spec/value-types.js';
import { cloudOf, type NodeDeps } from '../deps.js';
import { inspectSteps, type InspectPlanData } from './inspect-steps.js';

export const inspectSpec = command({
  family: 'instance',
  words: ['inspect'],
  summary: "Read files from a failed instance's disk (user data: approval always needed).",
  description:
    "On the instance's compute node: suspends it, exposes its disk read-only, mounts it read-only, shows the listing or file at path, then always unmounts, disconnects and resumes the instance, even when an earlier step failed.",
  positionals: [pos('uuid', UUID, 'The instance.', 'instance')],
  options: [
    reasonOption(),
    opt('path', PATH, 'What to show inside the guest file system (a directory is listed).', { default: '/', defaultText: '/' }),
    opt('device', choice(['disk', 'disk.local']), 'Which disk: the root disk or the ephemeral disk.local.', { default: 'disk', defaultText: 'disk' }),
  ],
  kind: 'runbook',
  effect: 'change',
  approval: 'always',
  examples: ['inspect 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 reason="INC-4711 recover config" path=/etc/fstab'],
});

/** inspect's args (input-of.ts derives the schema from inspectSpec). */
export type InspectArgs = { instance: string; reason: string; path: string; device: 'disk' | 'disk.local' };

const USAGE = usageOf(inspectSpec);
const DEFAULTS = {
  expose: 'auto',
  timeBoxMs: 10 * 60_000,
  workDir: '/run/chatops-inspect',
} as const;
/** Nova statuses whose guest has a QEMU process to pause (PAUSED: already paused, left so). */
const INSPECTABLE = new Set(['ACTIVE', 'PAUSED']);

const refuse = (path: string, message: string) => new InputError([{ path, message }], USAGE);

export const inspectRunbook = defineRunbook<InspectArgs, NodeDeps>({
  spec: inspectSpec,
  // One inspection of a guest at a time: a second one would resume it under the first's feet.
  locks: (plan) => [`instance-${plan.target}`],
  // A guest paused with its disk attached must not wait: a restarted bot only cleans up.
  afterRestart: 'cleanup',
  async plan(args, deps, ctx) {
    const c = cloudOf(deps);
    const settings = c.inspect ?? DEFAULTS;
    const server = await c.cloud.getServer(args.instance);
    if (!server) throw refuse('uuid', `Nova has no instance ${args.instance}`);
    if (!INSPECTABLE.has(server.status) || server.taskState) {
      throw refuse(
        'uuid',
        `${server.name} is ${server.status}${server.taskState ? ` (${server.taskState})` : ''}: only a running (ACTIVE) or paused instance has a guest whose disk can be read safely`,
      );
    }
    if (!server.host || !server.instanceName)
      throw refuse('uuid', `Nova does not say on which host ${server.name} runs or what its libvirt domain is called (admin credentials are needed)`);
    const host = server.host;
    const domain = server.instanceName;
    const probe = parseProbe(
      (
        await c.shell.run(host, probeNode(domain), {
          sudo: c.sudo,
          timeoutMs: 30_000,
        })
      ).stdout,
    );
    if (probe.missing.includes('virsh')) throw refuse('uuid', `${server.name} is not on a libvirt host: ${host} has no virsh`);
    if (!probe.state || /error|failed/i.test(probe.state))
      throw refuse('uuid', `${server.name} is not on a libvirt host: ${host} has no libvirt domain ${domain} (${probe.state ?? 'no answer'})`);
    if (probe.state !== 'running' && probe.state !== 'paused')
      throw refuse('uuid', `the domain ${domain} of ${server.name} is "${probe.state}" on ${host}: only a running or paused guest is inspected`);
    const method = settings.expose === 'auto' ? (probe.nbd ? 'nbd' : 'fuse') : settings.expose;
    const missing = [...TOOLS.common, ...TOOLS[method]].filter((t) => probe.missing.includes(t));
    if (missing.length) throw refuse('uuid', `${host} lacks what reading a disk needs: ${missing.join(', ')} (exposing it through ${method})`);
    const disk = probe.disks.find((x) => x.source.endsWith(`/${args.instance}/${args.device}`));
    if (!disk) {
      const have = probe.disks.map((x) => `${x.target} → ${x.source}`).join(', ') || 'none';
      throw refuse('device', `${server.name} has no ${args.device} on ${host} (its disks: ${have})`);
    }
    if (!/^\/[A-Za-z0-9/._-]+$/.test(disk.source)) throw refuse('device', `the disk path ${disk.source} has characters the bot does not pass to QEMU`);
    const info = JSON.parse(
      (
        await c.shell.run(host, diskInfo(disk.source), {
          sudo: c.sudo,
          timeoutMs: 30_000,
        })
      ).stdout,
    ) as { format?: string };
    const format = info.format as DiskFormat;
    if (!DISK_FORMATS.includes(format)) throw refuse('device', `${disk.source} is a ${info.format ?? 'unknown'} image; the bot reads qcow2 and raw`);
    const data: InspectPlanData = {
      uuid: args.instance,
      name: server.name,
      host,
      domain,
      disk: disk.source,
      device: args.device,
      format,
      method,
      path: args.path,
      reason: args.reason,
      wasPaused: probe.state === 'paused',
      timeBoxMs: settings.timeBoxMs,
      workDir: settings.workDir,
      requester: { userId: ctx.requester.userId, teamId: ctx.requester.teamId },
    };
    const warnings = [
      `User data: the content goes only to <@${ctx.requester.userId}> (ephemeral); the thread and the audit log keep the path, size and SHA-256.`,
      data.wasPaused
        ? `${server.name} was paused already: it is left paused.`
        : `${server.name} is paused for the inspection, at most ${formatDuration(data.timeBoxMs)}; Nova keeps showing it ACTIVE. Unmount, disconnect and resume always run, also after a failure, an abort or a restart of the bot.`,
    ];
    return {
      target: args.instance,
      args,
      resolved: { ...data },
      steps: inspectSteps(data, c, (x) => inspectDir(data.workDir, x.opId)),
      summary: `inspect ${server.name} (${args.instance}) on ${host}: ${args.path} of ${args.device} (${args.reason})`,
      warnings,
    };
  },
  steps(plan, deps): ExecutableStep<NodeDeps>[] {
    const data = plan.resolved as unknown as InspectPlanData;
    return inspectSteps(data, deps.node, (x) => inspectDir(data.workDir, x.opId));
  },
});
