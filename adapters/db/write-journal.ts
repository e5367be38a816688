/**
 * The port through which every SQL write hands its pre-image to durable storage *before* the write
 * runs. The store behind it belongs to the journal/store module; this adapter needs only `preImage`.
 *
 * Contract: `preImage` resolves only once the entry is durable. If it rejects, the transaction is
 * rolled back and nothing is written. An entry whose `writeId` is not the one the write reports as
 * committed belongs to an attempt that was rolled back (deadlock retry, failure): keep it for the
 * audit, but undo only entries of the committed `writeId`.
 */
import type { DbName } from './config.js';
import type { Row, SqlScalar } from './pools.js';

/** One row about to change: its primary key (as it is before the write) and the changed columns before/after. */
export interface PreImageRow {
  key: Row;
  before: Row;
  after: Row;
}

/** Everything needed to audit and to undo one UPDATE. JSON-serialisable. */
export interface PreImageEntry {
  /** Unique per transaction attempt; the apply result names the committed one. */
  writeId: string;
  /** Caller's operation id (from the plan), for correlation. */
  operationId?: string;
  /** Runbook statement name, e.g. `evacuate.neutron.ml2_port_bindings`. */
  statement: string;
  database: DbName;
  /** The real schema name at the time of the write. */
  schema: string;
  table: string;
  primaryKey: string[];
  /** Exactly the columns the write sets. */
  columns: string[];
  rows: PreImageRow[];
  /** Row count the write asserts (equals rows.length). */
  expectedRows: number;
  /** The UPDATE as run (parameterised) and an operator-readable copy with quoted values (display only). */
  sql: string;
  params: SqlScalar[];
  display: string;
  /** ISO time the pre-image was read (under FOR UPDATE). */
  takenAt: string;
}

/** Minimal journal port: persist a pre-image before the write it describes. */
export interface WriteJournal {
  preImage(entry: PreImageEntry): Promise<void>;
}

/** A journal that keeps entries in memory (tests, dry tooling). Not durable: never use it for real writes. */
export class MemoryJournal implements WriteJournal {
  readonly entries: PreImageEntry[] = [];
  async preImage(entry: PreImageEntry): Promise<void> {
    this.entries.push(structuredClone(entry));
  }
  /** Entries of one committed write, in the order they were taken. */
  committed(writeIds: readonly string[]): PreImageEntry[] {
    return this.entries.filter((e) => writeIds.includes(e.writeId));
  }
}
