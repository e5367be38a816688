/**
 * The thread reporter: turns operation events into one status card edited in place plus a few
 * replies, through a per-thread queue. `emit` only updates memory and wakes the queue; the runner
 * never waits for Slack, so an outage or a 429 storm delays no step (architecture.md, "Threads").
 *
 * The queue: post the card if there is none, then replies in order (failures queued together are
 * merged), then at most one card edit per `minEditIntervalMs` carrying the latest state (older
 * states are never sent: coalescing). Errors: 429 waits `Retry-After`; transient errors back off
 * exponentially; permanent ones (channel gone, message not found) drop that one message.
 */
import type { KnownBlock } from '@slack/types';
import type { OperationEvent, Reporter, StepFailure } from '../engine/reporter.js';
import { applyEvent, initialModel, type StatusModel } from './render/status-model.js';
import {
  renderFailuresReply,
  renderFinalSummary,
  renderInDoubtReply,
  renderMilestoneReply,
  renderStatusCard,
  type SlackMessage,
} from './render/render-status-card.js';

/** The two Web API calls the reporter makes, shaped like `WebClient.chat` so it can be passed as is. */
export interface ChatPort {
  postMessage(args: { channel: string; text: string; blocks?: KnownBlock[]; thread_ts?: string }): Promise<{ ok?: boolean; ts?: string; channel?: string }>;
  update(args: { channel: string; ts: string; text: string; blocks?: KnownBlock[] }): Promise<{ ok?: boolean }>;
  /** Only for `private` events (user data for the requester alone); without it they are dropped, never posted openly. */
  postEphemeral?(args: { channel: string; user: string; text: string; thread_ts?: string }): Promise<{ ok?: boolean }>;
}

/** Timers and time, injected so tests can move time by hand. */
export interface Scheduler {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.(); // the reporter alone never keeps the process alive; shutdown flushes explicitly
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ThreadReporterOptions {
  chat: ChatPort;
  channel: string;
  /** Existing parent message to turn into the status card (the plan preview); else one is posted. */
  cardTs?: string;
  scheduler?: Scheduler;
  /** Minimum time between two edits of the card (default 2000 ms; chat.update is Tier 3). */
  minEditIntervalMs?: number;
  /** Minimum time between two replies (default 1000 ms: chat.postMessage ≈ 1/s per channel). */
  minReplyIntervalMs?: number;
  /** Cap of the exponential back-off on transient errors (default 60 s). */
  maxBackoffMs?: number;
  /** A message still undelivered after this long is dropped (default 6 h). */
  giveUpAfterMs?: number;
  /** Called once when the card is posted, so its ts can be stored (OperationRecord.cardTs) for restarts. */
  onCardPosted?: (ts: string) => void;
  /** Where delivery problems go (the bot's logger); never throws. */
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

type Reply = { kind: 'message'; msg: () => SlackMessage; queuedAt: number } | { kind: 'failure'; stepId: string; failure: StepFailure; queuedAt: number };

/** Slack error codes that retrying cannot fix. */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'msg_too_long',
  'invalid_blocks',
  'invalid_blocks_format',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'no_permission',
  'missing_scope',
  'restricted_action',
  'invalid_arguments',
  'no_text',
]);

/** How to treat a failed call: wait this long and retry, or drop the message. */
export function classifySlackError(err: unknown, attempt: number, maxBackoffMs: number): { retryInMs: number } | { drop: string } {
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string } };
  if (e?.code === 'slack_webapi_rate_limited_error' && typeof e.retryAfter === 'number') return { retryInMs: Math.max(1, e.retryAfter) * 1000 };
  const platform = e?.code === 'slack_webapi_platform_error' ? e.data?.error : undefined;
  if (platform !== undefined && PERMANENT.has(platform)) return { drop: platform };
  return { retryInMs: Math.min(maxBackoffMs, 1000 * 2 ** Math.min(attempt, 16)) };
}

