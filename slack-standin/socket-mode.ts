import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SLACK_LIMITS as L } from '../bot/render/slack-limits.js';
import type { Workspace } from './workspace.js';
import { BOT } from './workspace.js';

/** How Slack saw an acknowledgement: its body, how long it took, and whether the deadline passed. */
export interface AckResult {
  /** HTTP status of the bot's answer (HTTP transport only). */
  status?: number;
  ackBody: unknown;
  ackMs: number;
  timedOut: boolean;
}

/** Envelope types Slack sends over Socket Mode. */
export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

interface Pending {
  resolve: (r: AckResult) => void;
  timer: NodeJS.Timeout;
  started: number;
  what: string;
}

/**
 * Slack's side of Socket Mode: single-use tickets handed out by apps.connections.open, `hello` on
 * connect, envelopes delivered to the newest live socket, acks matched by `envelope_id` against
 * Slack's 3-second deadline (Bolt has no such timer in Socket Mode, so the stand-in must keep it).
 */
export class SocketHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly live: WebSocket[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly expired = new Set<string>();
  /** Envelopes delivered so far, in order, as sent. */
  readonly envelopes: Record<string, unknown>[] = [];

  constructor(
    private readonly workspace: Workspace,
    private readonly deadlineMs: number = L.ackDeadlineMs,
  ) {}

  /** Number of sockets that got `hello` and are still open. */
  get connections(): number {
    return this.live.length;
  }

  /** A `ws://…/link/?ticket=…` URL good for one connection. */
  issueUrl(base: string): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `ws://${base}/link/?ticket=${ticket}`;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://standin');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/link/' || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  /** Sends an envelope to the newest socket and resolves when its ack arrives or the deadline passes. */
  deliver(type: EnvelopeType, payload: Record<string, unknown>, opts: { retryAttempt?: number; retryReason?: string } = {}): Promise<AckResult> {
    const ws = this.live.at(-1);
    const envelopeId = randomUUID();
    const what = `${type} ${String(payload.command ?? payload.type ?? '')}`.trim();
    if (!ws) {
      this.workspace.recordProblem('no_connection', `no Socket Mode connection to deliver ${what}`);
      return Promise.resolve({ ackBody: undefined, ackMs: 0, timedOut: true });
    }
    const envelope = {
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: type !== 'events_api',
      ...(type === 'events_api' ? { retry_attempt: opts.retryAttempt ?? 0, retry_reason: opts.retryReason ?? '' } : {}),
    };
    this.envelopes.push(envelope);
    return new Promise<AckResult>((resolve) => {
      const started = performance.now();
      const timer = setTimeout(() => {
        this.pending.delete(envelopeId);
        this.expired.add(envelopeId);
        this.workspace.recordProblem('ack_timeout', `${what} (envelope ${envelopeId}) not acknowledged within ${this.deadlineMs} ms`);
        resolve({ ackBody: undefined, ackMs: performance.now() - started, timedOut: true });
      }, this.deadlineMs);
      this.pending.set(envelopeId, { resolve, timer, started, what });
      ws.send(JSON.stringify(envelope));
    });
  }

  /**
   * Sends `frame` exactly as given (any JSON, or none at all) to the newest socket, as a broken or
   * hostile Slack could. With `envelopeId`, resolves on that id's ack or at the deadline (`timedOut`);
   * without, at once. Not recorded as a problem when unanswered: the tests decide what is expected.
   */
  deliverRaw(frame: string, envelopeId?: string): Promise<AckResult> {
    const ws = this.live.at(-1);
    if (!ws) return Promise.resolve({ ackBody: undefined, ackMs: 0, timedOut: true });
    if (envelopeId === undefined) {
      ws.send(frame);
      return Promise.resolve({ ackBody: undefined, ackMs: 0, timedOut: false });
    }
    return new Promise<AckResult>((resolve) => {
      const started = performance.now();
      const timer = setTimeout(() => {
        this.pending.delete(envelopeId);
        resolve({ ackBody: undefined, ackMs: performance.now() - started, timedOut: true });
      }, this.deadlineMs);
      this.pending.set(envelopeId, { resolve, timer, started, what: `raw frame ${envelopeId}` });
      ws.send(frame);
    });
  }

  /** Asks every client to reconnect, as Slack does before it recycles a connection. */
  disconnect(reason: 'refresh_requested' | 'warning' | 'too_many_websockets' = 'refresh_requested'): void {
    for (const ws of this.live) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'standin' } }));
  }

  /** Cuts every socket without a close frame, like a network failure. */
  dropAll(): void {
    for (const ws of [...this.live]) ws.terminate();
  }

  /** Closes sockets with a close frame (1001, going away), cutting those that do not answer within 1 s. */
  async close(): Promise<void> {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    const open = [...this.wss.clients];
    const closed = open.map((ws) => new Promise((resolve) => ws.once('close', resolve)));
    for (const ws of open) ws.close(1001, 'stand-in stopping');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    this.live.push(ws);
    ws.on('close', () => {
      const i = this.live.indexOf(ws);
      if (i >= 0) this.live.splice(i, 1);
      this.workspace.emit('change');
    });
    ws.on('message', (data) => this.onFrame(String(data)));
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.live.length,
        debug_info: { host: 'standin', approximate_connection_time: 3600 },
        connection_info: { app_id: BOT.appId },
      }),
    );
    this.workspace.emit('change');
  }

  private onFrame(text: string): void {
    let frame: { envelope_id?: unknown; payload?: unknown };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return;
    }
    const id = typeof frame.envelope_id === 'string' ? frame.envelope_id : '';
    const p = this.pending.get(id);
    if (!p) {
      if (this.expired.has(id)) this.workspace.recordProblem('late_ack', `ack for envelope ${id} arrived after the ${this.deadlineMs} ms deadline`);
      return;
    }
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.resolve({ ackBody: frame.payload, ackMs: performance.now() - p.started, timedOut: false });
  }
}
