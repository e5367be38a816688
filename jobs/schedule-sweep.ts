/**
 * The schedule sweep, run every few seconds by bree (jobs/bree-ticker.ts) on every replica: reminders
 * for schedules about to start, then every due schedule through the engine's one start path
 * (engine/scheduled-runs.ts: claimed by one replica with a compare-and-set, missed beyond the grace
 * period). Nothing is armed in memory: the store is the schedule, so a restarted bot, or another
 * replica, picks up exactly where the last one stopped ("re-arming" is the first sweep at start-up).
 * Time comes from the store's clock, so tests move it by hand.
 */
import type { OperationRecord, ScheduleRecord, Store } from '../store/store.js';
import type { ScheduledRuns, ScheduleOutcome } from '../engine/scheduled-runs.js';

/** Default: remind the thread this long before the start. */
export const DEFAULT_REMINDER_MS = 15 * 60_000;

/** Where the sweep's news goes (the bot posts it in the operation's thread). */
export interface ScheduleNotifier {
  reminder(op: OperationRecord, schedule: ScheduleRecord): Promise<void>;
  outcome(outcome: ScheduleOutcome): Promise<void>;
}

export interface ScheduleSweepOptions {
  store: Store;
  schedules: Pick<ScheduledRuns, 'runDue'>;
  notify: ScheduleNotifier;
  remindBeforeMs?: number;
}

export class ScheduleSweep {
  private readonly remindBeforeMs: number;

  constructor(private readonly o: ScheduleSweepOptions) {
    this.remindBeforeMs = o.remindBeforeMs ?? DEFAULT_REMINDER_MS;
  }

  /** One pass; returns what happened to each schedule it looked at (for tests and logs). */
  async sweep(): Promise<ScheduleOutcome[]> {
    const { store } = this.o;
    const now = store.clock.now();
    const out: ScheduleOutcome[] = [];
    for (const s of await store.listSchedules({ states: ['scheduled'], dueBefore: now + this.remindBeforeMs, limit: 200 })) {
      if (s.runAt > now) {
        await this.remind(s);
        continue;
      }
      const outcome = await this.o.schedules.runDue(s.id);
      out.push(outcome);
      // Missed or started (drift and refusals included) are news; waiting and ended ones are not.
      if (outcome.kind === 'missed' || outcome.kind === 'start') await this.o.notify.outcome(outcome);
    }
    return out;
  }

  /**
   * Once per schedule, across replicas (a compare-and-set on the operation), and only when it was
   * made more than the reminder time ahead (a run asked for in 2 minutes needs no reminder).
   */
  private async remind(s: ScheduleRecord): Promise<void> {
    const { store } = this.o;
    if (s.createdAt > s.runAt - this.remindBeforeMs || !s.operationId) return;
    const op = await store.getOperation(s.operationId);
    if (!op || op.detail.remindedAt !== undefined || (op.state !== 'approved' && op.state !== 'pending_approval')) return;
    const won = await store.updateOperation(op.id, { detail: { ...op.detail, remindedAt: store.clock.now() } }, { version: op.version });
    if (won) await this.o.notify.reminder(won, s);
  }
}
