/**
 * Rebuilding one instance of a dead host on another (`POST /servers/{id}/action {"evacuate":
 * {"host": …}}`, compute ≥ 2.29) and proving it landed: idempotent by reading Nova first. An
 * instance already on the destination is done; one whose evacuation is under way (task state
 * rebuilding, record accepted/pre-migrating/migrating) is waited for, never evacuated again; only an
 * instance still on the source with nothing in flight gets a new evacuation.
 */
import type { Migration, Server } from '../../adapters/openstack/cloud.js';
import type { EventWatch } from '../../adapters/openstack/nova-notifications.js';
import { ChatOpsError } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';
import type { JsonValue } from '../../engine/runbook.js';
import type { CloudDeps } from '../deps.js';
import { novaReason, pollDelay, safetyNetMs } from './migrate-instances.js';

/** One instance of an evacuation plan (plain JSON, part of the plan hash). */
export interface EvacuatedInstance {
  id: string;
  name: string;
  status: string;
  /** Volumes Nova has attached to it, with their devices (verified after the move). */
  volumes: { volumeId: string; device: string | null }[];
  /** Its Neutron ports (their binding must follow it). */
  ports: string[];
  [k: string]: JsonValue;
}

export interface EvacuateResult {
  id: string;
  name: string;
  to: string | null;
  result: 'evacuated' | 'already' | 'gone';
  ms: number;
  [k: string]: JsonValue;
}

const IN_FLIGHT_RECORD = ['accepted', 'pre-migrating', 'migrating', 'preparing', 'running', 'queued'];

/** The evacuation records of a server off `from`, newest first. */
async function evacuations(c: CloudDeps, id: string, from: string): Promise<Migration[]> {
  return (await c.cloud.listMigrations({ serverId: id, migrationType: 'evacuation' })).filter((m) => m.sourceCompute === from).sort((a, b) => b.id - a.id);
}

/** Read-only: is this instance already rebuilt off `from` (or gone)? */
export async function observeEvacuation(
  c: CloudDeps,
  i: EvacuatedInstance,
  from: string,
  to: string,
): Promise<{ done: boolean; detail: string; output?: EvacuateResult; seen?: Server }> {
  const s = await c.cloud.getServer(i.id);
  if (!s) return { done: true, detail: `${i.name} no longer exists`, output: { id: i.id, name: i.name, to: null, result: 'gone', ms: 0 } };
  if (s.host === to && s.taskState === null && s.status !== 'ERROR')
    return { done: true, detail: `${i.name} is on ${to} (${s.status})`, output: { id: i.id, name: i.name, to, result: 'already', ms: 0 } };
  return { done: false, detail: `${i.name} is on ${s.host ?? '?'} (${s.status}${s.taskState ? `, ${s.taskState}` : ''})`, seen: s };
}

/** The status an evacuated instance settles in: Nova keeps a stopped one stopped. */
const expectedStatus = (planned: string) => (planned === 'SHUTOFF' ? 'SHUTOFF' : 'ACTIVE');

export async function evacuateInstance(
  c: CloudDeps,
  i: EvacuatedInstance,
  o: { from: string; to: string; signal: AbortSignal; beforeStart(detail: Record<string, JsonValue>): Promise<void>; seen?: Server },
): Promise<EvacuateResult> {
  const t0 = c.clock.now();
  const s = o.seen ?? (await c.cloud.getServer(i.id));
  if (!s) return { id: i.id, name: i.name, to: null, result: 'gone', ms: 0 };
  if (s.host === o.to && s.taskState === null && s.status !== 'ERROR') return { id: i.id, name: i.name, to: o.to, result: 'already', ms: 0 };
  const records = await evacuations(c, i.id, o.from);
  // Nova's end of the rebuild, where the cloud's bus is offered: subscribed before the request that
  // causes it, it ends the wait at once; the reads stay as the safety net, at the slow interval.
  const watch = c.events?.connected ? c.events.watch((e) => e.instanceUuid === i.id && REBUILD_END.test(e.eventType)) : undefined;
  try {
    return await rebuilt(c, i, o, { t0, s, records, watch });
  } finally {
    watch?.stop();
  }
}

/** Nova's notifications that end an evacuation on the destination (the rebuild's end, or its failure). */
const REBUILD_END = /^instance\.(rebuild\.end|rebuild\.error|evacuate\.error)$/;

