/**
 * Batched observation of an operation's moves (issue 15): however many migrations are in flight,
 * each tick asks Nova at most two questions — the migration records of the source host changed since
 * the last tick (`GET /os-migrations?host=…&changes-since=…`, microversion ≥ 2.59) and the servers
 * changed since the last tick (`GET /servers/detail?all_tenants=1&changes-since=…`) — and answers
 * every waiting move from them. Ten moves at a time cost Nova what one costs.
 *
 * Each list is incremental: what Nova did not change since the previous read is as the cache has it.
 * The window reaches `overlapMs` back before the previous read, so a few seconds of difference between
 * this machine's clock and Nova's (and Nova's whole-second `updated_at`) lose nothing. A server or
 * record the cache has never seen (a move adopted from an earlier run, say) is read once on its own.
 *
 * The pace: ticks come every `firstMs` for `firstForMs` after the latest move started (most
 * migrations of small or idle guests end within seconds), every `thenMs` until `thenForMs`, then
 * growing ×`growth` up to `maxMs`. A tick happens only while a move waits on it.
 */
import type { Migration, Server } from '../../adapters/openstack/cloud.js';
import type { Clock } from '../../core/clock.js';

/** How often an operation's in-flight moves are read (`clouds.<name>.polling`). */
export interface PollSchedule {
  firstMs: number;
  firstForMs: number;
  thenMs: number;
  thenForMs: number;
  growth: number;
  maxMs: number;
  /** How far each changes-since window reaches back before the previous read (clock skew, whole seconds). */
  overlapMs: number;
}

export const DEFAULT_POLL_SCHEDULE: PollSchedule = {
  firstMs: 200,
  firstForMs: 2_000,
  thenMs: 500,
  thenForMs: 5_000,
  growth: 1.5,
  maxMs: 2_000,
  overlapMs: 5_000,
};

/** The wait before tick number `slow` (counted from the end of the `then` phase) at `elapsed` ms after the latest start. */
export function tickDelay(s: PollSchedule, elapsedMs: number, slow: number): number {
  if (elapsedMs < s.firstForMs) return Math.min(s.firstMs, s.maxMs);
  if (elapsedMs < s.thenForMs) return Math.min(s.thenMs, s.maxMs);
  return Math.min(s.maxMs, Math.round(s.thenMs * s.growth ** (slow + 1)));
}

/** What the observer needs of the cloud (Cloud's reads). */
export interface ObservedCloud {
  listServersChangedSince(since: string): Promise<Server[]>;
  listMigrations(f: { host?: string; serverId?: string; changesSince?: string }): Promise<Migration[]>;
  getServer(id: string): Promise<Server | undefined>;
}

type Need = 'server' | 'migration';
interface Waiter {
  id: string;
  need: Need;
  resolve(v: Server | Migration | 'gone' | undefined): void;
  reject(e: unknown): void;
}

/** Counts of what the observer asked Nova (tests and the bench read them). */
export interface ObserverStats {
  ticks: number;
  serverLists: number;
  migrationLists: number;
  /** Single reads of a server or of one instance's records the cache had never seen. */
  singleReads: number;
}

export class NovaObserver {
  readonly stats: ObserverStats = { ticks: 0, serverLists: 0, migrationLists: 0, singleReads: 0 };
  private readonly servers = new Map<string, Server | 'gone'>();
  /** The newest record of each instance seen, and the instances whose earlier records were read in full. */
  private readonly records = new Map<string, Migration>();
  private readonly recordsRead = new Set<string>();
  private serversSince: number;
  private migrationsSince: number;
  private waiting: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticking = false;
  private urgent = false;
  private lastTick: number | undefined;
  private lastStart: number;
  private slow = 0;
  private closed = false;

  constructor(
    private readonly cloud: ObservedCloud,
    private readonly o: { host: string; schedule: PollSchedule; clock: Clock },
  ) {
    const now = o.clock.now();
    this.serversSince = now;
    this.migrationsSince = now;
    this.lastStart = now;
  }

  /** A move was just requested: the fast ticks start again. */
  started(): void {
    this.lastStart = this.o.clock.now();
    this.slow = 0;
  }

