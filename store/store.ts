/**
 * The bot's own state behind one interface: operations and their step journal, approval requests,
 * host locks, the audit log, schedules, the watcher's incidents and delivery de-duplication.
 *
 * Two implementations share every SQL statement (store/sql-store.ts): SQLite (one file, the default)
 * and MySQL/MariaDB (several bot replicas sharing one database). Every method is one atomic statement
 * or one transaction, so two replicas racing for the same row never both win: each "claim", "decide"
 * or "acquire" reports whether *this caller* won.
 *
 * Times are epoch milliseconds taken from the injected `clock` (never the database's NOW()), so that
 * expiry, leases and TTLs are testable and agree across backends. JSON columns hold plain data only.
 * The store imports nothing but core/.
 */
import type { Clock } from '../core/clock.js';
import type { Requester } from '../core/types.js';

/** Plain JSON data, as stored in a JSON column. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object; `unknown` values so callers may store their own typed records without casts. */
export type JsonObject = Record<string, unknown>;

// ───────────────────────────── operations ─────────────────────────────

/**
 * Where an operation is in its life. Unfinished: pending_approval, approved, running, paused, in_doubt.
 * Finished (never change again): succeeded, failed, aborted, rejected, expired, cancelled.
 */
export const OPERATION_STATES = [
  'pending_approval',
  'approved',
  'running',
  'paused',
  'in_doubt',
  'succeeded',
  'failed',
  'aborted',
  'rejected',
  'expired',
  'cancelled',
] as const;
export type OperationState = (typeof OPERATION_STATES)[number];
export const FINISHED_STATES: readonly OperationState[] = ['succeeded', 'failed', 'aborted', 'rejected', 'expired', 'cancelled'];
export const UNFINISHED_STATES: readonly OperationState[] = ['pending_approval', 'approved', 'running', 'paused', 'in_doubt'];
export const isFinished = (s: OperationState): boolean => FINISHED_STATES.includes(s);

/** One execution of a plan. */
export interface OperationRecord {
  /** `op-` + 12 lower-case base32 characters (core/values.ts operationId). */
  id: string;
  runbook: string;
  target: string;
  /** The plan as shown and approved (serialised core Plan; JSON). */
  plan: JsonObject;
  planHash: string;
  state: OperationState;
  requester: Requester;
  channelId: string;
  /** ts of the thread's parent message (the status card), once posted. */
  threadTs: string | null;
  /** ts of the status card message to edit in place (usually equal to threadTs). */
  cardTs: string | null;
  /** Free-form data of the runner (current step, error summary, durations…). */
  detail: JsonObject;
  createdAt: number;
  updatedAt: number;
  /** Which bot process holds the operation (e.g. "host:pid:random"); null when nobody does. */
  owner: string | null;
  /** The owner's lease ends here; after it, another process may claim the operation. */
  leaseUntil: number | null;
  /** Incremented by every write; the compare-and-set token. */
  version: number;
}

export interface NewOperation {
  /** Optional; generated (newOperationId) when absent. */
  id?: string;
  runbook: string;
  target: string;
  plan: JsonObject;
  planHash: string;
  /** Default 'pending_approval'. */
  state?: OperationState;
  requester: Requester;
  channelId: string;
  threadTs?: string | null;
  cardTs?: string | null;
  detail?: JsonObject;
}

/** Fields an update may set. `detail` replaces the whole object (read, merge, write under CAS). */
export interface OperationPatch {
  state?: OperationState;
  plan?: JsonObject;
  planHash?: string;
  threadTs?: string | null;
  cardTs?: string | null;
  detail?: JsonObject;
}

/** Conditions of a compare-and-set; every given condition must hold for the write to happen. */
export interface OperationExpect {
  version?: number;
  /** The current state must be this one (or one of these). */
  state?: OperationState | readonly OperationState[];
  /** The current owner must be exactly this (null = nobody). */
  owner?: string | null;
}

export interface OperationFilter {
  states?: readonly OperationState[];
  runbook?: string;
  target?: string;
  /** Only operations nobody holds or whose lease has ended (by the store's clock). */
  claimable?: boolean;
  /** Newest first; default 50. */
  limit?: number;
}

// ───────────────────────────── step journal ─────────────────────────────

export type StepStatus = 'ok' | 'failed' | 'skipped';

/**
 * One attempt of one step: an intent written before the side effect, a result after it.
 * An entry with an intent and no result is *in doubt*.
 */
