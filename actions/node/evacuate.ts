/**
 * `/node evacuate <from> <to> reason=… [method=api|db] [parallel=N] [force-down=yes]` — a compute
 * node died (runbook.md §6). The plan proves the source is dead (Nova's service state, SSH, the
 * cloud's fence command where configured) and refuses otherwise; then the service is forced down
 * and disabled, and every instance is rebuilt on `to`: by Nova's evacuate (api, supported) or by the
 * chapter's SQL on nova and neutron plus Placement, a hard reboot and the volumes re-attached (db),
 * each DB write with its pre-image for /op undo. The source stays fenced: /node undrain refuses to
 * bring it back until its evacuated guests are gone.
 */
import { ChatOpsError, InputError } from '../../core/errors.js';
import { defineRunbook, type ExecutableStep, type JsonValue } from '../../engine/runbook.js';
import { command, differentHosts, opt, pos, reasonOption } from '../../engine/spec/spec-builders.js';
import { usageOf } from '../../engine/spec/usage.js';
import { HOST, YES_NO, choice, intRange } from '../../engine/spec/value-types.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import type { EvacuatedInstance } from '../steps/evacuate-instance.js';
import { describeEvidence, fenceStep, forceDownStep, notDeadBecause, notDeadError, readFenceEvidence, verifyFencedStep } from '../steps/fencing.js';
import { apiEvacuateSteps, listStep, sqlSteps, verifyStep, type EvacuatePlanData } from './evacuate-steps.js';

export const evacuateSpec = command({
  family: 'node',
  words: ['evacuate'],
  summary: 'Total node failure: move every instance to another node (shared storage only).',
  description:
    'Proves the node is dead (Nova, SSH, the fence command where configured), forces its service down and rebuilds its instances on another one. method=api uses Nova evacuate (supported); method=db rewrites the hosts in the nova and neutron databases as the chapter does, keeping the prior rows so it can be undone, then moves the Placement allocations, hard-reboots and re-attaches volumes. Needs shared storage for /var/lib/nova/instances.',
  positionals: [pos('from-host', HOST, 'The failed node.', 'from'), pos('to-host', HOST, 'The node that takes its instances.', 'to')],
  options: [
    opt('method', choice(['api', 'db']), "api: Nova evacuate; db: the chapter's SQL.", { default: 'api', defaultText: 'api' }),
    reasonOption(),
    opt('parallel', intRange(1, 16), 'method=api: how many evacuations run at a time.', { default: 1, defaultText: '1' }),
    opt('force-down', YES_NO, 'Go on although Nova or SSH still see the node alive, because you fenced it by hand (recorded in the audit).', {
      default: false,
      defaultText: 'no',
    }),
  ],
  check: differentHosts('from', 'from-host', 'to', 'to-host'),
  kind: 'runbook',
  effect: 'destructive',
  approval: 'always',
  examples: [
    'evacuate c01 c02 reason="mainboard dead"',
    'evacuate c01 c02 method=db reason=INC-4711',
    'evacuate c01 c02 reason=INC-4712 parallel=4 force-down=yes',
  ],
});

/** evacuate's args (input-of.ts derives the schema from evacuateSpec). */
export type EvacuateArgs = { from: string; to: string; reason: string; method: 'api' | 'db'; parallel: number; forceDown: boolean };

const USAGE = usageOf(evacuateSpec);
/** Nova evacuates instances in these states (vm_state active, stopped, error) when no task runs. */
const EVACUABLE = ['ACTIVE', 'SHUTOFF', 'ERROR'];

function steps(d: EvacuatePlanData, c: CloudDeps | undefined, fenced: boolean, forceDown: boolean, batched = false): ExecutableStep<NodeDeps>[] {
  return [
    ...(fenced ? [fenceStep(d.from, c)] : []),
    verifyFencedStep(d.from, forceDown, 'evacuated'),
    forceDownStep(d.from, d.reason, c),
    listStep(d),
    ...(d.method === 'api' ? apiEvacuateSteps(d, c, batched) : sqlSteps(d, c)),
    verifyStep(d),
  ];
}