export class ThreadReporter implements Reporter {
  private model: StatusModel | undefined;
  private readonly s: Scheduler;
  private readonly editEvery: number;
  private readonly replyEvery: number;
  private readonly maxBackoff: number;
  private readonly giveUp: number;
  private cardTs: string | undefined;
  private cardDirty = false;
  private cardDirtySince = 0;
  private lastEditAt = -Infinity;
  private lastReplyAt = -Infinity;
  private readonly replies: Reply[] = [];
  private blockedUntil = 0;
  private attempt = 0;
  private busy = false;
  private replaying = false;
  private timer: unknown;
  private timerAt = Infinity;
  private idleWaiters: (() => void)[] = [];
  /** Calls made and failures seen, for tests and metrics. */
  readonly stats = { posts: 0, edits: 0, errors: 0, dropped: 0 };

  constructor(private readonly o: ThreadReporterOptions) {
    this.s = o.scheduler ?? realScheduler;
    this.editEvery = o.minEditIntervalMs ?? 2000;
    this.replyEvery = o.minReplyIntervalMs ?? 1000;
    this.maxBackoff = o.maxBackoffMs ?? 60_000;
    this.giveUp = o.giveUpAfterMs ?? 6 * 3600_000;
    this.cardTs = o.cardTs;
  }

  /** The card's message ts once posted (or the one given). */
  get ts(): string | undefined {
    return this.cardTs;
  }

  emit(e: OperationEvent): void {
    try {
      const now = this.s.now();
      if (e.type === 'started') {
        this.model = initialModel(e.op, e.at);
        this.replaying = e.replay === true;
      }
      const m = this.model;
      if (!m) return; // events before 'started' have no card to go on
      applyEvent(m, e);
      if (!this.cardDirty) this.cardDirtySince = now;
      this.cardDirty = true;
      // A replayed end (a killed process finished the run) rebuilds the card; its failures were replied to then.
      if (e.type === 'step-failed' && !this.replaying) this.replies.push({ kind: 'failure', stepId: e.stepId, failure: e.failure, queuedAt: now });
      else if (e.type === 'milestone') this.push(() => renderMilestoneReply(e.text), now);
      else if (e.type === 'in-doubt') this.push(() => renderInDoubtReply(m, e.stepId, e.detail), now);
      else if (e.type === 'finished') this.push(() => renderFinalSummary(m), now);
      this.kick();
    } catch (err) {
      this.o.log?.('thread reporter: event ignored', { err: String(err) });
    }
  }

