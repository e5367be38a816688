/**
 * Nova's versioned notifications, where the operator offers the cloud's message bus: what the
 * runbooks wait for (a migration's end, an evacuation, a service going down) arrives within
 * milliseconds of Nova doing it, with no polling. Polling stays as the safety net and is the only
 * way when no bus is configured; a lost connection is reconnected in the background and costs
 * nothing but the events missed meanwhile (the poll sees those).
 *
 * The bot binds its own exclusive, auto-deleted queue to Nova's topic exchange (`nova`, or the
 * cloud's `control_exchange`) with `<topic>.*` (`versioned_notifications.info`, `.error`, …), so it
 * takes no message from Nova's own consumers and leaves nothing behind when it goes away.
 */
import { connect, type ChannelModel, type ConsumeMessage, type RecoveringChannelModel } from 'amqplib';
import { z } from 'zod';

/** One notification, as the runbooks use it. */
export interface NovaEvent {
  /** e.g. `instance.live_migration_post.end`, `service.update`. */
  eventType: string;
  /** Nova's own timestamp, in ms since the epoch (microseconds in the message: kept as a fraction). */
  timestamp: number;
  /** `nova-compute:c01` */
  publisherId: string;
  /** Instance notifications: the instance's uuid, host, vm state and task state. */
  instanceUuid?: string;
  host?: string | null;
  state?: string | null;
  taskState?: string | null;
  /** service.update: the service's view. */
  service?: { host: string; binary: string; disabled: boolean; disabledReason: string | null; forcedDown: boolean };
  /** The versioned payload's data, as Nova sent it. */
  payload: Record<string, unknown>;
}

const envelope = z.object({ 'oslo.version': z.string(), 'oslo.message': z.string() });
const message = z.object({
  event_type: z.string(),
  publisher_id: z.string().default(''),
  timestamp: z.string(),
  payload: z.object({ 'nova_object.data': z.record(z.string(), z.unknown()).default({}) }).passthrough(),
});
const instanceData = z.object({ uuid: z.string(), host: z.string().nullish(), state: z.string().nullish(), task_state: z.string().nullish() }).passthrough();
const serviceData = z
  .object({ host: z.string(), binary: z.string(), disabled: z.boolean(), disabled_reason: z.string().nullish(), forced_down: z.boolean() })
  .passthrough();

/** oslo's timestamp ("2026-12-03 06:41:12.654321", UTC) to epoch ms with the microseconds kept. */
export function osloTime(s: string): number {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?/.exec(s);
  if (!m) return Number.NaN;
  const frac = (m[3] ?? '').padEnd(6, '0');
  return Date.parse(`${m[1]}T${m[2]}Z`) + Number(frac) / 1000;
}

/** Parses one AMQP body as oslo.messaging sends it (the 2.0 envelope, or a bare message); undefined if it is not a notification. */
export function parseNovaNotification(body: Buffer | string): NovaEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString());
    const env = envelope.safeParse(raw);
    if (env.success) raw = JSON.parse(env.data['oslo.message']);
  } catch {
    return undefined;
  }
  const m = message.safeParse(raw);
  if (!m.success) return undefined;
  const data = m.data.payload['nova_object.data'];
  const ev: NovaEvent = { eventType: m.data.event_type, timestamp: osloTime(m.data.timestamp), publisherId: m.data.publisher_id, payload: data };
  if (m.data.event_type.startsWith('instance.')) {
    const i = instanceData.safeParse(data);
    if (i.success)
      Object.assign(ev, { instanceUuid: i.data.uuid, host: i.data.host ?? null, state: i.data.state ?? null, taskState: i.data.task_state ?? null });
  } else if (m.data.event_type.startsWith('service.')) {
    const s = serviceData.safeParse(data);
    if (s.success)
      ev.service = {
        host: s.data.host,
        binary: s.data.binary,
        disabled: s.data.disabled,
        disabledReason: s.data.disabled_reason ?? null,
        forcedDown: s.data.forced_down,
      };
  }
  return ev;
}

export interface NovaNotificationsOptions {
  /** amqp://user:password@host:5672/vhost — Nova's `transport_url` (a read-only user is enough). */
  url: string;
  /** Nova's `control_exchange`. */
  exchange?: string;
  /** Nova's `[notifications] versioned_notifications_topics` entry. */
  topic?: string;
  /** The longest wait between two reconnection attempts after a lost connection. */
  reconnectMs?: number;
  onError?: (e: Error) => void;
  /** How the broker lists this connection (`rabbitmqctl list_connections`). */
  connectionName?: string;
}

type Listener = (e: NovaEvent) => void;

/** Events of interest collected since `watch()`; `next` takes the oldest or waits for one. */
export interface EventWatch {
  next(timeoutMs: number, signal?: AbortSignal): Promise<NovaEvent | undefined>;
  stop(): void;
}

/** What a runbook needs of the subscription (tests and the composition root pass the real one). */
export interface NovaEventSource {
  readonly connected: boolean;
  /**
   * How many times the subscription has been bound (each reconnection binds a fresh queue): the same
   * count at two moments, connected at both, means no event of the span was missed.
   */
  readonly connections: number;
  watch(match: (e: NovaEvent) => boolean): EventWatch;
}

