/** A Scheduler whose time moves only when a test advances it; due timers fire in time order. */
import { ManualClock } from '../../../core/clock.js';
import type { Scheduler } from '../../../bot/thread-reporter.js';

export class ManualScheduler implements Scheduler {
  private timers = new Map<number, { at: number; fn: () => void }>();
  private seq = 0;
  constructor(readonly clock: ManualClock = new ManualClock()) {}
  now(): number {
    return this.clock.now();
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.clock.now() + Math.max(0, ms), fn });
    return id;
  }
  clearTimer(h: unknown): void {
    this.timers.delete(h as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const t of this.timers) if (t[1].at <= end && (!next || t[1].at < next[1].at)) next = t;
      if (!next) break;
      this.timers.delete(next[0]);
      if (next[1].at > this.clock.now()) this.clock.set(next[1].at);
      next[1].fn();
    }
    this.clock.set(end);
  }
}
