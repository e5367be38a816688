/**
 * SQL adapter on the nova, nova_api, neutron and cinder databases. It offers the runbook's named
 * queries and the evacuate-by-SQL write, never free SQL. Every write: grants preflight (once),
 * pre-image under FOR UPDATE handed to the journal before the write, row counts asserted, whole
 * transaction retried on deadlock/lock-wait, undo from the journaled pre-image. See adapters/db/.
 */
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { hostName, uuid } from '../core/values.js';
import { type DbConfig, loadDbConfig } from './db/config.js';
import { DbPreflightError } from './db/db-error.js';
import { applyEvacuate, planEvacuate, undoWrite, type EvacuateExpected, type EvacuatePlan, type WriteOptions, type WriteResult } from './db/evacuate-by-sql.js';
import { DbPools } from './db/pools.js';
import { describeMissing, runPreflight, type PreflightReport } from './db/preflight.js';
import {
  EVACUATE_PRIVILEGES,
  READ_PRIVILEGES,
  selectComputeNodes,
  selectInstanceLocations,
  selectInstancesOnHost,
  selectVolumesOfInstances,
  selectVolumesOnHostJoined,
  type EvacuateTarget,
  type InstanceLocation,
  type InstanceOnHost,
  type VolumeOnHost,
} from './db/queries.js';
import type { PreImageEntry } from './db/write-journal.js';

export { loadDbConfig, parseDsn, DB_NAMES, type DbConfig, type DbName } from './db/config.js';
export { DbError, DbRowCountError, DbUndoConflictError, DbPreflightError } from './db/db-error.js';
export type { WriteJournal, PreImageEntry, PreImageRow } from './db/write-journal.js';
export { MemoryJournal } from './db/write-journal.js';
export type { PlannedStatement } from './db/guarded-write.js';
export type { EvacuateExpected, EvacuatePlan, WriteResult, WriteOptions } from './db/evacuate-by-sql.js';
export type { InstanceOnHost, InstanceLocation, VolumeOnHost, EvacuateTarget, ComputeNode, DestinationBinding } from './db/queries.js';
export type { PreflightReport, MissingPrivilege } from './db/preflight.js';

/** Input of an evacuation by SQL, as validated values (never chat text). */
export const evacuateInputSchema = z
  .object({
    from: hostName,
    to: hostName,
    /** Destination node (hypervisor_hostname); by default the one compute node nova has for `to`. */
    toNode: hostName.optional(),
    instanceUuids: z.array(uuid).min(1, 'at least one instance').max(1000),
  })
  .refine((v) => v.from !== v.to, { message: 'source and destination host must differ', path: ['to'] });
export type EvacuateInput = z.input<typeof evacuateInputSchema>;

/** The adapter's whole surface. */
export interface DbAdapter {
  /** Runbook 6.1: non-deleted instances whose `host` is this host. */
  instancesOnHost(host: string): Promise<InstanceOnHost[]>;
  /** Runbook 5.1 rewritten for Zed: attached, non-deleted volumes of the non-deleted instances on this host. */
  volumesOnHost(host: string): Promise<VolumeOnHost[]>;
  /** Where nova (host, node) and neutron (ML2 bindings) place these instances; for read-back after an in-doubt write. */
  instanceLocations(instanceUuids: readonly string[]): Promise<InstanceLocation[]>;
  /** Dry-run of runbook 6.2–6.3: statements, parameters, display copies and row counts; writes nothing. */
  planEvacuate(input: EvacuateInput): Promise<EvacuatePlan>;
  /** Runs the evacuate UPDATEs asserting `expected` (from the approved plan). */
  applyEvacuate(input: EvacuateInput, expected: EvacuateExpected, opts: WriteOptions): Promise<WriteResult>;
  /** Restores the journaled pre-images of committed write ids (refuses if rows changed since). */
  undo(entries: readonly PreImageEntry[], opts: WriteOptions): Promise<WriteResult>;
  /** Tries every privilege the runbook's reads and writes need; reports exactly what is missing. */
  preflight(): Promise<PreflightReport>;
  close(): Promise<void>;
}

