/**
 * Is a host whose instances were evacuated clean enough to come back? After Nova's evacuate, the
 * host's own nova-compute destroys the old guests when it starts and marks the evacuation records
 * `completed`; until then the records stay `done` (and Nova refuses `--up`). After the SQL way no
 * such record exists, so the bot looks on the node itself: no instance directory and no libvirt
 * domain may be left for an instance that now lives elsewhere.
 */
import { fileExists, template, type RemoteResult } from '../../adapters/ssh.js';
import type { Migration } from '../../adapters/openstack/cloud.js';
import type { CloudDeps, NodeDeps } from '../deps.js';

/** What keeps a host fenced. */
export interface EvacuatedState {
  /** Nova evacuation records off the host not yet completed by its nova-compute. */
  pendingRecords: { id: number; serverId: string; status: string }[];
  /** Instances moved off the host by the SQL way (bot journal) that Nova now places elsewhere. */
  movedBySql: { id: string; name: string; opId: string }[];
}

const FINAL = ['completed', 'error', 'failed', 'cancelled'];

export async function pendingEvacuations(c: CloudDeps, host: string): Promise<Migration[]> {
  return (await c.cloud.listMigrations({ host, migrationType: 'evacuation' })).filter((m) => m.sourceCompute === host && !FINAL.includes(m.status));
}

export async function evacuatedState(c: CloudDeps, deps: NodeDeps, host: string): Promise<EvacuatedState> {
  const pendingRecords = (await pendingEvacuations(c, host)).map((m) => ({ id: m.id, serverId: m.serverId, status: m.status }));
  const movedBySql: EvacuatedState['movedBySql'] = [];
  const seen = new Set<string>();
  for (const r of (await deps.evacuations?.evacuationsFrom(host)) ?? []) {
    if (r.method !== 'db' || !r.completedSteps.includes('sql-move')) continue;
    for (const i of r.instances) {
      if (seen.has(i.id)) continue;
      seen.add(i.id);
      const s = await c.cloud.getServer(i.id);
      if (s && s.host !== host) movedBySql.push({ id: i.id, name: i.name, opId: r.opId });
    }
  }
  return { pendingRecords, movedBySql };
}

/** Leftovers of these instances on the node: their directories under instances_path, and libvirt domains. */
export async function leftoverGuests(c: CloudDeps, host: string, uuids: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const base = c.instancesPath?.(host) ?? '/var/lib/nova/instances';
  for (const u of uuids) {
    const t = fileExists(`${base}/${u}`);
    const r = await c.shell.run(host, t.command, { okExitCodes: t.okExitCodes, sudo: c.sudo, timeoutMs: 30_000 });
    if (r.exitCode === 0) found.push(`${base}/${u} exists`);
  }
  const virsh: RemoteResult = await c.shell.run(host, template('if command -v virsh >/dev/null 2>&1; then virsh list --all --uuid; fi', {}), {
    sudo: c.sudo,
    timeoutMs: 30_000,
  });
  const domains = new Set(virsh.stdout.split('\n').map((l) => l.trim()));
  for (const u of uuids) if (domains.has(u)) found.push(`libvirt domain ${u} is defined`);
  return found;
}
