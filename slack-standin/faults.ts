import type { Clock } from '../core/clock.js';
import { SLACK_LIMITS as L } from '../bot/render/slack-limits.js';

/** An injected run of HTTP 429s: for `forMs` milliseconds, or for the next `count` matching calls. */
export interface RateLimitFault {
  method?: string;
  retryAfterSec: number;
  forMs?: number;
  count?: number;
}
/** An injected run of HTTP 5xx answers for the next `count` matching calls (default status 500). */
export interface ServerErrorFault {
  method?: string;
  count: number;
  status?: number;
}

/** What to answer instead of running the method. */
export type Refusal = { status: 429; retryAfterSec: number } | { status: number; retryAfterSec?: undefined };

/**
 * Decides, before a Web API method runs, whether Slack would refuse it: injected faults first, then
 * (when `enforce` is on) Slack's own limits: chat.postMessage about 1/s per channel with a small
 * burst (token bucket), chat.update Tier 3 (50 per rolling minute).
 */
export class Faults {
  enforce = false;
  private rate: (RateLimitFault & { until?: number })[] = [];
  private errors: ServerErrorFault[] = [];
  private buckets = new Map<string, { tokens: number; at: number }>();
  private tier3 = new Map<string, number[]>();

  constructor(private readonly clock: Clock) {}

  injectRateLimit(f: RateLimitFault): void {
    this.rate.push({ ...f, ...(f.forMs !== undefined ? { until: this.clock.now() + f.forMs } : {}) });
  }
  inject5xx(f: ServerErrorFault): void {
    this.errors.push({ ...f });
  }
  clear(): void {
    this.rate = [];
    this.errors = [];
    this.buckets.clear();
    this.tier3.clear();
  }

  check(method: string, channel: string | undefined): Refusal | undefined {
    const now = this.clock.now();
    const err = this.errors.find((e) => e.count > 0 && (e.method === undefined || e.method === method));
    if (err) {
      err.count--;
      return { status: err.status ?? 500 };
    }
    this.rate = this.rate.filter((r) => (r.until === undefined || r.until > now) && (r.count === undefined || r.count > 0));
    const rl = this.rate.find((r) => r.method === undefined || r.method === method);
    if (rl) {
      if (rl.count !== undefined) rl.count--;
      return { status: 429, retryAfterSec: rl.retryAfterSec };
    }
    if (!this.enforce) return undefined;
    if (method === 'chat.postMessage' && channel !== undefined) return this.takeToken(channel, now);
    if (method === 'chat.update') return this.takeTier3(method, now);
    return undefined;
  }

  private takeToken(channel: string, now: number): Refusal | undefined {
    const b = this.buckets.get(channel) ?? { tokens: L.postMessageBurst, at: now };
    b.tokens = Math.min(L.postMessageBurst, b.tokens + ((now - b.at) / 1000) * L.postMessagePerChannelPerSec);
    b.at = now;
    this.buckets.set(channel, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return { status: 429, retryAfterSec: Math.max(1, Math.ceil((1 - b.tokens) / L.postMessagePerChannelPerSec)) };
  }

  private takeTier3(method: string, now: number): Refusal | undefined {
    const recent = (this.tier3.get(method) ?? []).filter((t) => t > now - 60_000);
    this.tier3.set(method, recent);
    if (recent.length < L.tier3PerMinute) {
      recent.push(now);
      return undefined;
    }
    return { status: 429, retryAfterSec: Math.max(1, Math.ceil((recent[0]! + 60_000 - now) / 1000)) };
  }
}
