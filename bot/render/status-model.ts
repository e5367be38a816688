/**
 * The status card's model: a pure fold of operation events (actions/reporter.ts) into what the
 * card and the thread replies show. Kept apart from rendering so both stay small and testable.
 */
import type { OperationEvent, OperationView, RunEnd, StepFailure } from '../../engine/reporter.js';

export type StepState = 'pending' | 'running' | 'ok' | 'skipped' | 'reconciled' | 'failed' | 'in-doubt' | 'undone';

export interface StepStatus {
  id: string;
  title: string;
  always: boolean;
  state: StepState;
  startedAt?: number;
  endedAt?: number;
  progress?: { done: number; total: number; note?: string };
  failure?: StepFailure;
  detail?: string;
}

export interface StatusModel {
  op: OperationView;
  state: 'running' | RunEnd;
  startedAt: number;
  finishedAt?: number;
  finishDetail?: string;
  steps: StepStatus[];
  /** Index by id; steps are also kept in plan order for rendering. */
  byId: Map<string, StepStatus>;
  current?: string;
}

export function initialModel(op: OperationView, at: number): StatusModel {
  const steps = op.steps.map<StepStatus>((s) => ({ id: s.id, title: s.title, always: s.always === true, state: 'pending' }));
  return { op, state: 'running', startedAt: at, steps, byId: new Map(steps.map((s) => [s.id, s])) };
}

/** Applies one event in place (the model is owned by one reporter). Unknown step ids are ignored. */
export function applyEvent(m: StatusModel, e: OperationEvent): void {
  if (e.type === 'started') {
    m.state = 'running';
    delete m.finishedAt;
    delete m.finishDetail;
    return;
  }
  if (e.type === 'finished') {
    m.state = e.state;
    m.finishedAt = e.at;
    if (e.detail !== undefined) m.finishDetail = e.detail;
    delete m.current;
    return;
  }
  if (e.type === 'milestone' || e.type === 'private') return;
  const s = m.byId.get(e.stepId);
  if (!s) return;
  switch (e.type) {
    case 'step-started':
      s.state = 'running';
      s.startedAt = e.at;
      delete s.endedAt;
      delete s.failure;
      m.current = s.id;
      return;
    case 'step-progress':
      s.progress = { done: e.done, total: e.total, ...(e.note !== undefined ? { note: e.note } : {}) };
      return;
    case 'step-finished':
      s.state = e.outcome;
      s.endedAt = e.at;
      if (e.detail !== undefined) s.detail = e.detail;
      if (m.current === s.id) nextCurrent(m);
      return;
    case 'step-failed':
      s.state = 'failed';
      s.endedAt = e.at;
      s.failure = e.failure;
      if (m.current === s.id) nextCurrent(m);
      return;
    case 'in-doubt':
      s.state = 'in-doubt';
      s.detail = e.detail;
      return;
  }
}

/** The current step ended: another one still running (a window runs several at once) takes its place. */
function nextCurrent(m: StatusModel): void {
  delete m.current;
  let latest: StepStatus | undefined;
  for (const x of m.steps) if (x.state === 'running' && (!latest || (x.startedAt ?? 0) >= (latest.startedAt ?? 0))) latest = x;
  if (latest) m.current = latest.id;
}

export interface StepCounts {
  total: number;
  finished: number;
  ok: number;
  skipped: number;
  failed: number;
  inDoubt: number;
  pending: number;
  /** Of the pending ones, those running now (several when a window runs them side by side). */
  running: number;
}

export function countSteps(m: StatusModel): StepCounts {
  const c: StepCounts = { total: m.steps.length, finished: 0, ok: 0, skipped: 0, failed: 0, inDoubt: 0, pending: 0, running: 0 };
  for (const s of m.steps) {
    if (s.state === 'ok' || s.state === 'reconciled' || s.state === 'undone') c.ok++;
    else if (s.state === 'skipped') c.skipped++;
    else if (s.state === 'failed') c.failed++;
    else if (s.state === 'in-doubt') c.inDoubt++;
    else {
      c.pending++;
      if (s.state === 'running') c.running++;
    }
  }
  c.finished = c.ok + c.skipped + c.failed;
  return c;
}
