/**
 * Batched observation of an operation's moves (issue 15): however many migrations are in flight,
 * each tick asks Nova at most two questions — the migration records of the source host changed since
 * the last tick (`GET /os-migrations?host=…&changes-since=…`, microversion ≥ 2.59) and the servers
 * changed since the last tick (`GET /servers/detail?all_tenants=1&changes-since=…`) — and answers
 * every waiting move from them. Ten moves at a time cost Nova what one costs.
 *
 * While a move's record says it is under way (queued … running, post-migrating, confirming), its
 * server cannot have settled: Nova clears the instance's task before it ends the record. A tick in
 * which every waiting move is under way reads the records only; the server list is read when a record
 * ended (or is not known yet), to verify where the instance is and in which state.
 *
 * One observer can serve every step of an operation (drain's steps share one): its first server list
 * may be the source host's (`primeHost`), after which each step's check costs one `changes-since`
 * list for the whole batch instead of a read per instance. A tick that wants one server only
 * (parallel=1, or a move verified on its own) reads it with its own GET: the same one request, in a
 * fraction of a list's time.
 *
 * Each list is incremental: what Nova did not change since the previous read is as the cache has it.
 * The window reaches `overlapMs` back before the previous read, so a few seconds of difference between
 * this machine's clock and Nova's (and Nova's whole-second `updated_at`) lose nothing. A server or
 * record the cache has never seen (a move adopted from an earlier run, say) is read once on its own.
 *
 * With Nova's notifications, a sequential drain's next check need not wait for its read: the
 * observer reads that server while the current move lands (`readAhead`), and the check takes the read
 * if no event about the server came since it was asked (the subscription up all along) and it is not
 * older than the fastest tick.
 *
 * The pace: ticks come every `firstMs` for `firstForMs` after the latest move started (most
 * migrations of small or idle guests end within seconds), every `thenMs` until `thenForMs`, then
 * growing ×`growth` up to `maxMs`. A tick happens only while a move waits on it. While every waiting
 * move has Nova's notifications to wake it (`settled(…, net=true)`, the subscription connected), the
 * ticks are only the safety net for a lost event: `safetyNetMs` apart at least (a 1,000-instance drain
 * at parallel=8 spent one records list per instance on 2-s ticks that found nothing the events had
 * not already said).
 */
import type { Migration, Server } from '../../adapters/openstack/cloud.js';
import type { EventWatch, NovaEventSource } from '../../adapters/openstack/nova-notifications.js';
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
  /**
   * The longest a move found ended waits for others still under way, so one server list verifies
   * them together. Short: a sliding window (`parallel=N`) starts the next move only once one is
   * verified, so this is how long a slot may idle.
   */
  verifyWithinMs: number;
  /**
   * While Nova's notifications are connected, the longest a move an event will wake goes without a
   * read (the safety net for an event lost): the ticks of moves that all wait on their events come
   * this often at most, and a live move waits this long for its events alone first. At least `maxMs`.
   */
  safetyNetMs: number;
}

/**
 * Modest by default: a tick costs one request for all the moves in flight (two when some ended), so a
 * 10-s batch costs Nova about six; a move's end is seen ≤ 1 s late in its first 2 s, ≤ 2 s late after.
 * Faster ticks see ends sooner and cost Nova more (`clouds.<name>.polling`); Nova's notifications
 * end waits within milliseconds whatever the pace.
 */
export const DEFAULT_POLL_SCHEDULE: PollSchedule = {
  firstMs: 1_000,
  firstForMs: 2_000,
  thenMs: 2_000,
  thenForMs: 5_000,
  growth: 1.5,
  maxMs: 2_000,
  overlapMs: 5_000,
  verifyWithinMs: 1_000,
  safetyNetMs: 10_000,
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
  listServersOnHost(f: { host: string }): Promise<Server[]>;
  listMigrations(f: { host?: string; serverId?: string; changesSince?: string }): Promise<Migration[]>;
  getServer(id: string): Promise<Server | undefined>;
}

/** A record in one of these states belongs to a move still under way: its server is not settled. */
const UNDER_WAY = new Set(['accepted', 'queued', 'preparing', 'running', 'pre-migrating', 'migrating', 'post-migrating', 'confirming']);
export const underWay = (m: Migration | undefined) => m !== undefined && UNDER_WAY.has(m.status);

