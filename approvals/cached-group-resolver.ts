/**
 * Slack's usergroups.users.list is rate-limited (Tier 2, about 20 calls a minute), and a hundred
 * people may click Approve in the same second. This wrapper asks Slack at most once per group per
 * `ttlMs` (default 10 s) and lets concurrent look-ups of the same group share one call. Failures are
 * not cached: the next click asks again. Membership is therefore at most `ttlMs` old at click time.
 */
import type { Clock } from '../core/clock.js';
import type { GroupResolver } from './group-resolver.js';

export function cachedGroupResolver(inner: GroupResolver, clock: Clock, o: { ttlMs?: number } = {}): GroupResolver {
  const ttlMs = o.ttlMs ?? 10_000;
  const cache = new Map<string, { at: number; members: Promise<readonly string[]> }>();
  return {
    members(groupId) {
      const now = clock.now();
      const hit = cache.get(groupId);
      if (hit && now - hit.at < ttlMs) return hit.members;
      const members = inner.members(groupId);
      cache.set(groupId, { at: now, members });
      members.catch(() => {
        if (cache.get(groupId)?.members === members) cache.delete(groupId);
      });
      return members;
    },
  };
}

/** Within one decision, each group is looked up once even when two policies name it. */
export function memoGroupResolver(inner: GroupResolver): GroupResolver {
  const seen = new Map<string, Promise<readonly string[]>>();
  return {
    members(groupId) {
      let m = seen.get(groupId);
      if (!m) {
        m = inner.members(groupId);
        seen.set(groupId, m);
      }
      return m;
    },
  };
}