async function rebuilt(
  c: CloudDeps,
  i: EvacuatedInstance,
  o: { from: string; to: string; signal: AbortSignal; beforeStart(detail: Record<string, JsonValue>): Promise<void> },
  m0: { t0: number; s: Server; records: Migration[]; watch: EventWatch | undefined },
): Promise<EvacuateResult> {
  const { t0, records, watch } = m0;
  let s: Server | undefined = m0.s;
  const underWay = s.taskState !== null || records.some((m) => IN_FLIGHT_RECORD.includes(m.status));
  if (!underWay) {
    if (s.host !== o.from) {
      throw new ChatOpsError('STEP_FAILED', `${i.name} (${i.id}) is on ${s.host ?? '?'} (${s.status}), neither on ${o.from} nor on ${o.to}: left alone`, {
        details: { server: i.id, host: s.host },
      });
    }
    await o.beforeStart({ server: i.id, name: i.name, from: o.from, to: o.to });
    await c.cloud.evacuateServer(i.id, { host: o.to });
  }
  const deadline = t0 + c.migrationTimeoutMs;
  const want = expectedStatus(i.status);
  let woken = false;
  for (let k = 0; ; k++) {
    // With the events: each read waits for Nova's end (the safety net's interval at most); once it
    // came, reads follow quickly (the record is marked done a moment after the rebuild's end).
    if (watch && !woken) {
      woken = (await watch.next(safetyNetMs(c), o.signal)) !== undefined;
      if (woken) k = 0;
    }
    const polled = c.clock.now();
    s = await c.cloud.getServer(i.id);
    if (!s) return { id: i.id, name: i.name, to: null, result: 'gone', ms: c.clock.now() - t0 };
    const rec = (await evacuations(c, i.id, o.from))[0];
    if (s.status === 'ERROR' || rec?.status === 'error' || rec?.status === 'failed') {
      const reason = await novaReason(c.cloud, i.id);
      throw new ChatOpsError(
        'STEP_FAILED',
        `the evacuation of ${i.name} (${i.id}) failed: Nova says ${rec ? `evacuation ${rec.id} is ${rec.status}` : 'no evacuation record'}, the server is ${s.status} on ${s.host ?? '?'}${reason ? ` (${reason})` : ''}`,
        {
          details: { server: i.id, migration: rec?.id ?? null, reason: reason ?? null },
        },
      );
    }
    if (s.taskState === null && s.host === o.to && s.status === want && (!rec || rec.status === 'done' || rec.status === 'completed')) break;
    if (c.clock.now() > deadline) {
      throw new ChatOpsError(
        'TIMEOUT',
        `${i.name} (${i.id}) is still ${s.status}${s.taskState ? `/${s.taskState}` : ''} on ${s.host ?? '?'} ${Math.round(c.migrationTimeoutMs / 1000)} s after its evacuation started (record: ${rec ? `${rec.id} ${rec.status}` : 'none'})`,
        { details: { server: i.id } },
      );
    }
    if (!watch || woken) await sleep(Math.max(0, pollDelay(k, c.pollIntervalMs ?? 2000) - (c.clock.now() - polled)), o.signal);
  }
  return { id: i.id, name: i.name, to: o.to, result: 'evacuated', ms: c.clock.now() - t0 };
}

/** What Nova, Neutron, Cinder and Placement say of one moved instance; `problems` empty when all agree on `to`. */
export async function verifyMoved(
  c: CloudDeps,
  i: EvacuatedInstance,
  to: string,
  toProvider: string | undefined,
  fromProvider: string | undefined,
  expectSourceAllocation: boolean,
): Promise<{ problems: string[]; notes: string[] }> {
  const problems: string[] = [];
  const notes: string[] = [];
  const s = await c.cloud.getServer(i.id);
  if (!s) return { problems, notes: [`${i.name} no longer exists`] };
  if (s.host !== to) problems.push(`${i.name} is on ${s.host ?? '?'}, not ${to}`);
  if (s.status !== expectedStatus(i.status)) problems.push(`${i.name} is ${s.status}, expected ${expectedStatus(i.status)}`);
  for (const p of i.ports) {
    const port = await c.cloud.getPort(p);
    if (port && port.bindingHostId !== to) problems.push(`port ${p} of ${i.name} is bound to ${port.bindingHostId || 'no host'}, not ${to}`);
  }
  const attached = new Set((await c.cloud.listServerVolumes(i.id)).map((v) => v.volumeId));
  for (const v of i.volumes) if (!attached.has(v.volumeId)) problems.push(`volume ${v.volumeId} is no longer attached to ${i.name}`);
  const alloc = await c.cloud.getConsumerAllocations(i.id);
  if (toProvider && !alloc[toProvider]) problems.push(`Placement has no allocation of ${i.name} on ${to}`);
  const elsewhere = Object.keys(alloc).filter((rp) => rp !== toProvider);
  if (elsewhere.length) {
    if (expectSourceAllocation && elsewhere.every((rp) => rp === fromProvider))
      notes.push(`${i.name} still holds its allocation on the source until the source's nova-compute cleans up (Nova's own evacuation bookkeeping)`);
    else problems.push(`Placement still allocates ${i.name} on ${elsewhere.join(', ')}`);
  }
  return { problems, notes };
}