type Need = 'server' | 'settled' | 'migration';
/** A read made ahead of a check: when it was asked, the subscription's count then, the events about its server since. */
interface Ahead {
  at: number;
  connections: number;
  watch: EventWatch;
  read: Promise<Server | undefined>;
  /** Drops it once too old to be used (a check that never comes, e.g. the drain stopped): the watch is not left behind. */
  expiry: ReturnType<typeof setTimeout>;
}
interface Waiter {
  id: string;
  need: Need;
  /** Asked not to wait for the pace (a step's check, a move woken by an event). */
  now: boolean;
  /** Nova's notifications will wake it: the tick is only its safety net. */
  net: boolean;
  resolve(v: Server | Migration | 'gone' | 'moving' | undefined): void;
  reject(e: unknown): void;
}

/** Counts of what the observer asked Nova (tests and the bench read them). */
export interface ObserverStats {
  ticks: number;
  serverLists: number;
  migrationLists: number;
  /** Single reads of a server or of one instance's records the cache had never seen. */
  singleReads: number;
  /** Ticks that wanted one server only and read it with its own GET instead of a list. */
  serverGets: number;
  /** Servers read ahead of their step's check (`readAhead`), and those reads the check could use. */
  aheadReads: number;
  aheadUsed: number;
}

export class NovaObserver {
  readonly stats: ObserverStats = { ticks: 0, serverLists: 0, migrationLists: 0, singleReads: 0, serverGets: 0, aheadReads: 0, aheadUsed: 0 };
  private readonly servers = new Map<string, Server | 'gone'>();
  /** The newest record of each instance seen, and the instances whose earlier records were read in full. */
  private readonly records = new Map<string, Migration>();
  private readonly recordsRead = new Set<string>();
  /** When (this clock) the tick that last listed each instance's newest record started. */
  private readonly recordSeenAt = new Map<string, number>();
  /** Servers whose move this observer was told was requested, with the id of their newest record known then (0: none). */
  private readonly requested = new Map<string, number>();
  /** When a tick first found each waiting move ended (its server read may wait for the others'). */
  private readonly endedAt = new Map<string, number>();
  /** Moves started and not yet finished (`finished`): a start among them keeps the current pace. */
  private readonly inFlight = new Set<string>();
  /** Reads made ahead of a check (`readAhead`), each with the events about its server since it was asked. */
  private readonly ahead = new Map<string, Ahead>();
  private primed: boolean;
  private serversSince: number;
  private migrationsSince: number;
  private waiting: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires (this clock). */
  private timerDue = 0;
  private ticking = false;
  private urgent = false;
  private lastTick: number | undefined;
  private lastStart: number;
  private slow = 0;
  private closed = false;

  constructor(
    private readonly cloud: ObservedCloud,
    private readonly o: { host: string; schedule: PollSchedule; clock: Clock; primeHost?: boolean; events?: NovaEventSource | undefined },
  ) {
    this.primed = !o.primeHost;
    const now = o.clock.now();
    this.serversSince = now;
    this.migrationsSince = now;
    this.lastStart = now;
  }

  /**
   * The move of server `id` was just requested (Nova answered 202): the fast ticks start again. Nova
   * set the instance's task before it answered, so until a record newer than the ones known now shows
   * up the move is under way (a new record is invisible to changes-since until Nova first updates it).
   */
  started(id?: string): void {
    // The fast ticks follow a start when no other move is in flight: a window of moves starts one
    // every few seconds, and restarting the fast pace with each would keep the ticks at their fastest.
    if (this.inFlight.size === 0) {
      this.lastStart = this.o.clock.now();
      this.slow = 0;
    }
    if (id !== undefined) {
      this.inFlight.add(id);
      this.requested.set(id, this.newest(id)?.id ?? 0);
      this.endedAt.delete(id);
    }
  }

  /** The move of server `id` is over for its step (verified, failed or given up): it no longer holds the pace. */
  finished(id: string): void {
    this.inFlight.delete(id);
  }

  /**
   * The server as Nova has it at the next tick ('gone' once deleted). `now`: do not wait for the pace
   * (a step's check, an event said something changed); a read made ahead for it (`readAhead`) answers
   * at once when Nova's notifications vouch for it.
   */
  async server(id: string, signal?: AbortSignal, now = false): Promise<Server | 'gone'> {
    const ahead = now ? await this.takeAhead(id) : undefined;
    return ahead ?? ((await this.wait(id, 'server', signal, now, false)) as Server | 'gone');
  }

