/**
 * Deliberate failures, for the tests of the last line of defence only: with
 * `CHATOPS_REQUEST_FAULTS=1` in the environment, a slash command whose text is `__fault__ <mode>`
 * fails on purpose before it is acknowledged:
 *  - `throw`: a listener-stage exception (Bolt catches it; `app.error` answers 500);
 *  - `reject`: a promise rejected and never handled, inside the request (`unhandledRejection`);
 *  - `timer`: an exception thrown from a timer the request set (`uncaughtException`);
 *  - `outside`: a rejection outside any request, which must end the process (the command itself is
 *    acknowledged normally first).
 * Unset in production; the text is then an ordinary (invalid) command argument.
 */
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { outsideRequests } from './request-scope.js';

export const REQUEST_FAULT_MODES = ['throw', 'reject', 'timer', 'outside'] as const;
export type RequestFaultMode = (typeof REQUEST_FAULT_MODES)[number];
const FAULT_TEXT = new RegExp(`^__fault__ (${REQUEST_FAULT_MODES.join('|')})$`);

/** Whether the environment asks for the deliberate faults. */
export function requestFaultsEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env.CHATOPS_REQUEST_FAULTS === '1';
}

export function deliberateFaults(): Middleware<AnyMiddlewareArgs> {
  return async ({ body, next }) => {
    const b = body as { command?: unknown; text?: unknown };
    const mode = typeof b.command === 'string' && typeof b.text === 'string' ? (FAULT_TEXT.exec(b.text)?.[1] as RequestFaultMode | undefined) : undefined;
    if (mode === undefined) return next();
    const error = new Error(`deliberate request fault (${mode})`);
    switch (mode) {
      case 'throw':
        throw error;
      case 'reject':
        void Promise.reject(error);
        return;
      case 'timer':
        setTimeout(() => {
          throw error;
        }, 0);
        return;
      case 'outside':
        outsideRequests(() => setTimeout(() => void Promise.reject(error), 50));
        return next();
    }
  };
}
