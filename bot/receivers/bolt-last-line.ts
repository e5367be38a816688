/**
 * The request scope (request-scope.ts) wired into Bolt: where Bolt catches a failure itself — a
 * listener or middleware that threw (`app.error`), or `processEvent` that threw before any listener
 * ran (the receivers' `processEventErrorHandler`) — the failure is logged with the request's kind and
 * id, counted, and the request answered (500, or the envelope acknowledged). A global middleware
 * marks when the listeners have finished: an answered request whose listeners are done is over.
 */
import { ErrorCode, HTTPModuleFunctions, defaultProcessEventErrorHandler, type App, type CodedError } from '@slack/bolt';
import type { ReceiverProcessEventErrorHandlerArgs, SocketModeReceiverProcessEventErrorHandlerArgs } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { deliberateFaults } from './request-faults.js';
import { currentRequest, requestFault } from './request-scope.js';

interface Deps {
  logger: Logger;
  metrics: Metrics;
}

const isAuthorizationError = (e: unknown) => (e as CodedError | undefined)?.code === ErrorCode.AuthorizationError;

/** For HTTPReceiver's `processEventErrorHandler`: returns true when the request was answered here. */
export function httpEventErrorHandler(deps: Deps): (args: ReceiverProcessEventErrorHandlerArgs) => Promise<boolean> {
  return async (args) => {
    const scope = currentRequest();
    if (!scope || isAuthorizationError(args.error)) return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
    requestFault(scope, args.error, 'processEvent', deps);
    return true;
  };
}

/** For SocketModeReceiver's `processEventErrorHandler`: the scope acknowledges the envelope itself. */
export function socketEventErrorHandler(deps: Deps): (args: SocketModeReceiverProcessEventErrorHandlerArgs) => Promise<boolean> {
  return async (args) => {
    const scope = currentRequest();
    if (!scope || isAuthorizationError(args.error)) return defaultProcessEventErrorHandler(args);
    requestFault(scope, args.error, 'processEvent', deps);
    return false;
  };
}

/**
 * Ends each request's scope when its listeners finish, answers failures Bolt hands to `app.error`,
 * and, with `requestFaults`, adds the deliberate faults of request-faults.ts (tests only).
 */
export function installRequestScopes(app: App, deps: Deps, opts: { requestFaults?: boolean } = {}): void {
  app.use(async ({ next }) => {
    await next();
    const scope = currentRequest();
    if (scope) scope.listenersDone = true;
  });
  if (opts.requestFaults) app.use(deliberateFaults());
  app.error(async (e) => {
    const scope = currentRequest();
    if (scope && !isAuthorizationError(e)) return requestFault(scope, e, 'listener', deps);
    deps.logger.error({ err: e }, 'unhandled Bolt error');
  });
}
