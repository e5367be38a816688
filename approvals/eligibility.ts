/**
 * Who may ask and who may approve. Pure except for group look-ups through the GroupResolver, done
 * at the moment of the request or the click (never cached here), so a person removed from a group
 * can no longer approve.
 */
import { NotAuthorizedError } from '../core/errors.js';
import type { Requester } from '../core/types.js';
import type { GroupResolver } from './group-resolver.js';
import type { Principals, ResolvedPolicy } from './resolve-policy.js';

/**
 * The same person? Slack identifies a person by user id + team id. Same user id and same team: the
 * same person. Same user id from another team: an Enterprise Grid user seen from another workspace
 * of the same organisation (Grid user ids are organisation-wide): still the same person. So the user
 * id decides; a differing team id never lets a requester approve their own request.
 */
export function samePerson(a: Pick<Requester, 'userId' | 'teamId'>, b: Pick<Requester, 'userId' | 'teamId'>): boolean {
  return a.userId === b.userId;
}

const mention = (userId: string): string => `<@${userId}>`;

/** Whether userId is listed or a member of one of the groups; throws NotAuthorizedError when a group cannot be read. */
export async function isAmong(userId: string, p: Principals, groups: GroupResolver): Promise<boolean> {
  if (p.users.includes(userId)) return true;
  for (const g of p.groups) {
    let members: readonly string[];
    try {
      members = await groups.members(g);
    } catch (e) {
      throw new NotAuthorizedError(`could not check membership of user group ${g} right now (${(e as Error).message}); nothing was decided, try again`, {
        group: g,
      });
    }
    if (members.includes(userId)) return true;
  }
  return false;
}

function checkTeam(policy: ResolvedPolicy, who: Requester, role: string): void {
  if (policy.teams.length > 0 && !policy.teams.includes(who.teamId)) {
    throw new NotAuthorizedError(`${mention(who.userId)} is in workspace ${who.teamId}; only people of ${policy.teams.join(', ')} may ${role}`, {
      userId: who.userId,
      teamId: who.teamId,
    });
  }
}

const listOf = (p: Principals & { channels?: string[] }): string =>
  [...p.users.map(mention), ...p.groups.map((g) => `<!subteam^${g}>`), ...(p.channels ?? []).map((c) => `<#${c}>`)].join(', ') || 'nobody';

/**
 * May this person ask for this runbook from this channel? `users`/`groups` say who, `channels` say
 * where; when both are configured both must hold. Throws NotAuthorizedError naming what is allowed.
 */
export async function checkRequester(policy: ResolvedPolicy, requester: Requester, channelId: string, groups: GroupResolver): Promise<void> {
  checkTeam(policy, requester, `ask for ${policy.runbook}`);
  const r = policy.requesters;
  if (r === null) {
    if (!policy.needed) return; // nothing configured: read-only plans are open to everyone
    throw new NotAuthorizedError(
      `nobody is configured to ask for ${policy.runbook} (approvals.runbooks / approvals.default requesters); ask an administrator`,
      {
        runbook: policy.runbook,
      },
    );
  }
  if (r.channels.length > 0 && !r.channels.includes(channelId)) {
    throw new NotAuthorizedError(`${policy.runbook} may only be asked for in ${r.channels.map((c) => `<#${c}>`).join(', ')}`, {
      runbook: policy.runbook,
      channelId,
    });
  }
  const people = r.users.length + r.groups.length > 0;
  if (people && !(await isAmong(requester.userId, r, groups))) {
    throw new NotAuthorizedError(`${mention(requester.userId)} may not ask for ${policy.runbook}; allowed: ${listOf({ users: r.users, groups: r.groups })}`, {
      runbook: policy.runbook,
      userId: requester.userId,
    });
  }
}

/** May this person approve (or reject) a request made by `requester` under `policy`? Throws NotAuthorizedError. */
export async function checkApprover(policy: ResolvedPolicy, requester: Requester, approver: Requester, groups: GroupResolver): Promise<void> {
  if (samePerson(requester, approver)) {
    throw new NotAuthorizedError(`${mention(approver.userId)} asked for this; someone else must decide on it`, {
      userId: approver.userId,
      reason: 'self-approval',
    });
  }
  checkTeam(policy, approver, 'approve');
  if (!(await isAmong(approver.userId, policy.approvers, groups))) {
    throw new NotAuthorizedError(`${mention(approver.userId)} may not approve ${policy.runbook}; approvers: ${listOf(policy.approvers)}`, {
      userId: approver.userId,
      reason: 'not an approver',
    });
  }
}
