/**
 * Who is in a Slack user group, through `usergroups.users.list`, cached briefly so that a burst of
 * clicks costs one call. When Slack cannot answer, it throws: approvals then refuses, never guesses.
 */
import type { WebClient } from '@slack/web-api';
import type { GroupResolver } from '../approvals/group-resolver.js';
import type { Clock } from '../core/clock.js';

export function slackGroupResolver(client: () => WebClient, clock: Clock, ttlMs = 60_000): GroupResolver {
  const cache = new Map<string, { users: readonly string[]; until: number }>();
  return {
    async members(groupId) {
      const hit = cache.get(groupId);
      if (hit && hit.until > clock.now()) return hit.users;
      const res = await client().usergroups.users.list({ usergroup: groupId });
      const users = res.users ?? [];
      cache.set(groupId, { users, until: clock.now() + ttlMs });
      return users;
    },
  };
}
