/** What the engine's calls return: shared by the engine and the operation records (no cycle). */
import type { ChatOpsError } from '../core/errors.js';
import type { Plan } from '../core/types.js';
import type { ApprovalRecord, OperationRecord, ScheduleRecord } from '../store/store.js';
import type { RunEnd } from './reporter.js';

export type SubmitResult =
  /** `schedule`: approved now, run at its time. */
  | { kind: 'needs-approval'; operation: OperationRecord; plan: Plan; approval: ApprovalRecord; schedule?: ScheduleRecord }
  /** A read-only plan (no approval needed) that runs at its scheduled time. */
  | { kind: 'scheduled'; operation: OperationRecord; plan: Plan; schedule: ScheduleRecord }
  | { kind: 'started'; operation: OperationRecord; plan: Plan; done: Promise<RunEnd> };

export type StartResult =
  | { kind: 'started'; opId: string; done: Promise<RunEnd> }
  | { kind: 'drift'; opId: string; differences: string[]; plan: Plan; approval: ApprovalRecord | null }
  | { kind: 'refused'; opId: string; error: ChatOpsError };

/** `scheduledFor`: approved ahead of its scheduled time (epoch ms); it starts then. */
export type DecisionResult = { approval: ApprovalRecord; start?: StartResult; scheduledFor?: number };
