import { describe, expect, it } from 'vitest';
import { relativeTime, utcText } from '../../../bot/render/relative-time.js';
import { renderScheduleList } from '../../../bot/render/render-op-report.js';
import type { ScheduleRecord } from '../../../store/store.js';

const now = Date.UTC(2026, 11, 1, 1, 0, 0);
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

describe('relative time', () => {
  it('says how far ahead or behind, in the largest units that read well', () => {
    expect(relativeTime(now, now)).toBe('now');
    expect(relativeTime(now + 999, now)).toBe('now');
    expect(relativeTime(now + 40 * S, now)).toBe('in 40 s');
    expect(relativeTime(now + 12 * MIN, now)).toBe('in 12 min');
    expect(relativeTime(now + 3 * H, now)).toBe('in 3 h');
    expect(relativeTime(now + 90 * MIN, now)).toBe('in 1 h 30 min');
    expect(relativeTime(now + 26 * H, now)).toBe('in 1 d 2 h');
    expect(relativeTime(now + 48 * H, now)).toBe('in 2 d');
    expect(relativeTime(now - 5 * MIN, now)).toBe('5 min ago');
    expect(relativeTime(now - 59 * S, now)).toBe('59 s ago');
  });

  it('rounds at the unit boundaries instead of saying "60 min"', () => {
    expect(relativeTime(now + 59 * MIN + 50 * S, now)).toBe('in 1 h');
    expect(relativeTime(now + 59.6 * S, now)).toBe('in 1 min');
  });

  it('writes UTC with seconds only when there are some', () => {
    expect(utcText(Date.UTC(2026, 11, 1, 2, 0))).toBe('2026-12-01 02:00 UTC');
    expect(utcText(Date.UTC(2026, 11, 1, 2, 0, 7))).toBe('2026-12-01 02:00:07 UTC');
  });

  it('/schedule list shows each run in UTC and relative to now, with its command and operation', () => {
    const s: ScheduleRecord = {
      id: 'sc-abcdefgh2345',
      runbook: 'node.drain',
      args: { target: 'c01', command: '/node drain c01 reason=kernel in=3h' },
      runAt: now + 3 * H,
      requester: { userId: 'U0ALICE01', teamId: 'T0CHATOPS' },
      channelId: 'C0OPS0001',
      state: 'scheduled',
      operationId: 'op-abcdefgh2345',
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const text = JSON.stringify(renderScheduleList([s], now).blocks);
    expect(text).toContain('2026-12-01 04:00 UTC (in 3 h)');
    expect(text).toContain('/node drain c01 reason=kernel in=3h');
    expect(text).toContain('op-abcdefgh2345');
  });
});