export const evacuateRunbook = defineRunbook<EvacuateArgs, NodeDeps>({
  spec: evacuateSpec,
  locks: (plan) => [plan.target, String(plan.args.to)],
  async plan(args, deps) {
    const c = cloudOf(deps);
    const bad = (path: string, message: string) => new InputError([{ path, message }], USAGE);
    if (args.from === args.to) throw bad('to', `the destination must be another host than ${args.from}`);
    const [src, dst] = await Promise.all([c.cloud.getComputeService(args.from, 'nova-compute'), c.cloud.getComputeService(args.to, 'nova-compute')]);
    if (!src) throw bad('from', `Nova has no nova-compute service on ${args.from}: expected a compute host of this cloud`);
    if (!dst) throw bad('to', `Nova has no nova-compute service on ${args.to}: expected a compute host of this cloud`);
    if (dst.status !== 'enabled' || dst.state !== 'up' || dst.forcedDown) {
      throw bad(
        'to',
        `${args.to} is ${dst.status} and ${dst.state}${dst.forcedDown ? ' (forced down)' : ''}: Nova cannot rebuild instances there; expected an enabled host that is up`,
      );
    }
    if (args.method === 'db' && !c.db) {
      throw new ChatOpsError(
        'CONFIG_INVALID',
        `evacuate method=db needs the cloud's databases: add clouds.${c.name}.db (nova, nova_api, neutron, cinder DSNs), or use method=api`,
        { details: { key: `clouds.${c.name}.db` } },
      );
    }
    const evidence = await readFenceEvidence(c, args.from, src);
    const why = notDeadBecause(evidence);
    if (why && !args.forceDown) throw notDeadError(evidence, why, 'evacuated');
    const warnings: string[] = [
      `Fencing: ${describeEvidence(evidence)}.${c.fence ? " The cloud's fence command runs first; a non-zero exit stops everything." : ' No fence command is configured for this cloud (clouds.<name>.fence).'}`,
    ];
    if (why) warnings.push(`:warning: ${why}; force-down=yes: the requester states the node is fenced. This is recorded in the audit.`);

    const servers = (await c.cloud.listServersOnHost({ host: args.from })).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const instances: EvacuatedInstance[] = [];
    for (const s of servers) {
      if (args.method === 'api' && (!EVACUABLE.includes(s.status) || s.taskState !== null)) {
        warnings.push(`${s.name} (${s.id}) is ${s.status}${s.taskState ? `/${s.taskState}` : ''}: Nova cannot evacuate it now, so it stays on ${args.from}.`);
        continue;
      }
      const volumes = (await c.cloud.listServerVolumes(s.id)).map((v) => ({ volumeId: v.volumeId, device: v.device }));
      const ports = (await c.cloud.listPorts({ deviceId: s.id })).map((p) => p.id);
      instances.push({ id: s.id, name: s.name, status: s.status, volumes, ports });
    }
    if (!instances.length) warnings.push(`Nova places no instance that can be moved on ${args.from}: only the fencing steps run.`);
    const [fromUsage, toUsage] = await Promise.all([c.cloud.getHostUsage(args.from), c.cloud.getHostUsage(args.to)]);
    const data: EvacuatePlanData = {
      from: args.from,
      to: args.to,
      reason: args.reason,
      method: args.method,
      parallel: args.parallel,
      instances,
      fromProvider: fromUsage?.providerId ?? null,
      toProvider: toUsage?.providerId ?? null,
    };
    if (args.method === 'db' && instances.length) {
      const p = await c.db!.planEvacuate({ from: args.from, to: args.to, instanceUuids: instances.map((i) => i.id) });
      data.sql = {
        toNode: p.target.toNode,
        expected: p.expected,
        statements: p.statements.map((s) => ({ statement: s.statement, display: s.display, rows: s.rows })),
      };
      if (p.expected.instances !== instances.length)
        warnings.push(
          `nova.instances has ${p.expected.instances} row(s) on ${args.from} for the ${instances.length} instance(s) Nova's API lists: the SQL moves only those rows.`,
        );
      if (p.destinationBindings.length) {
        throw new ChatOpsError(
          'STEP_FAILED',
          `${p.destinationBindings.length} port(s) already have a binding on ${args.to} (${p.destinationBindings.map((b) => `${b.portId} ${b.status}`).join(', ')}): the SQL move would fail on them; clear those bindings first`,
          { details: { ports: p.destinationBindings.map((b) => b.portId) } },
        );
      }
      if (!data.fromProvider || !data.toProvider)
        warnings.push(`Placement has no resource provider named ${data.fromProvider ? args.to : args.from}: the allocations step will fail.`);
      warnings.push(
        "method=db is the chapter's procedure, not supported upstream: after the SQL, Placement still holds the allocations on the source until the next step moves them; the instances are hard-rebooted on the destination and their volumes re-attached. /op undo restores the rows' pre-images (refused for a row that changed since).",
      );
    } else if (args.method === 'db') {
      data.sql = { toNode: args.to, expected: { instances: 0, portBindings: 0, portBindingLevels: 0 }, statements: [] };
    }
    warnings.push(
      `Only with shared storage for the instances (/var/lib/nova/instances): the guests are rebuilt from their disks. ${args.from} stays forced down and disabled afterwards.`,
    );
    return {
      target: args.from,
      args,
      resolved: {
        // what proved it dead, without the times and wording that change from one reading to the next
        evidence: { nova: evidence.nova.state, forcedDown: evidence.nova.forcedDown, ssh: evidence.ssh },
        fence: c.fence ? c.fence.argvFor(args.from) : null,
        instances: instances as unknown as JsonValue,
        providers: { from: data.fromProvider, to: data.toProvider },
        sql: (data.sql ?? null) as unknown as JsonValue,
      },
      steps: steps(data, c, !!c.fence, args.forceDown),
      summary: `evacuate ${args.from} → ${args.to} (${args.reason}), method=${args.method}: ${instances.length} instance(s)${args.method === 'api' ? `, ${args.parallel} at a time` : ''}`,
      warnings,
    };
  },
  steps(plan, deps) {
    const a = plan.args as EvacuateArgs;
    const r = plan.resolved as {
      fence: string[] | null;
      instances: EvacuatedInstance[];
      providers: { from: string | null; to: string | null };
      sql: EvacuatePlanData['sql'] | null;
    };
    const data: EvacuatePlanData = {
      from: a.from,
      to: a.to,
      reason: a.reason,
      method: a.method,
      parallel: a.parallel,
      instances: r.instances,
      fromProvider: r.providers.from,
      toProvider: r.providers.to,
      ...(r.sql ? { sql: r.sql } : {}),
    };
    return steps(
      data,
      deps.node,
      r.fence !== null,
      a.forceDown,
      plan.steps.some((s) => s.id.startsWith('evacuate-batch:')),
    );
  },
});
