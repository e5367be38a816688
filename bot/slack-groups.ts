/**
 * Who is in a Slack user group, through `usergroups.users.list`, behind approvals' shared cache so
 * that a burst of clicks costs one call. When Slack cannot answer, it throws: approvals then
 * refuses, never guesses.
 */
import type { WebClient } from '@slack/web-api';
import { cachedGroupResolver } from '../approvals/cached-group-resolver.js';
import type { GroupResolver } from '../approvals/group-resolver.js';
import type { Clock } from '../core/clock.js';

export function slackGroupResolver(client: WebClient, clock: Clock): GroupResolver {
  return cachedGroupResolver(
    {
      async members(groupId) {
        const res = await client.usergroups.users.list({ usergroup: groupId });
        return res.users ?? [];
      },
    },
    clock,
  );
}
