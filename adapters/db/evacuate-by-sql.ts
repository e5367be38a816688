/**
 * Runbook 6 "the SQL way": move the instances' rows in nova.instances (host and node) and their
 * ports' ML2 bindings and binding levels in neutron from one host to another. When nova and
 * neutron share a server this is one transaction; otherwise nova commits first and a failure on
 * neutron undoes nova from the pre-image (reported, since it is not atomic).
 */
import type { DbName } from './config.js';
import { DbError, DbRowCountError } from './db-error.js';
import { guardedUpdate, undoEntries, type PlannedStatement, type WriteContext } from './guarded-write.js';
import type { DbPools, Session } from './pools.js';
import { evacuateSpecs, selectDestinationBindings, selectMovingUuids, type DestinationBinding, type EvacuateTarget } from './queries.js';
import type { PreImageEntry, WriteJournal } from './write-journal.js';

/** Row counts a plan found; the apply asserts exactly these (they are part of what was approved). */
export interface EvacuateExpected {
  instances: number;
  portBindings: number;
  portBindingLevels: number;
}

/** The dry-run: the statements that would run, with row counts; nothing written, nothing locked. */
export interface EvacuatePlan {
  target: EvacuateTarget;
  statements: PlannedStatement[];
  expected: EvacuateExpected;
  /** False when nova and neutron are on different servers (two transactions, compensated by undo). */
  singleTransaction: boolean;
  /** Ports that already have a binding on the destination: the apply would fail on them (duplicate key). */
  destinationBindings: DestinationBinding[];
}

/** What an apply (or undo) did. Undo with the journal entries of `writeIds`. */
export interface WriteResult {
  statements: PlannedStatement[];
  /** Committed write ids, one per transaction, in order. */
  writeIds: string[];
  /** Attempts of the last transaction (more than 1 after a deadlock or lock-wait retry). */
  attempts: number;
  singleTransaction: boolean;
}

export interface WriteOptions {
  journal: WriteJournal;
  operationId?: string;
  now?: () => Date;
}

/**
 * One server group's share of the evacuation on one session: nova.instances first (and which of
 * the requested instances really move), then the bindings and levels of exactly those instances'
 * ports. `moving` carries the nova result over to a neutron group on another server.
 */
async function runGroup(
  s: Session,
  group: readonly DbName[],
  target: EvacuateTarget,
  moving: { uuids: string[] },
  expected: EvacuateExpected | undefined,
  ctx: WriteContext,
): Promise<PlannedStatement[]> {
  const out: PlannedStatement[] = [];
  if (group.includes('nova')) {
    // Read (and lock) which instances move before the update moves them off the source host.
    moving.uuids = await selectMovingUuids(s, target, ctx.mode === 'apply');
    out.push(await guardedUpdate(s, evacuateSpecs(target).instances, expected?.instances, ctx));
  }
  if (group.includes('neutron')) {
    if (moving.uuids.length === 0) {
      // Nothing moves, so no port may either; an approved non-zero count is a mismatch.
      if (expected && expected.portBindings !== 0) throw new DbRowCountError('neutron', 'evacuate.neutron.ml2_port_bindings', expected.portBindings, 0);
      if (expected && expected.portBindingLevels !== 0)
        throw new DbRowCountError('neutron', 'evacuate.neutron.ml2_port_binding_levels', expected.portBindingLevels, 0);
      return out;
    }
    const specs = evacuateSpecs({ ...target, instanceUuids: moving.uuids });
    out.push(await guardedUpdate(s, specs.portBindings, expected?.portBindings, ctx));
    out.push(await guardedUpdate(s, specs.portBindingLevels, expected?.portBindingLevels, ctx));
  }
  return out;
}

