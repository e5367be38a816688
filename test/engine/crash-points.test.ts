import { describe, expect, it } from 'vitest';
import { crashPointsFromEnv, parseCrashAt } from '../../engine/crash-points.js';

describe('crash points', () => {
  it('parses step ids that contain ":" and several points', () => {
    expect(parseCrashAt('migrate:0f1e:after-intent, disable:before-intent')).toEqual([
      { stepId: 'migrate:0f1e', phase: 'after-intent' },
      { stepId: 'disable', phase: 'before-intent' },
    ]);
  });

  it('refuses an unknown phase or a missing step id, naming what is expected', () => {
    expect(() => parseCrashAt('disable:during')).toThrow(/before-intent, after-intent, after-effect, after-result/);
    expect(() => parseCrashAt(':after-intent')).toThrow(/CHATOPS_CRASH_AT/);
  });

  it('kills only at the chosen point, saying which one first', () => {
    const kills: string[] = [];
    const cp = crashPointsFromEnv(
      { CHATOPS_CRASH_AT: 'b:after-effect' },
      () => kills.push('kill'),
      (line) => kills.push(line),
    );
    cp.hit('a', 'after-effect');
    cp.hit('b', 'after-intent');
    expect(kills).toEqual([]);
    cp.hit('b', 'after-effect');
    expect(kills).toEqual(['crash point b:after-effect', 'kill']);
    crashPointsFromEnv({}, () => kills.push('never')).hit('b', 'after-effect');
    expect(kills).toEqual(['crash point b:after-effect', 'kill']);
  });
});
