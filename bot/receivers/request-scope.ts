/**
 * The last line of defence: which request, if any, an exception belongs to.
 *
 * Each delivery (an HTTP request to /slack/events, a Socket Mode envelope) runs inside an
 * AsyncLocalStorage scope that names it (kind, id) and knows how to answer it. Node runs the
 * `unhandledRejection` and `uncaughtException` handlers in the async context of the failed promise
 * or callback, so `lastLineOfDefence` can tell a failure inside a live request (log it with the
 * request's kind and id, count it, answer 500 or acknowledge the envelope, keep serving) from one
 * outside any request: a background job, the runner after its request ended, start-up. Those still
 * end the process, as Node would, and the journal resumes the work on restart.
 *
 * A scope ends when the request has been answered and its listeners have finished (Bolt's global
 * middleware marks that), or when it failed; work the request started and left running (a runbook
 * run) is then no longer the request's, and its failures are not hidden.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';

export interface RequestScope {
  transport: 'http' | 'socket';
  /** What was delivered: command, block_actions, view_submission… ('unknown' before it is parsed). */
  kind: string;
  /** The request's id: the envelope id, or a per-process sequence number for HTTP. */
  id: string;
  /** Slack's identity of the delivery when it has one (trigger_id, action_ts). */
  deliveryId?: string;
  /** Set once the listeners finished. */
  listenersDone: boolean;
  /** Set once the last line answered it. */
  failed: boolean;
  /** Whether Slack has its answer (HTTP response sent, envelope acknowledged). */
  answered(): boolean;
  /** Answers the request as failed (500, or an acknowledgement of the envelope) unless it was answered. */
  fail(): void;
}

/** A request is live until it failed, or was answered and its listeners finished. */
const isLive = (s: RequestScope) => !s.failed && !(s.listenersDone && s.answered());

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` as the handling of one request. */
export function runInRequest<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The request the running code belongs to, while it is live. */
export function currentRequest(): RequestScope | undefined {
  const s = storage.getStore();
  return s && isLive(s) ? s : undefined;
}

/** Runs `fn` outside any request (background work a request starts but does not own). */
export function outsideRequests<T>(fn: () => T): T {
  return storage.exit(fn);
}

/** Counts and logs a failure inside a request and answers it; the process keeps serving. */
export function requestFault(scope: RequestScope, error: unknown, how: string, deps: { logger: Logger; metrics: Metrics }): void {
  deps.metrics.requestFaults.inc({
    transport: scope.transport,
    kind: scope.kind,
  });
  deps.logger.error(
    {
      err: error,
      request: {
        transport: scope.transport,
        kind: scope.kind,
        id: scope.id,
        ...(scope.deliveryId ? { deliveryId: scope.deliveryId } : {}),
      },
      how,
    },
    'unexpected failure inside a request; answered and kept serving',
  );
  scope.failed = true;
  try {
    scope.fail();
  } catch (e) {
    deps.logger.warn({ err: e }, 'could not answer the failed request');
  }
}

/**
 * Installs the process-wide handlers (main.ts only; a test runner keeps its own). Returns a function
 * that removes them. `exit` is injectable for tests of the handler itself.
 */
export function lastLineOfDefence(deps: { logger: Logger; metrics: Metrics }, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  const fatal = (error: unknown, origin: string) => {
    // What Node itself would print before ending the process, then the structured record.
    writeSync(2, `${origin} outside any request; the process ends (the journal resumes its work on restart):\n${(error as Error)?.stack ?? String(error)}\n`);
    deps.logger.fatal({ err: error, origin }, 'failure outside any request; exiting');
    exit(1);
  };
  const onRejection = (reason: unknown) => {
    const scope = currentRequest();
    if (scope) requestFault(scope, reason, 'unhandledRejection', deps);
    else fatal(reason, 'unhandled rejection');
  };
  const onException = (error: Error) => {
    const scope = currentRequest();
    if (scope) requestFault(scope, error, 'uncaughtException', deps);
    else fatal(error, 'uncaught exception');
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
