/**
 * The approvals module from configuration. In local mode, where nobody has configured Slack ids,
 * the stand-in's people are used: everyone in #ops may ask, the stand-in's @approvers group
 * (bob, carol) approves — so a person can try the two-person rule from the terminal.
 */
import { Approvals } from '../approvals/approvals.js';
import { approvalsConfigSchema, type ApprovalsConfig } from '../approvals/approvals-config.js';
import type { GroupResolver } from '../approvals/group-resolver.js';
import type { Store } from '../store/store.js';
import type { Config } from '../bot/config.js';

export const LOCAL_APPROVALS = approvalsConfigSchema.parse({
  default: { requesters: { channels: ['C0OPS0001', 'C0GENERAL'] }, approvers: { groups: ['S0APPROVE'] } },
  userData: { approvers: { groups: ['S0APPROVE'] } },
  breakGlass: { users: ['U0DAVE001'] },
});

export function approvalsConfigFor(config: Config): ApprovalsConfig {
  const configured = config.approvals.default || Object.keys(config.approvals.runbooks).length || config.approvals.userData;
  return config.mode.kind === 'local' && !configured ? LOCAL_APPROVALS : config.approvals;
}

export function buildApprovals(config: Config, store: Store, groups: GroupResolver): Approvals {
  return new Approvals({ store, config: approvalsConfigFor(config), groups });
}

/** Whether anyone may break glass under the configuration in force. */
export function breakGlassConfigured(config: Config): boolean {
  const bg = approvalsConfigFor(config).breakGlass;
  return bg !== undefined && bg.users.length + bg.groups.length > 0;
}
