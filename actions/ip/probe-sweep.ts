/**
 * The start-up sweep of /ip recover's probe ports. A bot killed mid-round leaves probes behind (named
 * `ip-probe-<op id>`, device_owner chatops:ip-probe); before the engine resumes anything, every probe
 * is deleted, except that a probe holding its operation's address is renamed to the operation's kept
 * name — so the resumed operation finds the address kept, and no sweep ever loses it. Probes of an
 * operation another live replica is running (its lease still holds) are left to that replica, and
 * probes of an operation this store does not know are another bot's (another store on the same
 * cloud: a second team's bot, staging beside production): never touched. Deleting those mid-round
 * freed addresses under that bot's count, which then reported "every address is drawn" for an
 * address that was free.
 */
import type { Cloud } from '../../adapters/openstack/cloud.js';
import type { Store } from '../../store/store.js';
import { PROBE_NAME, PROBE_OWNER } from './ip-network.js';
import { clearProbes, type RecoverPlanData } from './recover.js';

export interface SweepResult {
  deleted: number;
  /** Probe ports renamed because they hold their operation's address. */
  kept: string[];
  /** Operations whose probes were left to the replica running them. */
  leftToOthers: string[];
  /** Operations this store does not know (another bot's): their probes are left alone. */
  foreign: string[];
}

export async function sweepProbes(cloud: Cloud, store: Pick<Store, 'getOperation' | 'clock'>, self: string): Promise<SweepResult> {
  const ops = new Set<string>();
  for (const p of await cloud.listPorts({ deviceOwner: PROBE_OWNER })) {
    const m = PROBE_NAME.exec(p.name);
    if (m) ops.add(m[1]!);
  }
  const r: SweepResult = { deleted: 0, kept: [], leftToOthers: [], foreign: [] };
  for (const opId of ops) {
    const op = await store.getOperation(opId);
    if (!op) {
      r.foreign.push(opId);
      continue;
    }
    if (op.state === 'running' && op.owner && op.owner !== self && (op.leaseUntil ?? 0) > store.clock.now()) {
      r.leftToOthers.push(opId);
      continue;
    }
    const d = op.runbook === 'ip.recover' ? (op.plan.resolved as unknown as RecoverPlanData) : undefined;
    const c = await clearProbes(cloud, opId, d?.ip, d?.keptName);
    r.deleted += c.deleted;
    if (c.kept) r.kept.push(c.kept);
  }
  return r;
}