  /** The server as Nova has it at the next tick ('gone' once deleted). `now`: do not wait for the pace (an event said something changed). */
  server(id: string, signal?: AbortSignal, now = false): Promise<Server | 'gone'> {
    return this.wait(id, 'server', signal, now) as Promise<Server | 'gone'>;
  }

  /** The newest migration record of the server at the next tick (undefined: Nova has none). */
  migration(id: string, signal?: AbortSignal, now = false): Promise<Migration | undefined> {
    return this.wait(id, 'migration', signal, now) as Promise<Migration | undefined>;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const w = this.waiting;
    this.waiting = [];
    for (const x of w) x.reject(new Error('the observation of the moves was closed'));
  }

  private wait(id: string, need: Need, signal: AbortSignal | undefined, now: boolean): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the observation of the moves was closed'));
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const w: Waiter = { id, need, resolve, reject };
      const onAbort = () => {
        this.waiting = this.waiting.filter((x) => x !== w);
        reject(signal!.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      w.resolve = (v) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      w.reject = (e) => {
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      };
      this.waiting.push(w);
      this.schedule(now);
    });
  }

  private schedule(asked: boolean): void {
    this.urgent ||= asked;
    if (this.ticking || this.waiting.length === 0) return;
    const now = this.urgent;
    const t = this.o.clock.now();
    const due = now || this.lastTick === undefined ? t : this.lastTick + tickDelay(this.o.schedule, t - this.lastStart, this.slow);
    if (this.timer && !now) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, due - t));
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.urgent = false;
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    this.ticking = true;
    const started = this.o.clock.now();
    if (this.lastTick !== undefined && started - this.lastStart >= this.o.schedule.thenForMs) this.slow++;
    this.lastTick = started;
    this.stats.ticks++;
    try {
      const overlap = this.o.schedule.overlapMs;
      const iso = (ms: number) => new Date(ms - overlap).toISOString();
      const reads: Promise<void>[] = [];
      if (batch.some((w) => w.need === 'server')) {
        const since = this.serversSince;
        reads.push(
          this.cloud.listServersChangedSince(iso(since)).then((list) => {
            this.stats.serverLists++;
            for (const s of list) this.servers.set(s.id, s.status === 'DELETED' ? 'gone' : s);
            this.serversSince = started;
          }),
        );
      }
      if (batch.some((w) => w.need === 'migration')) {
        const since = this.migrationsSince;
        reads.push(
          this.cloud.listMigrations({ host: this.o.host, changesSince: iso(since) }).then((list) => {
            this.stats.migrationLists++;
            for (const m of list) this.keep(m);
            this.migrationsSince = started;
          }),
        );
      }
      await Promise.all(reads);
      // what the window cannot show (never changed while observed): read once, then kept fresh by the lists
      const unknownServers = [...new Set(batch.filter((w) => w.need === 'server' && !this.servers.has(w.id)).map((w) => w.id))];
      const unknownRecords = [...new Set(batch.filter((w) => w.need === 'migration' && !this.newest(w.id) && !this.recordsRead.has(w.id)).map((w) => w.id))];
      await Promise.all([
        ...unknownServers.map(async (id) => {
          this.stats.singleReads++;
          this.servers.set(id, (await this.cloud.getServer(id)) ?? 'gone');
        }),
        ...unknownRecords.map(async (id) => {
          this.stats.singleReads++;
          for (const m of await this.cloud.listMigrations({ serverId: id })) this.keep(m);
          this.recordsRead.add(id);
        }),
      ]);
      for (const w of batch) w.resolve(w.need === 'server' ? this.servers.get(w.id) : this.newest(w.id));
    } catch (e) {
      for (const w of batch) w.reject(e);
    } finally {
      this.ticking = false;
      if (!this.closed) this.schedule(false);
    }
  }

  private keep(m: Migration): void {
    const had = this.records.get(m.serverId);
    if (!had || m.id >= had.id) this.records.set(m.serverId, m);
  }

  private newest(serverId: string): Migration | undefined {
    return this.records.get(serverId);
  }
}
