/** Mapping between table rows and the store's records. Columns are snake_case; JSON is text. */
import type { Requester } from '../core/types.js';
import type {
  ApprovalRecord,
  ApprovalState,
  AuditRecord,
  JournalEntry,
  JsonObject,
  LockRecord,
  OperationRecord,
  OperationState,
  ScheduleRecord,
  ScheduleState,
  StepStatus,
  ApprovalVote,
  IncidentRecord,
  IncidentState,
} from './store.js';

export type Row = Record<string, unknown>;

export const toJson = (v: unknown): string => JSON.stringify(v ?? null);
export function fromJson<T>(v: unknown): T {
  return (v === null || v === undefined ? null : JSON.parse(String(v))) as T;
}
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function requesterOf(r: Row): Requester {
  const out: Requester = { userId: String(r.requester_user), teamId: String(r.requester_team) };
  if (r.requester_name !== null && r.requester_name !== undefined) out.userName = String(r.requester_name);
  return out;
}
export const requesterParams = (q: Requester): [string, string, string | null] => [q.userId, q.teamId, q.userName ?? null];

export function operationOf(r: Row): OperationRecord {
  return {
    id: String(r.id),
    runbook: String(r.runbook),
    target: String(r.target),
    plan: fromJson<JsonObject>(r.plan),
    planHash: String(r.plan_hash),
    state: String(r.state) as OperationState,
    requester: requesterOf(r),
    channelId: String(r.channel_id),
    threadTs: strOrNull(r.thread_ts),
    cardTs: strOrNull(r.card_ts),
    detail: fromJson<JsonObject>(r.detail) ?? {},
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    owner: strOrNull(r.owner),
    leaseUntil: numOrNull(r.lease_until),
    version: num(r.version),
  };
}

export function journalOf(r: Row): JournalEntry {
  return {
    seq: num(r.seq),
    operationId: String(r.operation_id),
    stepId: String(r.step_id),
    attempt: num(r.attempt),
    intent: fromJson<JsonObject>(r.intent),
    intentAt: num(r.intent_at),
    status: strOrNull(r.status) as StepStatus | null,
    output: fromJson<JsonObject | null>(r.output),
    saved: fromJson<JsonObject | null>(r.saved),
    reconciled: num(r.reconciled) === 1,
    resultAt: numOrNull(r.result_at),
  };
}

export function approvalOf(r: Row): ApprovalRecord {
  return {
    id: String(r.id),
    operationId: String(r.operation_id),
    planHash: String(r.plan_hash),
    kind: String(r.kind),
    purpose: String(r.purpose),
    policy: fromJson<JsonObject>(r.policy),
    state: String(r.state) as ApprovalState,
    required: num(r.required),
    requester: requesterOf(r),
    approvers: fromJson<ApprovalVote[]>(r.approvers) ?? [],
    decidedBy: fromJson<Requester | null>(r.decided_by),
    reason: strOrNull(r.reason),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    decidedAt: numOrNull(r.decided_at),
    startBy: numOrNull(r.start_by),
    consumedAt: numOrNull(r.consumed_at),
    version: num(r.version),
  };
}

export function lockOf(r: Row): LockRecord {
  return { key: String(r.lock_key), operationId: String(r.operation_id), requester: requesterOf(r), acquiredAt: num(r.acquired_at) };
}

export function auditOf(r: Row): AuditRecord {
  return {
    seq: num(r.seq),
    at: num(r.at),
    actor: String(r.actor),
    kind: String(r.kind),
    operationId: strOrNull(r.operation_id),
    payload: fromJson<JsonObject>(r.payload) ?? {},
  };
}

export function scheduleOf(r: Row): ScheduleRecord {
  return {
    id: String(r.id),
    runbook: String(r.runbook),
    args: fromJson<JsonObject>(r.args) ?? {},
    runAt: num(r.run_at),
    state: String(r.state) as ScheduleState,
    requester: requesterOf(r),
    channelId: String(r.channel_id),
    operationId: strOrNull(r.operation_id),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    version: num(r.version),
  };
}

export function incidentOf(r: Row): IncidentRecord {
  return {
    id: String(r.id),
    cloud: String(r.cloud),
    host: String(r.host),
    binary: String(r.svc_binary),
    downSince: String(r.down_since),
    state: String(r.state) as IncidentState,
    firstSeenAt: num(r.first_seen_at),
    channelId: String(r.channel_id),
    cardTs: strOrNull(r.card_ts),
    owner: strOrNull(r.owner),
    leaseUntil: numOrNull(r.lease_until),
    detail: fromJson<JsonObject>(r.detail) ?? {},
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    resolvedAt: numOrNull(r.resolved_at),
    version: num(r.version),
  };
}

/** `col IN (?, ?, …)` with its parameters; an empty list matches nothing. */
export function inList(col: string, values: readonly string[]): [string, string[]] {
  if (values.length === 0) return ['1 = 0', []];
  return [`${col} IN (${values.map(() => '?').join(', ')})`, [...values]];
}

/** A LIMIT that is always a small positive integer literal (never a bound string). */
export function limitOf(n: number | undefined, dflt: number): number {
  const v = Math.trunc(n ?? dflt);
  return Number.isFinite(v) && v > 0 ? Math.min(v, 10_000) : dflt;
}
