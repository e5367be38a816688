/**
 * A per-cloud request budget: at most `perSecond` requests a second to each OpenStack service, with
 * bursts of up to `burst`, whatever the runbooks ask for. Every adapter call (REST attempt, retry, CLI
 * invocation) takes its slot here first, so a chat bot can never flood a control plane that is
 * already busy with the maintenance it runs.
 *
 * It is GCRA (the generic cell rate algorithm): each service keeps its theoretical arrival time; a
 * request reserves the next slot synchronously and then waits for it, so concurrent callers queue in
 * call order without a timer of their own. In any window of T ms at most `burst + T·perSecond/1000`
 * requests to one service leave.
 */
import { sleep } from '../../core/sleep.js';

export interface BudgetLimit {
  /** Sustained rate: requests a second to one service. */
  perSecond: number;
  /** How many may leave back to back after a quiet spell. */
  burst: number;
}

/** A modest default: a drain of hundreds at parallel 16 stays well below what an API worker serves. */
export const DEFAULT_BUDGET: BudgetLimit = { perSecond: 20, burst: 10 };

export interface RequestBudgetOptions {
  /** The limit of every service not named in `services`; none → unlimited. */
  default?: BudgetLimit;
  services?: Partial<Record<string, BudgetLimit>>;
  /** Monotonic milliseconds (tests pass their own). */
  now?: () => number;
  /** Called when a request had to wait for its slot (metrics). */
  onWait?: (service: string, waitedMs: number) => void;
}

export class RequestBudget {
  private readonly tat = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: RequestBudgetOptions = {}) {
    this.now = options.now ?? (() => performance.now());
  }

  /** The limit in force for a service, if any. */
  limitOf(service: string): BudgetLimit | undefined {
    return this.options.services?.[service] ?? this.options.default;
  }

  /** Resolves when this request may leave; an aborted wait gives its slot up to nobody (it stays spent). */
  acquire(service: string, signal?: AbortSignal): Promise<void> {
    const limit = this.limitOf(service);
    if (!limit) return Promise.resolve();
    const interval = 1000 / limit.perSecond;
    const now = this.now();
    const tat = Math.max(this.tat.get(service) ?? now, now);
    const allowedAt = tat - (limit.burst - 1) * interval;
    this.tat.set(service, tat + interval);
    const wait = allowedAt - now;
    if (wait <= 0) return Promise.resolve();
    this.options.onWait?.(service, wait);
    return sleep(wait, signal);
  }
}
