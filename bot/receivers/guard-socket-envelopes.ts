/**
 * In front of the Socket Mode client's message handler: every frame is parsed and checked before
 * @slack/socket-mode reads it (it reads `event.type` of a JSON `null`, `event.payload.event.type` of
 * any events_api envelope, and re-emits an envelope's `type` as an event name, so `"error"` throws).
 *
 * A malformed envelope that carries an `envelope_id` is acknowledged (Slack would otherwise deliver
 * it again), logged and counted; a frame without one is logged, counted and dropped. Every envelope
 * that passes runs in its own request scope (request-scope.ts).
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { checkDelivery, type MalformedReason } from './slack-delivery-schema.js';
import { requestFault, runInRequest, type RequestScope } from './request-scope.js';

/** Far above any envelope Slack sends; the same bound as the HTTP body limit. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

const ENVELOPE_TYPES = ['slash_commands', 'interactive', 'events_api'] as const;
/** Frames Slack sends without an envelope id, which the client handles itself. */
const CONTROL_TYPES = ['hello', 'disconnect'];

/**
 * The part of @slack/socket-mode's SocketModeClient this guard uses. `send` is private in its typings,
 * but it is the client's own way to acknowledge an envelope, and the only one for an envelope Bolt
 * never sees.
 */
interface SocketClientLike {
  listeners(event: 'ws_message'): ((...args: unknown[]) => unknown)[];
  removeAllListeners(event: 'ws_message'): unknown;
  on(event: 'ws_message' | 'outgoing_message', listener: (...args: unknown[]) => void): unknown;
  send(envelopeId: string, body?: Record<string, unknown>): Promise<void>;
}

export interface SocketGuardOptions {
  logger: Logger;
  metrics: Metrics;
  maxEnvelopeBytes?: number;
}

export function guardSocketEnvelopes(socketModeClient: object, opts: SocketGuardOptions): void {
  const client = socketModeClient as SocketClientLike;
  const limit = opts.maxEnvelopeBytes ?? MAX_ENVELOPE_BYTES;
  const deps = { logger: opts.logger, metrics: opts.metrics };
  const handlers = client.listeners('ws_message');
  client.removeAllListeners('ws_message');
  // Which live envelopes were acknowledged, so a failing one is acknowledged once, not twice.
  const live = new Map<string, { answered: boolean }>();
  client.on('outgoing_message', (m) => {
    const id = (m as { envelope_id?: unknown }).envelope_id;
    if (typeof id === 'string') {
      const entry = live.get(id);
      if (entry) entry.answered = true;
      live.delete(id);
    }
  });

  const ack = (id: string) => client.send(id, {}).catch((e: unknown) => opts.logger.warn({ err: e, envelopeId: id }, 'could not acknowledge an envelope'));

  const refuse = (id: string | undefined, reason: MalformedReason, message: string) => {
    opts.metrics.malformedDeliveries.inc({ transport: 'socket', reason });
    opts.logger.warn(
      {
        request: { transport: 'socket', id: id ?? null },
        reason,
        problem: message,
      },
      id ? 'acknowledged and dropped a malformed envelope' : 'dropped a malformed Socket Mode frame',
    );
    if (id) void ack(id);
  };

  client.on('ws_message', (data: unknown, isBinary: unknown) => {
    const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : undefined;
    if (isBinary === true || text === undefined) return refuse(undefined, 'bad_envelope', 'frame: expected a text frame with a JSON envelope');
    if (Buffer.byteLength(text) > limit) {
      const id = /"envelope_id"\s*:\s*"([^"\\]{1,128})"/.exec(text.slice(0, 4096))?.[1];
      return refuse(id, 'too_large', `envelope: expected at most ${limit} bytes`);
    }
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch (e) {
      return refuse(undefined, 'bad_json', `frame: not JSON (${(e as Error).message.slice(0, 120)})`);
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return refuse(undefined, 'bad_envelope', 'frame: expected a JSON object');
    const f = frame as Record<string, unknown>;
    const id = typeof f.envelope_id === 'string' && f.envelope_id.length > 0 && f.envelope_id.length <= 128 ? f.envelope_id : undefined;
    if (id === undefined) {
      if (typeof f.type === 'string' && CONTROL_TYPES.includes(f.type) && !('envelope_id' in f)) return pass(undefined);
      return refuse(
        undefined,
        'bad_envelope',
        `envelope.envelope_id: expected a string of 1 to 128 characters (type ${JSON.stringify(f.type ?? null).slice(0, 40)})`,
      );
    }
    if (!(ENVELOPE_TYPES as readonly unknown[]).includes(f.type)) {
      return refuse(id, 'bad_envelope', `envelope.type: ${JSON.stringify(f.type ?? null).slice(0, 40)}; expected one of ${ENVELOPE_TYPES.join(', ')}`);
    }
    const verdict = checkDelivery(f.payload, 'json', f.type as string);
    if (!verdict.ok) return refuse(id, verdict.reason, verdict.message);
    const entry = { answered: false };
    if (live.size > 10_000) live.delete(live.keys().next().value!);
    live.set(id, entry);
    const trigger = (f.payload as { trigger_id?: unknown }).trigger_id;
    const scope: RequestScope = {
      transport: 'socket',
      kind: verdict.kind,
      id,
      ...(typeof trigger === 'string' ? { deliveryId: trigger } : {}),
      listenersDone: false,
      failed: false,
      answered: () => entry.answered,
      fail: () => {
        live.delete(id);
        if (!entry.answered) void ack(id);
        entry.answered = true;
      },
    };
    pass(scope);

    function pass(s: RequestScope | undefined): void {
      const run = () => {
        for (const h of handlers) {
          try {
            const r = h(data, isBinary);
            if (r instanceof Promise)
              r.catch((e: unknown) => (s ? requestFault(s, e, 'socket client', deps) : opts.logger.error({ err: e }, 'Socket Mode control frame failed')));
          } catch (e) {
            if (s) requestFault(s, e, 'socket client', deps);
            else opts.logger.error({ err: e }, 'Socket Mode control frame failed');
          }
        }
      };
      if (s) runInRequest(s, run);
      else run();
    }
  });
}
