/**
 * Which request a failure belongs to. The process-wide handlers themselves are exercised by
 * test/e2e/malformed-input.int.test.ts on the real process (a test runner keeps its own).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../bot/metrics.js';
import { currentRequest, outsideRequests, requestFault, runInRequest, type RequestScope } from '../../../bot/receivers/request-scope.js';

function scope(): RequestScope & { answers: number; sent: boolean } {
  const s = {
    transport: 'http' as const,
    kind: 'command',
    id: 'http-1',
    listenersDone: false,
    failed: false,
    sent: false,
    answers: 0,
    answered: () => s.sent,
    fail: () => void s.answers++,
  };
  return s;
}

describe('the request scope', () => {
  it('follows the request through awaits and timers, and is absent outside it', async () => {
    const s = scope();
    expect(currentRequest()).toBeUndefined();
    await runInRequest(s, async () => {
      await new Promise((r) => setTimeout(r, 1));
      expect(currentRequest()).toBe(s);
      outsideRequests(() => expect(currentRequest()).toBeUndefined());
    });
    expect(currentRequest()).toBeUndefined();
  });

  it('stays live until it was answered and its listeners finished, or it failed', () => {
    const s = scope();
    runInRequest(s, () => {
      s.sent = true;
      expect(currentRequest()).toBe(s); // acknowledged, the listener still running
      s.listenersDone = true;
      expect(currentRequest()).toBeUndefined(); // what it left running is no longer the request's
    });
    const unanswered = scope();
    runInRequest(unanswered, () => {
      unanswered.listenersDone = true;
      expect(currentRequest()).toBe(unanswered); // a failure before the answer is still answered 500
    });
  });

  it('a fault is counted by transport and kind, logged with the request, answered once', async () => {
    const metrics = createMetrics();
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
    const s = scope();
    runInRequest(s, () => requestFault(s, new Error('boom'), 'test', { logger, metrics }));
    expect(s.answers).toBe(1);
    expect(s.failed).toBe(true);
    runInRequest(s, () => expect(currentRequest()).toBeUndefined());
    expect(await metrics.registry.getSingleMetricAsString('chatops_request_faults_total')).toContain(
      'chatops_request_faults_total{transport="http",kind="command"} 1',
    );
    expect(JSON.parse(lines[0]!)).toMatchObject({ request: { transport: 'http', kind: 'command', id: 'http-1' }, how: 'test', err: { message: 'boom' } });
  });
});
