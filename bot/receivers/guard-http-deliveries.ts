/**
 * In front of Bolt's HTTPReceiver on /slack/events: a body size limit (413), and for a body whose
 * signature is valid, Bolt's own parsing followed by the shape check of slack-delivery-schema.ts
 * (400 naming the field and what was expected). Only a body that passes reaches Bolt, already
 * buffered (Bolt reuses `req.rawBody` and verifies the signature again, as it always does).
 *
 * Unsigned or badly signed bodies are handed to Bolt untouched: it answers them 401, as before.
 * Every request runs in its own request scope (request-scope.ts) so that an unexpected failure
 * while it is handled is answered 500 and counted instead of ending the process.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { isValidSlackRequest } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { checkDelivery, type MalformedReason } from './slack-delivery-schema.js';
import { requestFault, runInRequest, type RequestScope } from './request-scope.js';

/** Slack's payloads are far below this; a modal with 100 full blocks is about 400 KB. */
export const MAX_SLACK_BODY_BYTES = 1024 * 1024;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpGuardOptions {
  endpoints: string[];
  signingSecret: string;
  maxBodyBytes?: number;
  logger: Logger;
  metrics: Metrics;
}

let sequence = 0;

export function guardHttpDeliveries(inner: Listener, opts: HttpGuardOptions): Listener {
  const limit = opts.maxBodyBytes ?? MAX_SLACK_BODY_BYTES;
  const deps = { logger: opts.logger, metrics: opts.metrics };

  const refuse = (res: ServerResponse, scope: RequestScope, status: 400 | 413, reason: MalformedReason, message: string) => {
    opts.metrics.malformedDeliveries.inc({ transport: 'http', reason });
    opts.logger.warn(
      {
        request: { transport: 'http', id: scope.id },
        status,
        reason,
        problem: message,
      },
      'refused a malformed Slack delivery',
    );
    const headers = {
      'content-type': 'text/plain; charset=utf-8',
      ...(status === 413 ? { connection: 'close' } : {}),
    };
    if (!res.headersSent) res.writeHead(status, headers).end(`${message}\n`);
  };

  const handle = async (req: IncomingMessage & { rawBody?: Buffer }, res: ServerResponse, scope: RequestScope) => {
    const body = await readBody(req, limit);
    if (body === 'too_large') return refuse(res, scope, 413, 'too_large', `request body: expected at most ${limit} bytes`);
    if (body === 'aborted') return;
    req.rawBody = body;
    const text = body.toString('utf8');
    const contentType = req.headers['content-type'];
    // Bolt answers ssl_check without a signature and strips the rest of such a body itself.
    const form = contentType === 'application/x-www-form-urlencoded' ? parseQuery(text) : undefined;
    if (form?.ssl_check === '1') return inner(req, res);
    if (!signed(req, text, opts.signingSecret)) return inner(req, res); // Bolt answers 401

    // The same parsing as Bolt's parseHTTPRequestBody (exact content type, `payload` field of a form).
    let parsed: unknown;
    let origin: 'form' | 'payload' | 'json';
    try {
      if (form && typeof form.payload === 'string') [parsed, origin] = [JSON.parse(form.payload), 'payload'];
      else if (form) [parsed, origin] = [{ ...form }, 'form'];
      else [parsed, origin] = [JSON.parse(text), 'json'];
    } catch (e) {
      const what = form ? 'the payload field' : `a body of type ${String(contentType ?? 'none').slice(0, 80)}`;
      return refuse(
        res,
        scope,
        400,
        'bad_json',
        `request body: could not parse ${what} as JSON (${(e as Error).message.slice(0, 120)}); expected a form body or JSON`,
      );
    }
    const verdict = checkDelivery(parsed, origin);
    if (!verdict.ok) return refuse(res, scope, 400, verdict.reason, verdict.message);
    scope.kind = verdict.kind;
    const p = parsed as {
      trigger_id?: unknown;
      actions?: { action_ts?: unknown }[];
    };
    const deliveryId = typeof p.trigger_id === 'string' ? p.trigger_id : undefined;
    if (deliveryId) scope.deliveryId = deliveryId;
    inner(req, res);
  };

  return (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method !== 'POST' || !opts.endpoints.includes(path)) return inner(req, res);
    const scope: RequestScope = {
      transport: 'http',
      kind: 'unknown',
      id: `http-${++sequence}`,
      listenersDone: false,
      failed: false,
      answered: () => res.headersSent,
      fail: () => {
        if (!res.headersSent)
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`internal error while handling request ${scope.id}; it was logged\n`);
      },
    };
    runInRequest(scope, () => {
      try {
        handle(req, res, scope).catch((e: unknown) => requestFault(scope, e, 'guard', deps));
      } catch (e) {
        requestFault(scope, e, 'guard', deps);
      }
    });
  };
}

function signed(req: IncomingMessage, body: string, signingSecret: string): boolean {
  const signature = req.headers['x-slack-signature'];
  const timestamp = req.headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return false;
  return isValidSlackRequest({
    signingSecret,
    body,
    headers: {
      'x-slack-signature': signature,
      'x-slack-request-timestamp': Number(timestamp),
    },
  });
}

/**
 * Past `limit` the rest of a body is drained, not kept, and 'too_large' comes once it has ended: a
 * 413 sent while the client still writes would be lost to it (the connection closes under its write,
 * EPIPE instead of the answer). A client that goes on past DRAIN_FACTOR × `limit` is answered at once.
 */
const DRAIN_FACTOR = 8;
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const declared = Number(req.headers['content-length']);
    let tooLarge = Number.isFinite(declared) && declared > limit;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > DRAIN_FACTOR * limit) resolve('too_large');
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => resolve(tooLarge ? 'too_large' : Buffer.concat(chunks)));
    req.once('error', () => resolve('aborted'));
    req.once('aborted', () => resolve('aborted'));
  });
}