export function createDbAdapter(config: DbConfig | Record<string, unknown>): DbAdapter {
  const cfg = loadDbConfig(config as Record<string, unknown>);
  const pools = new DbPools(cfg);
  let writesAllowed = false;

  const parseHost = (h: string): string => {
    const r = hostName.safeParse(h);
    if (!r.success) throw new InputError([{ path: 'host', message: r.error.issues[0]?.message ?? 'invalid host' }], 'a compute host name');
    return r.data;
  };
  const usage = 'from, to, [toNode], instanceUuids';
  // instances.node must name a real compute node of the destination, or nova loses track of the guest.
  const parseTarget = async (input: EvacuateInput): Promise<EvacuateTarget> => {
    const r = evacuateInputSchema.safeParse(input);
    if (!r.success)
      throw new InputError(
        r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        usage,
      );
    const { from, to, toNode, instanceUuids } = r.data;
    const nodes = (await pools.withSession(['nova'], 'compute-nodes-of-host', (s) => selectComputeNodes(s, to))).map((n) => n.hypervisorHostname);
    const problem = (path: string, message: string) => new InputError([{ path, message }], usage);
    if (nodes.length === 0) throw problem('to', `${to} has no compute node in nova (nova.compute_nodes): is nova-compute registered there?`);
    if (toNode !== undefined) {
      if (!nodes.includes(toNode)) throw problem('toNode', `${to} has no compute node ${toNode}; it has ${nodes.join(', ')}`);
      return { from, to, toNode, instanceUuids };
    }
    const [only, ...more] = nodes;
    if (only === undefined || more.length > 0)
      throw problem('toNode', `${to} has ${nodes.length} compute nodes (${nodes.join(', ')}): say which one with toNode`);
    return { from, to, toNode: only, instanceUuids };
  };
  // The grants are checked once, before the first write; a failed check is not cached.
  const ensureGrants = async (): Promise<void> => {
    if (writesAllowed) return;
    const report = await runPreflight(pools, EVACUATE_PRIVILEGES);
    if (!report.ok) throw new DbPreflightError(report.missing, describeMissing(report.missing));
    writesAllowed = true;
  };

  return {
    async instancesOnHost(host) {
      const h = parseHost(host);
      return pools.withSession(['nova'], 'instances-on-host', (s) => selectInstancesOnHost(s, h));
    },
    async volumesOnHost(host) {
      const h = parseHost(host);
      if (pools.sameServer(['nova', 'cinder'])) return pools.withSession(['nova', 'cinder'], 'volumes-on-host', (s) => selectVolumesOnHostJoined(s, h));
      const instances = await pools.withSession(['nova'], 'volumes-on-host', (s) => selectInstancesOnHost(s, h));
      return pools.withSession(['cinder'], 'volumes-on-host', (s) => selectVolumesOfInstances(s, instances));
    },
    async instanceLocations(instanceUuids) {
      const r = z.array(uuid).max(1000).safeParse(instanceUuids);
      if (!r.success)
        throw new InputError(
          r.error.issues.map((i) => ({ path: `instanceUuids.${i.path.join('.')}`, message: i.message })),
          'instance UUIDs',
        );
      const ids = r.data;
      if (pools.sameServer(['nova', 'neutron'])) return pools.withSession(['nova', 'neutron'], 'instance-locations', (s) => selectInstanceLocations(s, s, ids));
      return pools.withSession(['nova'], 'instance-locations', (n) =>
        pools.withSession(['neutron'], 'instance-locations', (q) => selectInstanceLocations(n, q, ids)),
      );
    },
    async planEvacuate(input) {
      return planEvacuate(pools, await parseTarget(input));
    },
    async applyEvacuate(input, expected, opts) {
      const target = await parseTarget(input);
      await ensureGrants();
      return applyEvacuate(pools, target, expected, opts);
    },
    async undo(entries, opts) {
      await ensureGrants();
      return undoWrite(pools, entries, opts);
    },
    async preflight() {
      return runPreflight(pools, [...READ_PRIVILEGES, ...EVACUATE_PRIVILEGES]);
    },
    async close() {
      await pools.close();
    },
  };
}
