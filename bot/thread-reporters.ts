/**
 * One ThreadReporter per operation thread, for the composition root: `reporterFor` is what the
 * engine takes (EngineOptions.reporterFor); `flushAll` is what shutdown awaits (bounded) so that
 * the "interrupted" card edit still reaches Slack when it can. A run after a restart edits the same
 * card: its ts comes back from the store (OperationRecord.cardTs), saved through `rememberCard`.
 */
import type { Reporter } from '../engine/reporter.js';
import type { OperationRecord } from '../store/store.js';
import { ThreadReporter, type ChatPort, type Scheduler, type ThreadReporterOptions } from './thread-reporter.js';

export interface ThreadReportersOptions {
  chat: ChatPort;
  scheduler?: Scheduler;
  minEditIntervalMs?: number;
  /** Persist the card's ts for an operation (e.g. store.updateOperation(id, { cardTs, threadTs })). */
  rememberCard?: (opId: string, ts: string) => Promise<unknown>;
  /**
   * Record that a run's end reached the thread (`at` of its `finished` event), so that a start-up does
   * not tell it again (Engine.markReported). Awaited by `flushAll`.
   */
  rememberReported?: (opId: string, endedAt: number) => Promise<unknown>;
  log?: ThreadReporterOptions['log'];
}

export class ThreadReporters {
  private readonly live = new Map<string, ThreadReporter>();
  private readonly ending = new Set<Promise<void>>();

  constructor(private readonly o: ThreadReportersOptions) {}

  /** A fresh reporter for this run of `op`, editing its existing card when it has one. */
  reporterFor = (op: OperationRecord): Reporter => {
    const cardTs = op.cardTs ?? op.threadTs ?? undefined;
    this.live.get(op.id)?.close();
    const r = new ThreadReporter({
      chat: this.o.chat,
      channel: op.channelId,
      ...(cardTs ? { cardTs } : {}),
      ...(this.o.scheduler ? { scheduler: this.o.scheduler } : {}),
      ...(this.o.minEditIntervalMs !== undefined ? { minEditIntervalMs: this.o.minEditIntervalMs } : {}),
      ...(this.o.log ? { log: this.o.log } : {}),
      onCardPosted: (ts) => {
        void this.o.rememberCard?.(op.id, ts).catch((err: unknown) => this.o.log?.('could not remember the status card', { opId: op.id, err: String(err) }));
      },
    });
    this.live.set(op.id, r);
    return {
      emit: (e) => {
        if (e.type === 'private') {
          // User data: to the requester alone, as an ephemeral reply, never through the card's queue.
          const post = this.o.chat.postEphemeral;
          if (!post) this.o.log?.('a private message was dropped: no postEphemeral', { opId: op.id });
          else {
            const thread = op.threadTs ?? op.cardTs ?? r.ts;
            void post({ channel: op.channelId, user: op.requester.userId, text: e.text, ...(thread ? { thread_ts: thread } : {}) }).catch((err: unknown) =>
              this.o.log?.('could not deliver a private message to the requester', { opId: op.id, err: String(err) }),
            );
          }
          return;
        }
        r.emit(e);
        // A finished run's queue is dropped once its last message went out (a long-lived bot runs many).
        if (e.type === 'finished') {
          const done = r.flush().then(async (delivered) => {
            if (delivered && e.state !== 'interrupted' && this.o.rememberReported)
              await this.o
                .rememberReported(op.id, e.at)
                .catch((err: unknown) => this.o.log?.('could not record that the end was reported', { opId: op.id, err: String(err) }));
            if (this.live.get(op.id) !== r) return;
            r.close();
            this.live.delete(op.id);
          });
          this.ending.add(done);
          void done.finally(() => this.ending.delete(done));
        }
      },
    };
  };

  /** Waits until every thread delivered what it has (true) or `timeoutMs` passed (false). */
  async flushAll(timeoutMs = 5000): Promise<boolean> {
    const results = await Promise.all([...this.live.values()].map((r) => r.flush(timeoutMs)));
    // and the records that runs' ends were delivered (bounded by the same time)
    let t: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.ending]), new Promise((r) => (t = setTimeout(r, timeoutMs)))]);
    clearTimeout(t);
    return results.every(Boolean);
  }

  /** Stops every queue's timers (after flushAll, at exit). */
  closeAll(): void {
    for (const r of this.live.values()) r.close();
    this.live.clear();
  }
}
