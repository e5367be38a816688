/**
 * `/volume reattach <host> [instance=<uuid>]` (runbook.md §5): the instance/volume pairs of the
 * node with their device — from the corrected Zed join (`cinder.volume_attachment`, not the
 * chapter's columns) when the cloud's databases are configured, else from Nova and Cinder's APIs —
 * and, for each pair whose instance has booted (ACTIVE, no task), the volume removed, `available`,
 * added back on the same device, `in-use`. A pair whose instance has not booted is reported and
 * skipped.
 */
import { InputError } from '../../core/errors.js';
import { defineRunbook, type ExecutableStep, type JsonValue } from '../../engine/runbook.js';
import { command, opt, pos, scheduleOptions } from '../../engine/spec/spec-builders.js';
import { usageOf } from '../../engine/spec/usage.js';
import { HOST, UUID } from '../../engine/spec/value-types.js';
import { cloudOf, type NodeDeps } from '../deps.js';
import { reattachStep } from '../node/evacuate-steps.js';
import type { VolumePair } from '../steps/reattach-volumes.js';

export const reattachSpec = command({
  family: 'volume',
  words: ['reattach'],
  summary: 'Re-attach the volumes of the instances on a node (same mount points), after they booted.',
  description: 'Lists the instance/volume pairs on the node and, once each instance has booted, removes and adds its volumes again at the same device.',
  positionals: [pos('host', HOST, 'The compute node.')],
  options: [opt('instance', UUID, 'Only this instance.', { defaultText: 'every instance on the node' }), ...scheduleOptions()],
  exclusive: [['at', 'in']],
  schedulable: true,
  kind: 'runbook',
  effect: 'change',
  approval: 'policy',
  examples: ['reattach c01', 'reattach c01 instance=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', 'reattach c01 at=2026-12-01T06:30Z'],
});

/** reattach's args (input-of.ts derives the schema from reattachSpec). */
export type ReattachArgs = { host: string; instance?: string };
const USAGE = usageOf(reattachSpec);

function steps(host: string, pairs: VolumePair[], c: NodeDeps['node']): ExecutableStep<NodeDeps>[] {
  return [
    {
      id: 'list-pairs',
      title: `List the instance/volume pairs on ${host}`,
      equivalent: [
        'select i.uuid, v.id, v.status, a.attach_status, a.mountpoint, v.display_name from cinder.volume_attachment a join cinder.volumes v on v.id = a.volume_id and v.deleted = 0 ' +
          `join nova.instances i on i.uuid = a.instance_uuid and i.deleted = 0 where a.deleted = 0 and i.host = '${host}'`,
      ],
      effect: 'read',
      touches: [host],
      reconcile: async () => ({ state: 'not-done', detail: 'read-only step: read again' }),
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        ctx.milestone(
          pairs.length
            ? `${pairs.length} pair(s): ${pairs.map((p) => `${p.instanceName} ← ${p.volumeId}${p.device ? ` on ${p.device}` : ''}`).join(', ')}`
            : `no volume to re-attach on ${host}`,
        );
        return { at: cd.clock.now(), pairs: pairs as unknown as JsonValue };
      },
    },
    ...pairs.map((p) => reattachStep(p, c, null)),
  ];
}

export const reattachRunbook = defineRunbook<ReattachArgs, NodeDeps>({
  spec: reattachSpec,
  locks: (plan) => [plan.target],
  async plan(args, deps) {
    const c = cloudOf(deps);
    const svc = await c.cloud.getComputeService(args.host, 'nova-compute');
    if (!svc)
      throw new InputError([{ path: 'host', message: `Nova has no nova-compute service on ${args.host}: expected a compute host of this cloud` }], USAGE);
    const servers = await c.cloud.listServersOnHost({ host: args.host });
    if (args.instance && !servers.some((s) => s.id === args.instance))
      throw new InputError([{ path: 'instance', message: `Nova places no instance ${args.instance} on ${args.host}` }], USAGE);
    const mine = servers.filter((s) => !args.instance || s.id === args.instance).sort((a, b) => a.name.localeCompare(b.name));
    const warnings: string[] = [];
    let all: VolumePair[] = [];
    if (c.db) {
      const ids = new Set(mine.map((s) => s.id));
      all = (await c.db.volumesOnHost(args.host))
        .filter((v) => ids.has(v.instanceUuid))
        .map((v) => ({
          instanceId: v.instanceUuid,
          instanceName: mine.find((s) => s.id === v.instanceUuid)?.name ?? v.instanceUuid,
          volumeId: v.volumeId,
          device: v.mountpoint,
        }));
      warnings.push("Pairs read with the Zed form of the chapter's join (cinder.volume_attachment joined to cinder.volumes and nova.instances).");
    } else {
      for (const s of mine)
        for (const v of await c.cloud.listServerVolumes(s.id)) all.push({ instanceId: s.id, instanceName: s.name, volumeId: v.volumeId, device: v.device });
      warnings.push("Pairs read from Nova's volume attachments (no databases configured for this cloud).");
    }
    const booted = new Set(mine.filter((s) => s.status === 'ACTIVE' && s.taskState === null).map((s) => s.id));
    const pairs = all.filter((p) => booted.has(p.instanceId));
    for (const p of all.filter((x) => !booted.has(x.instanceId))) {
      const s = mine.find((x) => x.id === p.instanceId);
      warnings.push(
        `${p.instanceName}: volume ${p.volumeId} skipped, the instance has not booted (${s?.status ?? '?'}${s?.taskState ? `/${s.taskState}` : ''}).`,
      );
    }
    warnings.push("Each volume is detached from its instance for a moment: only once the instance has booted to its login prompt (the chapter's advice).");
    return {
      target: args.host,
      args,
      resolved: { pairs: pairs as unknown as JsonValue },
      steps: steps(args.host, pairs, c),
      summary: `re-attach ${pairs.length} volume(s) on ${args.host}${args.instance ? ` (instance ${args.instance})` : ''}`,
      warnings,
    };
  },
  steps(plan, deps) {
    return steps(plan.target, (plan.resolved as { pairs: VolumePair[] }).pairs, deps.node);
  },
});