export async function planEvacuate(pools: DbPools, target: EvacuateTarget): Promise<EvacuatePlan> {
  const ctx: WriteContext = { mode: 'dry-run', writeId: 'dry-run', now: () => new Date() };
  const statements: PlannedStatement[] = [];
  const moving = { uuids: [] as string[] };
  let destinationBindings: DestinationBinding[] = [];
  for (const group of pools.serverGroups(['nova', 'neutron'])) {
    await pools.withSession(group, 'evacuate.plan', async (s) => {
      statements.push(...(await runGroup(s, group, target, moving, undefined, ctx)));
      if (group.includes('neutron') && moving.uuids.length > 0)
        destinationBindings = await selectDestinationBindings(s, { ...target, instanceUuids: moving.uuids });
    });
  }
  const rows = (name: string): number => statements.find((p) => p.statement === name)?.rows ?? 0;
  return {
    target,
    statements,
    expected: {
      instances: rows('evacuate.nova.instances'),
      portBindings: rows('evacuate.neutron.ml2_port_bindings'),
      portBindingLevels: rows('evacuate.neutron.ml2_port_binding_levels'),
    },
    singleTransaction: pools.sameServer(['nova', 'neutron']),
    destinationBindings,
  };
}

export async function applyEvacuate(pools: DbPools, target: EvacuateTarget, expected: EvacuateExpected, opts: WriteOptions): Promise<WriteResult> {
  const groups = pools.serverGroups(['nova', 'neutron']);
  const done: { writeId: string; entries: PreImageEntry[] }[] = [];
  const statements: PlannedStatement[] = [];
  const moving = { uuids: [] as string[] };
  let attempts = 1;
  try {
    for (const group of groups) {
      const r = await pools.transaction(group, 'evacuate', async (s, a) => {
        const { ctx, entries } = teeContext(opts, a.writeId);
        return { out: await runGroup(s, group, target, moving, expected, ctx), entries };
      });
      statements.push(...r.value.out);
      done.push({ writeId: r.writeId, entries: r.value.entries });
      attempts = r.attempts;
    }
  } catch (e) {
    if (done.length === 0) throw e;
    // Not atomic across servers: put back what already committed, then report both.
    await undoWrite(
      pools,
      done.flatMap((d) => d.entries),
      opts,
    ).catch((u) => {
      throw new DbError(
        `evacuate failed after ${done.length} of ${groups.length} transactions committed, and undoing them failed too: ${(u as Error).message}; the rows are inconsistent, see the journal (write ids ${done.map((d) => d.writeId).join(', ')})`,
        { database: groups.flat() as DbName[], statement: 'evacuate.compensate', inDoubt: true },
        e,
      );
    });
    throw e;
  }
  return { statements, writeIds: done.map((d) => d.writeId), attempts, singleTransaction: groups.length === 1 };
}

/**
 * Restores journaled pre-images (pass the entries of the committed write ids, in the order they
 * were journaled). Databases sharing a server are restored in one transaction; refused as a whole
 * (DbUndoConflictError) if any row no longer holds the values the write left.
 */
export async function undoWrite(pools: DbPools, entries: readonly PreImageEntry[], opts: WriteOptions): Promise<WriteResult> {
  const dbs = [...new Set(entries.map((e) => e.database))];
  const statements: PlannedStatement[] = [];
  const writeIds: string[] = [];
  let attempts = 1;
  // Later servers first, since the write went in group order.
  for (const group of pools.serverGroups(dbs).reverse()) {
    const mine = entries.filter((e) => group.includes(e.database));
    const r = await pools.transaction(group, 'undo', async (s: Session, a) => {
      const { ctx } = teeContext(opts, a.writeId);
      return undoEntries(s, mine, ctx);
    });
    statements.push(...r.value);
    writeIds.push(r.writeId);
    attempts = r.attempts;
  }
  return { statements, writeIds, attempts, singleTransaction: pools.serverGroups(dbs).length <= 1 };
}

/** Passes entries to the caller's journal and keeps a copy, so a failed later step can compensate. */
function teeContext(opts: WriteOptions, writeId: string): { ctx: WriteContext; entries: PreImageEntry[] } {
  const entries: PreImageEntry[] = [];
  const ctx: WriteContext = {
    mode: 'apply',
    writeId,
    ...(opts.operationId ? { operationId: opts.operationId } : {}),
    now: opts.now ?? (() => new Date()),
    journal: {
      preImage: async (e) => {
        await opts.journal.preImage(e);
        entries.push(e);
      },
    },
  };
  return { ctx, entries };
}
