/** How the reporter treats each kind of Slack failure, using web-api's own error objects. */
import { ErrorCode } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { classifySlackError } from '../../bot/thread-reporter.js';

const platform = (error: string) => Object.assign(new Error(error), { code: ErrorCode.PlatformError, data: { ok: false, error } });

describe('classifySlackError', () => {
  it('waits exactly Retry-After on a 429', () => {
    expect(classifySlackError(Object.assign(new Error('rl'), { code: ErrorCode.RateLimitedError, retryAfter: 30 }), 0, 60_000)).toEqual({ retryInMs: 30_000 });
  });
  it('drops a message Slack will never accept, and only that', () => {
    for (const e of ['channel_not_found', 'message_not_found', 'msg_too_long', 'invalid_blocks', 'invalid_auth'])
      expect(classifySlackError(platform(e), 0, 60_000)).toEqual({ drop: e });
  });
  it('backs off exponentially, capped, on transient errors', () => {
    const http = Object.assign(new Error('502'), { code: ErrorCode.HTTPError });
    expect([0, 1, 2, 3, 10].map((n) => classifySlackError(http, n, 60_000))).toEqual([1000, 2000, 4000, 8000, 60_000].map((retryInMs) => ({ retryInMs })));
    expect(classifySlackError(platform('internal_error'), 0, 60_000)).toEqual({ retryInMs: 1000 });
    expect(classifySlackError(new TypeError('fetch failed'), 1, 60_000)).toEqual({ retryInMs: 2000 });
  });
});