/** The running subscription. `next` and `subscribe` are what runbooks use; `connected` is for metrics and plans. */
export class NovaNotifications implements NovaEventSource {
  private model: RecoveringChannelModel | undefined;
  private readonly listeners = new Set<Listener>();
  private closed = false;
  private live = false;
  /** Events received since start (metrics, tests). */
  received = 0;
  connections = 0;

  private constructor(private readonly o: NovaNotificationsOptions) {}

  /**
   * Connects and binds; rejects when the first connection fails (the caller then polls only). A
   * connection lost later is recovered by amqplib (backoff up to 30 s), re-binding a fresh queue.
   */
  static async start(o: NovaNotificationsOptions): Promise<NovaNotifications> {
    const n = new NovaNotifications(o);
    n.model = await connect(o.url, n.socketOptions({ initialMaxRetries: 0 }));
    n.listen(n.model);
    return n;
  }

  /**
   * For the composition root: returns at once and keeps trying in the background (the runbooks poll
   * meanwhile, `connected` says which), so a bus that is down never delays or stops the bot's start.
   */
  static background(o: NovaNotificationsOptions): NovaNotifications {
    const n = new NovaNotifications(o);
    void connect(o.url, n.socketOptions({ waitForConnect: false })).then(
      (model) => {
        if (n.closed) return void model.close().catch(() => undefined);
        n.model = model;
        n.listen(model);
      },
      (e: Error) => o.onError?.(e),
    );
    return n;
  }

  private socketOptions(extra: { initialMaxRetries?: number; waitForConnect?: boolean }) {
    return {
      timeout: 10_000,
      clientProperties: { connection_name: this.o.connectionName ?? 'openstack-chatops' },
      recovery: { initialDelay: 500, maxDelay: this.o.reconnectMs ?? 30_000, ...extra, setup: (model: ChannelModel) => this.bind(model) },
    };
  }

  private listen(model: RecoveringChannelModel): void {
    model.on('disconnect', () => (this.live = false));
    model.on('error', (e: Error) => this.o.onError?.(e));
    model.on('connect-failed', (e: Error) => this.o.onError?.(e));
  }

  get connected(): boolean {
    return this.live;
  }

  /** Listeners and watches subscribed now (metrics, tests: nothing should be left subscribed). */
  get listening(): number {
    return this.listeners.size;
  }

  /** Calls `l` for every event until the returned function is called. */
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * The next event that satisfies `match`, or undefined after `timeoutMs` (or when the signal
   * aborts, or the subscription closes): callers treat undefined as "look for yourself".
   */
  next(match: (e: NovaEvent) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<NovaEvent | undefined> {
    return new Promise((resolve) => {
      if (this.closed || signal?.aborted) return resolve(undefined);
      const done = (e: NovaEvent | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(done);
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(e);
      };
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const unsubscribe = this.subscribe((e) => {
        if (match(e)) done(e);
      });
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private readonly waiters = new Set<(e: undefined) => void>();

  /**
   * Starts collecting the events that satisfy `match` now (before the request that will cause them,
   * so none is missed), to be taken one by one with `next(timeoutMs)`; `stop()` ends it.
   */
  watch(match: (e: NovaEvent) => boolean): EventWatch {
    const queue: NovaEvent[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = this.subscribe((e) => {
      if (!match(e)) return;
      queue.push(e);
      wake?.();
    });
    return {
      next: async (timeoutMs: number, signal?: AbortSignal): Promise<NovaEvent | undefined> => {
        if (queue.length) return queue.shift();
        if (this.closed || signal?.aborted) return undefined;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            wake = undefined;
            this.waiters.delete(done);
            signal?.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          wake = done;
          this.waiters.add(done);
          signal?.addEventListener('abort', done, { once: true });
        });
        return queue.shift();
      },
      stop: () => {
        unsubscribe();
        wake?.();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.waiters]) w(undefined);
    this.listeners.clear();
    this.live = false;
    await this.model?.close().catch(() => undefined);
  }

  /** On every (re)connection: our own exclusive queue, bound to Nova's exchange, consumed without acks. */
  private async bind(model: ChannelModel): Promise<void> {
    const exchange = this.o.exchange ?? 'nova';
    const topic = this.o.topic ?? 'versioned_notifications';
    // Nova declares its exchange (topic, not durable by default); declaring it again with other flags
    // would close the channel, so it is only checked, and declared where it is missing (a check that
    // fails closes its channel: the declaration goes on a fresh one).
    const probe = await model.createChannel();
    probe.on('error', () => undefined); // a failed check closes this channel with a 404: expected
    const exists = await probe.checkExchange(exchange).then(
      () => true,
      () => false,
    );
    if (exists) await probe.close().catch(() => undefined);
    const ch = await model.createChannel();
    ch.on('error', (e: Error) => this.o.onError?.(e));
    if (!exists) await ch.assertExchange(exchange, 'topic', { durable: false });
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true, arguments: { 'x-message-ttl': 60_000 } });
    await ch.bindQueue(q.queue, exchange, `${topic}.*`);
    await ch.consume(q.queue, (m) => this.deliver(m), { noAck: true });
    this.connections++;
    this.live = true;
  }

  private deliver(m: ConsumeMessage | null): void {
    if (!m) {
      this.live = false; // the broker cancelled the consumer; recovery binds again on reconnect
      return;
    }
    const e = parseNovaNotification(m.content);
    if (!e) return;
    this.received++;
    for (const l of [...this.listeners]) l(e);
  }
}