export interface JournalEntry {
  /** Monotonic across the store; orders the journal. */
  seq: number;
  operationId: string;
  stepId: string;
  /** 1 for the first attempt of this step in this operation, then 2, 3… (a resume after reconciliation). */
  attempt: number;
  /** What is about to happen: equivalent command, pre-image of DB rows, target… */
  intent: JsonObject;
  intentAt: number;
  /** Null while in doubt. */
  status: StepStatus | null;
  /** Output tail, exit status, what was observed. */
  output: JsonObject | null;
  /** What the step changed, for undo (prior rows, created ids). */
  saved: JsonObject | null;
  /** True when the result was written by reconciliation (state read again), not by the step itself. */
  reconciled: boolean;
  resultAt: number | null;
}

export interface StepResult {
  status: StepStatus;
  output?: JsonObject;
  saved?: JsonObject;
  reconciled?: boolean;
}

// ───────────────────────────── approvals ─────────────────────────────

export const APPROVAL_STATES = ['pending', 'approved', 'rejected', 'expired', 'cancelled', 'void'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** One person's "approve" on a request (N-of-M requests collect several). */
export interface ApprovalVote {
  userId: string;
  teamId: string;
  userName?: string;
  at: number;
}

/** An approval request, bound to one operation and one plan hash. */
export interface ApprovalRecord {
  /** `ap-` + 12 base32 characters. */
  id: string;
  operationId: string;
  planHash: string;
  /** The approval class, e.g. "change", "user_data", "break_glass". */
  kind: string;
  /** Why it was asked: "start", or "resume" for an approved continuation after reconciliation. */
  purpose: string;
  /** The policy as it was when the request was made (who may approve, how many, TTLs). */
  policy: JsonObject;
  state: ApprovalState;
  /** How many distinct approvers are needed. */
  required: number;
  requester: Requester;
  approvers: ApprovalVote[];
  /** Who rejected, cancelled or voided; null otherwise. */
  decidedBy: Requester | null;
  /** The requester's reason, or the reject/void reason. */
  reason: string | null;
  createdAt: number;
  /** A pending request expires here. */
  expiresAt: number;
  decidedAt: number | null;
  /** An approved request must be consumed (the run started) before this time. */
  startBy: number | null;
  /** When the run started under this approval; an approval is consumed once. */
  consumedAt: number | null;
  version: number;
}

export interface NewApproval {
  id?: string;
  operationId: string;
  planHash: string;
  kind: string;
  purpose?: string;
  policy: JsonObject;
  required: number;
  requester: Requester;
  reason?: string | null;
  expiresAt: number;
  /** Break-glass records are created already approved. Default 'pending'. */
  state?: ApprovalState;
  approvers?: ApprovalVote[];
  startBy?: number | null;
  decidedAt?: number | null;
}

export interface ApprovalPatch {
  state?: ApprovalState;
  approvers?: ApprovalVote[];
  decidedBy?: Requester | null;
  reason?: string | null;
  decidedAt?: number | null;
  startBy?: number | null;
  consumedAt?: number | null;
}

export interface ApprovalExpect {
  /** Required: every approval write is a compare-and-set on the version. */
  version: number;
  state?: ApprovalState | readonly ApprovalState[];
}

export interface ApprovalFilter {
  operationId?: string;
  states?: readonly ApprovalState[];
  /** Only requests with expiresAt <= this time. */
  expiresBefore?: number;
  /** Only requests with a startBy <= this time (approved ones whose start window has passed). */
  startByBefore?: number;
  limit?: number;
}

// ───────────────────────────── locks ─────────────────────────────

/** A named lock held by one operation (e.g. "host:c01"); survives restarts until released. */
export interface LockRecord {
  key: string;
  operationId: string;
  requester: Requester;
  acquiredAt: number;
}

export type LockResult = { acquired: true; lock: LockRecord } | { acquired: false; heldBy: LockRecord };

// ───────────────────────────── audit ─────────────────────────────

/** One append-only audit entry. */
export interface AuditRecord {
  seq: number;
  at: number;
  /** "U123@T456" for a person, "bot:<owner>" for the bot itself. */
  actor: string;
  /** Dotted kind, e.g. "operation.requested", "approval.approved", "step.intent", "sql.preimage", "ssh.command". */
  kind: string;
  operationId: string | null;
  payload: JsonObject;
}

export interface NewAudit {
  actor: string;
  kind: string;
  operationId?: string | null;
  payload?: JsonObject;
}

export interface AuditFilter {
  operationId?: string;
  /** Only entries with seq > afterSeq. */
  afterSeq?: number;
  /** Oldest first; default 500. */
  limit?: number;
}

// ───────────────────────────── schedules ─────────────────────────────

/**
 * scheduled → running (one replica claimed it: a compare-and-set) → done (its operation started, or
 * asked again after drift) | failed (it could not start). cancelled: by a person before its time.
 * missed: its time passed while no bot ran, beyond the grace period; never run late.
 */
export const SCHEDULE_STATES = ['scheduled', 'running', 'done', 'failed', 'cancelled', 'missed'] as const;
export type ScheduleState = (typeof SCHEDULE_STATES)[number];

export interface ScheduleRecord {
  /** `sc-` + 12 base32 characters. */
  id: string;
  runbook: string;
  args: JsonObject;
  runAt: number;
  state: ScheduleState;
  requester: Requester;
  channelId: string;
  /** Its operation (planned when it was asked for; it starts at runAt). */
  operationId: string | null;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export interface NewSchedule {
  id?: string;
  runbook: string;
  args: JsonObject;
  runAt: number;
  requester: Requester;
  channelId: string;
}

export interface SchedulePatch {
  state?: ScheduleState;
  runAt?: number;
  operationId?: string | null;
}

export interface ScheduleFilter {
  states?: readonly ScheduleState[];
  /** Only schedules with runAt <= this time. */
  dueBefore?: number;
  limit?: number;
}

// ───────────────────────────── incidents (the compute watcher) ─────────────────────────────

/**
 * Where an incident is: `pending` (seen down, within the grace period, no card yet), `posting` (one
 * replica claimed it and is posting the card: the intent), `open` (the card is in the channel: the
 * result), `recovering` (the service is up again; one replica claimed the follow-up), `resolved`
 * (the follow-up is in the thread), `cleared` (it came back within the grace period: no card at all).
 */
export const INCIDENT_STATES = ['pending', 'posting', 'open', 'recovering', 'resolved', 'cleared'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];
/** At most one incident per cloud and host is in one of these states (a unique key in the store). */
export const ACTIVE_INCIDENT_STATES: readonly IncidentState[] = ['pending', 'posting', 'open', 'recovering'];

/** One compute service that went down, as the watcher saw it: one card, one follow-up. */
export interface IncidentRecord {
  /** `in-` + 12 base32 characters. */
  id: string;
  /** The cloud's key in the configuration (`clouds.<name>`). */
  cloud: string;
  host: string;
  binary: string;
  /** Nova's `updated_at` of the service when it was first seen down (its last report); '' when Nova gave none. */
  downSince: string;
  state: IncidentState;
  /** When this bot first saw it down (the grace period counts from here). */
  firstSeenAt: number;
  channelId: string;
  /** The card's ts once posted (its thread gets the follow-up). */
  cardTs: string | null;
  /** The replica that claimed the current posting step; null when none. */
  owner: string | null;
  /** The claim ends here; after it another replica takes the step over. */
  leaseUntil: number | null;
  /** What the card said (instances, target, the evacuate command…), plain data. */
  detail: JsonObject;
  createdAt: number;
  updatedAt: number;
  resolvedAt: number | null;
  version: number;
}

export interface NewIncident {
  id?: string;
  cloud: string;
  host: string;
  binary: string;
  downSince: string;
  channelId: string;
  detail?: JsonObject;
}

export interface IncidentPatch {
  state?: IncidentState;
  cardTs?: string | null;
  owner?: string | null;
  leaseUntil?: number | null;
  detail?: JsonObject;
  resolvedAt?: number | null;
}

export interface IncidentExpect {
  version?: number;
  state?: IncidentState | readonly IncidentState[];
  /** The claim must be free: no owner, or a lease that has ended (by the store's clock), or this owner's. */
  claimableBy?: string;
}

export interface IncidentFilter {
  cloud?: string;
  host?: string;
  states?: readonly IncidentState[];
  /** Newest first; default 100. */
  limit?: number;
}

// ───────────────────────────── the store ─────────────────────────────

export interface Store {
  /** The clock every stored time comes from (expiry, leases, TTLs). */
  readonly clock: Clock;
  /** "sqlite" or "mysql", for logs and tests. */
  readonly dialect: 'sqlite' | 'mysql';

  // operations
  createOperation(op: NewOperation): Promise<OperationRecord>;
  getOperation(id: string): Promise<OperationRecord | undefined>;
  listOperations(filter?: OperationFilter): Promise<OperationRecord[]>;
  /** Compare-and-set: writes `patch` (and version+1) only when every `expect` holds. Null when it did not. */
  updateOperation(id: string, patch: OperationPatch, expect: OperationExpect): Promise<OperationRecord | null>;
  /**
   * Take ownership for `leaseMs`: wins when nobody owns it, the lease has ended, or `owner` already
   * holds it. Optional `states` limits which states may be claimed. Null when another process holds it.
   */
  claimOperation(id: string, owner: string, leaseMs: number, states?: readonly OperationState[]): Promise<OperationRecord | null>;
  /** Extend the lease; false when `owner` no longer holds the operation (stop working on it). */
  renewLease(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Give up ownership (e.g. at shutdown or when finished); false when `owner` did not hold it. */
  releaseOperation(id: string, owner: string): Promise<boolean>;

  // step journal
  /**
   * Write the intent of the next attempt of a step, before its side effect. Returns the new entry.
   * With `fence.owner`, the intent is written only while that owner holds an unexpired lease on the
   * operation (checked in the same statement); otherwise it throws LeaseLostError and nothing is
   * written: a replica that lost its lease cannot start another step.
   */
  recordIntent(operationId: string, stepId: string, intent: JsonObject, fence?: { owner: string }): Promise<JournalEntry>;
  /**
   * Write the result of an attempt. False when that attempt has no intent or already has a result
   * (a result is written once).
   */
  recordResult(operationId: string, stepId: string, attempt: number, result: StepResult): Promise<boolean>;
  /** The journal of one operation, in order. */
  listJournal(operationId: string): Promise<JournalEntry[]>;
  /** Attempts with an intent and no result, of one operation or (no argument) of all operations. */
  listInDoubt(operationId?: string): Promise<JournalEntry[]>;

  // approvals
  createApproval(a: NewApproval): Promise<ApprovalRecord>;
  getApproval(id: string): Promise<ApprovalRecord | undefined>;
  listApprovals(filter?: ApprovalFilter): Promise<ApprovalRecord[]>;
  /**
   * The decision primitive: one `UPDATE … WHERE id=? AND version=? [AND state IN (…)]`.
   * Returns the new record when this caller won, null when someone else changed it first.
   */
  updateApproval(id: string, patch: ApprovalPatch, expect: ApprovalExpect): Promise<ApprovalRecord | null>;

  // locks
  /** Take `key` for an operation. Re-entrant for the same operation; otherwise names who holds it. */
  acquireLock(key: string, operationId: string, requester: Requester): Promise<LockResult>;
  /** Release `key` if `operationId` holds it; false otherwise. */
  releaseLock(key: string, operationId: string): Promise<boolean>;
  /** Release every lock an operation holds; returns how many. */
  releaseLocksOf(operationId: string): Promise<number>;
  getLock(key: string): Promise<LockRecord | undefined>;
  listLocks(): Promise<LockRecord[]>;

  // audit (append-only: there is no update or delete)
  appendAudit(entry: NewAudit): Promise<AuditRecord>;
  listAudit(filter?: AuditFilter): Promise<AuditRecord[]>;

  // schedules
  createSchedule(s: NewSchedule): Promise<ScheduleRecord>;
  getSchedule(id: string): Promise<ScheduleRecord | undefined>;
  listSchedules(filter?: ScheduleFilter): Promise<ScheduleRecord[]>;
  /** Compare-and-set on version (and optionally state), like updateOperation. */
  updateSchedule(
    id: string,
    patch: SchedulePatch,
    expect: { version?: number; state?: ScheduleState | readonly ScheduleState[] },
  ): Promise<ScheduleRecord | null>;

  // incidents (the compute watcher)
  /**
   * Insert a new incident. Null when one with the same (cloud, host, downSince) exists, or when the
   * host already has an active one (pending, posting, open, recovering): another replica was first.
   */
  createIncident(i: NewIncident): Promise<IncidentRecord | null>;
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  listIncidents(filter?: IncidentFilter): Promise<IncidentRecord[]>;
  /** Compare-and-set (version+1), like updateOperation; null when a condition did not hold. */
  updateIncident(id: string, patch: IncidentPatch, expect: IncidentExpect): Promise<IncidentRecord | null>;

  // delivery de-duplication
  /**
   * True exactly once per key within `ttlMs` (the first caller, across replicas); false for every
   * repeat. Keys: a slash command's trigger_id, an action's `action_ts+user+value`, an event_id.
   */
  firstSeen(key: string, ttlMs: number): Promise<boolean>;
  /** Delete de-duplication keys whose TTL has passed; returns how many. */
  purgeSeen(): Promise<number>;

  /** The applied schema version (highest migration). */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
