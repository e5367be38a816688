/**
 * Slack may deliver the same thing twice (Events API retries with X-Slack-Retry-Num, a replayed
 * request, a double click). Each delivery has an identity; the first one wins, later ones are
 * acknowledged and dropped. The store's atomic `seen` backs this when several replicas run; the
 * in-memory one serves a single process.
 */
import type { Clock } from '../core/clock.js';

export interface DeliveryDedupe {
  /** True the first time `key` is offered within `ttlMs`, false afterwards. Atomic. */
  firstSeen(key: string, ttlMs: number): Promise<boolean>;
}

export class MemoryDedupe implements DeliveryDedupe {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = 100_000,
  ) {}

  async firstSeen(key: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    if (this.seen.size >= this.maxEntries) this.evict(now);
    this.seen.set(key, now + ttlMs);
    return true;
  }

  private evict(now: number): void {
    for (const [k, until] of this.seen) if (until <= now) this.seen.delete(k);
    // Still full: drop the oldest insertions (Map keeps insertion order).
    for (const k of this.seen.keys()) {
      if (this.seen.size < this.maxEntries) break;
      this.seen.delete(k);
    }
  }
}

/** The identity of a delivery, or undefined when it carries none we can trust. */
export function deliveryKey(body: Record<string, unknown>): string | undefined {
  if (typeof body.event_id === 'string') return `event:${body.event_id}`;
  if (typeof body.command === 'string' && typeof body.trigger_id === 'string') return `command:${body.trigger_id}`;
  if (body.type === 'block_actions' && Array.isArray(body.actions)) {
    const user = (body.user as { id?: string } | undefined)?.id ?? '?';
    const a = body.actions[0] as { action_id?: string; action_ts?: string; value?: string } | undefined;
    if (a?.action_ts) return `action:${user}:${a.action_id ?? ''}:${a.action_ts}:${a.value ?? ''}`;
  }
  return undefined;
}