  /**
   * Reads these servers now, for a check about to come (a sequential drain's next step, read while
   * the current move finishes: the check's GET off the path between two moves). Only with Nova's
   * notifications connected: the read stands for the check while no event about its server came
   * since it was asked, the subscription stayed up, and it is not older than the fastest tick
   * (`firstMs`). Anything else and the check reads Nova again (the read ahead was one request wasted).
   */
  readAhead(ids: readonly string[]): void {
    const ev = this.o.events;
    if (!ev?.connected || this.closed) return;
    for (const id of ids) {
      if (this.ahead.has(id)) continue;
      // watching before the GET is sent: a change while it is under way is seen too
      const watch = ev.watch((e) => e.instanceUuid === id);
      const read = this.cloud.getServer(id);
      read.catch(() => undefined); // a failed read ahead only means the check reads
      this.stats.aheadReads++;
      const expiry = setTimeout(() => this.dropAhead(id), this.o.schedule.firstMs + 1);
      expiry.unref?.();
      this.ahead.set(id, { at: this.o.clock.now(), connections: ev.connections, watch, read, expiry });
    }
  }

  /** The read made ahead for `id`, if Nova's notifications vouch for it (each is used once). */
  private async takeAhead(id: string): Promise<Server | 'gone' | undefined> {
    const a = this.ahead.get(id);
    if (!a) return undefined;
    clearTimeout(a.expiry);
    this.ahead.delete(id);
    try {
      const s = await a.read.catch(() => null);
      const touched = await a.watch.next(0);
      const ev = this.o.events;
      const vouched = !touched && ev?.connected === true && ev.connections === a.connections && this.o.clock.now() - a.at <= this.o.schedule.firstMs;
      if (s === null || !vouched || this.closed) return undefined;
      const v = s && s.status !== 'DELETED' ? s : 'gone';
      this.servers.set(id, v);
      this.stats.aheadUsed++;
      return v;
    } finally {
      a.watch.stop();
    }
  }

  /**
   * At the next tick: 'moving' while the newest record of the server says its move is under way (only
   * the records were read) or while its end waits to be verified with the other moves', else the
   * server as Nova has it ('gone' once deleted). `net`: Nova's notifications will wake the caller
   * (it races this with its events): while they are connected, this is the safety net's slower tick.
   */
  settled(id: string, signal?: AbortSignal, now = false, net = false): Promise<Server | 'gone' | 'moving'> {
    return this.wait(id, 'settled', signal, now, net) as Promise<Server | 'gone' | 'moving'>;
  }

  /** The newest record of the server as a list read in a tick that started at or after `since` had it (no read). */
  recordSince(id: string, since: number): Migration | undefined {
    const m = this.newest(id);
    return m && (this.recordSeenAt.get(id) ?? -Infinity) >= since ? m : undefined;
  }

  /** The newest migration record of the server at the next tick (undefined: Nova has none). */
  migration(id: string, signal?: AbortSignal, now = false): Promise<Migration | undefined> {
    return this.wait(id, 'migration', signal, now, false) as Promise<Migration | undefined>;
  }