  /** Resolves when everything emitted so far reached Slack (or was dropped), or after `timeoutMs`. */
  async flush(timeoutMs = 30_000): Promise<boolean> {
    if (this.isIdle()) return true;
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      t.unref?.();
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
      this.kick();
    });
  }

  /** Stops timers; undelivered messages are abandoned (use flush first). */
  close(): void {
    if (this.timer !== undefined) this.s.clearTimer(this.timer);
    this.timer = undefined;
    this.replies.length = 0;
    this.cardDirty = false;
    this.notifyIdle();
  }

  private push(msg: () => SlackMessage, now: number): void {
    this.replies.push({ kind: 'message', msg, queuedAt: now });
  }

  private isIdle(): boolean {
    return !this.cardDirty && this.replies.length === 0 && (this.cardTs !== undefined || !this.model);
  }

  private notifyIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private kick(): void {
    if (!this.busy) void this.pump();
  }

  private arm(ms: number): void {
    const at = this.s.now() + ms;
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.s.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.s.setTimer(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.kick();
      },
      Math.max(0, ms),
    );
  }

  /** The single worker of this thread: one Slack call in flight at a time. */
  private async pump(): Promise<void> {
    this.busy = true;
    try {
      for (;;) {
        const m = this.model;
        if (!m || this.isIdle()) break;
        const now = this.s.now();
        if (now < this.blockedUntil) return this.arm(this.blockedUntil - now);
        let kind: 'card' | 'reply' | 'edit';
        let queuedAt: number;
        if (this.cardTs === undefined) {
          [kind, queuedAt] = ['card', this.cardDirtySince];
        } else if (this.replies.length && now - this.lastReplyAt >= this.replyEvery) {
          [kind, queuedAt] = ['reply', this.replies[0]!.queuedAt];
        } else if (this.cardDirty && now - this.lastEditAt >= this.editEvery) {
          [kind, queuedAt] = ['edit', this.cardDirtySince];
        } else {
          const waits = [this.replies.length ? this.lastReplyAt + this.replyEvery : Infinity, this.cardDirty ? this.lastEditAt + this.editEvery : Infinity];
          return this.arm(Math.min(...waits) - now);
        }
        try {
          await (kind === 'card' ? this.postCard(m) : kind === 'reply' ? this.postReply(m) : this.editCard(m));
          this.attempt = 0;
        } catch (err) {
          this.stats.errors++;
          const verdict = classifySlackError(err, this.attempt++, this.maxBackoff);
          const tooOld = this.s.now() - queuedAt > this.giveUp;
          if ('drop' in verdict || tooOld) {
            this.drop(kind, verdict, err);
          } else {
            this.blockedUntil = this.s.now() + verdict.retryInMs;
            this.o.log?.('slack call failed; will retry', { channel: this.o.channel, retryInMs: verdict.retryInMs, err: String(err) });
          }
        }
      }
    } finally {
      this.busy = false;
      if (this.isIdle()) this.notifyIdle();
    }
  }

  /** Gives up on the message at the head of the queue. */
  private drop(kind: 'card' | 'reply' | 'edit', verdict: { drop: string } | { retryInMs: number }, err: unknown): void {
    this.stats.dropped++;
    this.attempt = 0;
    this.o.log?.('slack message dropped', { channel: this.o.channel, kind, reason: 'drop' in verdict ? verdict.drop : 'too old', err: String(err) });
    if (kind === 'card') {
      this.cardDirty = false; // no card: replies cannot be threaded either
      this.replies.length = 0;
      this.model = undefined;
    } else if (kind === 'reply') this.replies.shift();
    else this.cardDirty = false;
  }

  private async postCard(m: StatusModel): Promise<void> {
    const msg = renderStatusCard(m, this.s.now());
    this.cardDirty = false;
    try {
      const r = await this.o.chat.postMessage({ channel: this.o.channel, ...msg });
      if (!r.ts) throw new Error('chat.postMessage answered without a message ts'); // else the card would be posted again and again
      this.stats.posts++;
      this.cardTs = r.ts;
      this.lastEditAt = this.s.now();
      if (r.ts) {
        try {
          this.o.onCardPosted?.(r.ts);
        } catch {
          // the card is posted; failing to remember it only costs a new card after a restart
        }
      }
    } catch (err) {
      this.cardDirty = true;
      throw err;
    }
  }

  private async postReply(m: StatusModel): Promise<void> {
    const head = this.replies[0]!;
    let n = 1;
    let msg: SlackMessage;
    if (head.kind === 'failure') {
      while (n < this.replies.length && n < 10 && this.replies[n]!.kind === 'failure') n++;
      msg = renderFailuresReply(
        m,
        this.replies.slice(0, n).map((r) => r as Extract<Reply, { kind: 'failure' }>),
      );
    } else msg = head.msg();
    await this.o.chat.postMessage({ channel: this.o.channel, thread_ts: this.cardTs!, ...msg });
    this.stats.posts++;
    this.replies.splice(0, n);
    this.lastReplyAt = this.s.now();
  }

  private async editCard(m: StatusModel): Promise<void> {
    this.cardDirty = false;
    try {
      await this.o.chat.update({ channel: this.o.channel, ts: this.cardTs!, ...renderStatusCard(m, this.s.now()) });
      this.stats.edits++;
      this.lastEditAt = this.s.now();
    } catch (err) {
      this.cardDirty = true;
      throw err;
    }
  }
}