  private dropAhead(id: string): void {
    const a = this.ahead.get(id);
    if (!a) return;
    clearTimeout(a.expiry);
    a.watch.stop();
    this.ahead.delete(id);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const id of [...this.ahead.keys()]) this.dropAhead(id);
    const w = this.waiting;
    this.waiting = [];
    for (const x of w) x.reject(new Error('the observation of the moves was closed'));
  }

  private wait(id: string, need: Need, signal: AbortSignal | undefined, now: boolean, net: boolean): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the observation of the moves was closed'));
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const w: Waiter = { id, need, now, net, resolve, reject };
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
    const due = now ? t : this.pacedDue(t);
    // a timer already set stays unless this one is due sooner (a waiter at the pace joining moves that
    // only wait on the safety net)
    if (this.timer && due >= this.timerDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, due - t));
  }

  /** When the paced tick is due: a move just requested is not looked at before `firstMs` (Nova has barely begun it). */
  private pacedDue(t: number): number {
    if (this.lastTick === undefined) return t;
    const s = this.o.schedule;
    // every waiter has Nova's notifications to wake it, and they are up: the tick is only the safety net
    const net = this.o.events?.connected === true && this.waiting.length > 0 && this.waiting.every((w) => w.net);
    return Math.max(
      this.lastTick + (net ? Math.max(s.safetyNetMs, s.maxMs) : tickDelay(s, t - this.lastStart, this.slow)),
      this.lastStart + Math.min(s.firstMs, s.maxMs),
    );
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.urgent = false;
    const started = this.o.clock.now();
    // A tick asked for before the pace is due (a step's check, a move woken by an event) answers only
    // those who asked for it: the moves waiting at the pace keep waiting for theirs, so a window's checks
    // do not each add a read of the records.
    const paced = started >= this.pacedDue(started) - 5; // timers may fire a few ms early
    const batch = paced ? this.waiting : this.waiting.filter((w) => w.now);
    this.waiting = paced ? [] : this.waiting.filter((w) => !w.now);
    if (batch.length === 0) return void (this.closed || this.schedule(false));
    this.ticking = true;
    if (paced) {
      if (this.lastTick !== undefined && started - this.lastStart >= this.o.schedule.thenForMs) this.slow++;
      this.lastTick = started;
    }
    this.stats.ticks++;
    try {
      const overlap = this.o.schedule.overlapMs;
      const iso = (ms: number) => new Date(ms - overlap).toISOString();
      if (batch.some((w) => w.need !== 'server')) {
        const since = this.migrationsSince;
        const list = await this.cloud.listMigrations({ host: this.o.host, changesSince: iso(since) });
        this.stats.migrationLists++;
        for (const m of list) this.keep(m, started);
        this.migrationsSince = started;
      }
      // The servers only when a move may have ended: a record under way (or none yet for a move just
      // requested) says its server is still moving. Moves that ended are verified together — one server
      // list once none of the waiting moves is under way any more, or `verifyWithinMs` after one ended.
      const underWayNow = (id: string) => {
        const m = this.newest(id);
        const asked = this.requested.get(id);
        return underWay(m) || (asked !== undefined && (m?.id ?? 0) <= asked);
      };
      const settling = batch.filter((w) => w.need === 'settled');
      for (const w of settling) if (!underWayNow(w.id) && !this.endedAt.has(w.id)) this.endedAt.set(w.id, started);
      const stillMoving = settling.some((w) => underWayNow(w.id));
      const overdue = settling.some((w) => !underWayNow(w.id) && started - this.endedAt.get(w.id)! >= this.o.schedule.verifyWithinMs);
      const verifyNow = batch.some((w) => w.need === 'server') || !stillMoving || overdue;
      const moving = (w: Waiter) => w.need === 'settled' && (underWayNow(w.id) || !verifyNow);
      const wantServer = (w: Waiter) => w.need === 'server' || (w.need === 'settled' && !moving(w));
      const wanted = new Set(batch.filter(wantServer).map((w) => w.id));
      if (wanted.size === 1 && this.primed) {
        // One server to read (parallel=1, or one move verified on its own): its own GET costs Nova the
        // same one request and a fraction of a changes-since list's time (on the lab ~40 ms against
        // ~170 ms: the list returns every server moved within the overlap, in full). The window is
        // not advanced: the next list still covers what this one would have shown.
        const [id] = [...wanted] as [string];
        this.stats.serverGets++;
        const s = await this.cloud.getServer(id);
        this.servers.set(id, s && s.status !== 'DELETED' ? s : 'gone');
      } else if (wanted.size > 0) {
        const since = this.serversSince;
        const list = this.primed ? await this.cloud.listServersChangedSince(iso(since)) : await this.listHost();
        this.stats.serverLists++;
        for (const s of list) this.servers.set(s.id, s.status === 'DELETED' ? 'gone' : s);
        this.serversSince = started;
      }
      // what the window cannot show (never changed while observed): read once, then kept fresh by the lists
      const unknownServers = [...new Set(batch.filter((w) => wantServer(w) && !this.servers.has(w.id)).map((w) => w.id))];
      const unknownRecords = [...new Set(batch.filter((w) => w.need === 'migration' && !this.newest(w.id) && !this.recordsRead.has(w.id)).map((w) => w.id))];
      await Promise.all([
        ...unknownServers.map(async (id) => {
          this.stats.singleReads++;
          this.servers.set(id, (await this.cloud.getServer(id)) ?? 'gone');
        }),
        ...unknownRecords.map(async (id) => {
          this.stats.singleReads++;
          for (const m of await this.cloud.listMigrations({ serverId: id })) this.keep(m, started);
          this.recordsRead.add(id);
        }),
      ]);
      for (const w of batch) {
        if (w.need === 'settled' && !moving(w)) this.endedAt.delete(w.id);
        w.resolve(w.need === 'migration' ? this.newest(w.id) : moving(w) ? 'moving' : this.servers.get(w.id));
      }
    } catch (e) {
      for (const w of batch) w.reject(e);
    } finally {
      this.ticking = false;
      if (!this.closed) this.schedule(false);
    }
  }

  /** The first server list of a primed observer: every server on the host (the others are read once, when asked for). */
  private async listHost(): Promise<Server[]> {
    const list = await this.cloud.listServersOnHost({ host: this.o.host });
    this.primed = true;
    return list;
  }

  private keep(m: Migration, seenAt: number): void {
    const had = this.records.get(m.serverId);
    if (!had || m.id >= had.id) {
      this.records.set(m.serverId, m);
      this.recordSeenAt.set(m.serverId, seenAt);
    }
  }

  private newest(serverId: string): Migration | undefined {
    return this.records.get(serverId);
  }
}
