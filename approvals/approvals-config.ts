/**
 * The `approvals:` section of the configuration (bot/config.ts embeds `approvalsConfigSchema`).
 *
 *   approvals:
 *     teams: [T0001]                       # optional: only people of these workspaces
 *     default:                             # applies to every runbook without its own entry, and
 *       requesters: { groups: [S0OPS] }    #   fills the keys an entry leaves out
 *       approvers:  { groups: [S0LEADS] }
 *       approvals: 1                       # how many distinct people (default 1)
 *       pendingTtl: 30m                    # a request not decided by then expires (default 30m)
 *       startWindow: 10m                   # an approved plan must start within (default 10m)
 *     runbooks:
 *       node.evacuate: { approvals: 2 }
 *     userData:                            # its own class, e.g. /instance inspect
 *       runbooks: [instance.inspect]
 *       approvers: { groups: [S0PRIVACY] }
 *     breakGlass: { groups: [S0ONCALL] }
 *
 * Durations are strings such as 90s, 15m, 1h30m (core/values.ts duration), stored as milliseconds.
 */
import { z } from 'zod';
import { duration, slackGroupId, slackUserId } from '../core/values.js';

export const slackChannelId = z.string().regex(/^[CG][A-Z0-9]{2,20}$/, 'expected a Slack channel id such as C0123ABCD');
export const slackTeamId = z.string().regex(/^[TE][A-Z0-9]{2,20}$/, 'expected a Slack team id such as T0123ABCD');

/** People, by Slack user id and/or user group id (groups resolved through usergroups.users.list). */
export const principalsSchema = z
  .object({
    users: z.array(slackUserId).default([]),
    groups: z.array(slackGroupId).default([]),
  })
  .strict();

/** Who may ask: people (users, groups) and where (channels). See docs/approvals.md. */
export const requestersSchema = principalsSchema.extend({ channels: z.array(slackChannelId).default([]) }).strict();

/** One runbook's policy as written; every key optional so that an entry can override `default`. */
export const approvalPolicySchema = z
  .object({
    requesters: requestersSchema.optional(),
    approvers: principalsSchema.optional(),
    approvals: z.number().int().min(1, 'at least 1 approval').max(5, 'at most 5 approvals').optional(),
    pendingTtl: duration.optional(),
    startWindow: duration.optional(),
  })
  .strict();

/** Runbooks that are user-data access by nature: the user-data class applies to them even where `userData` is not configured (then nobody may approve them). */
export const USER_DATA_RUNBOOKS: readonly string[] = ['instance.inspect'];

/** The user-data class: its own approvers, a mandatory reason, shorter windows, no break-glass by default. */
export const userDataPolicySchema = approvalPolicySchema
  .extend({
    /** Runbooks that read what users store (their disks, consoles). */
    runbooks: z.array(z.string().min(1)).default([...USER_DATA_RUNBOOKS]),
    /** Whether the break-glass path may bypass this class too (default: no). */
    allowBreakGlass: z.boolean().default(false),
    /** Step-up: approvers also type a TOTP code (secrets per approver in the environment variable named here). */
    totp: z
      .object({
        secretsEnv: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name such as CHATOPS_TOTP_SECRETS')
          .default('CHATOPS_TOTP_SECRETS'),
        /** Accepted clock drift in 30-second steps either way (default 1). */
        window: z.number().int().min(0).max(3).default(1),
      })
      .strict()
      .optional(),
  })
  .strict();

export const approvalsConfigSchema = z
  .object({
    teams: z.array(slackTeamId).default([]),
    default: approvalPolicySchema.optional(),
    runbooks: z.record(z.string().min(1), approvalPolicySchema).default({}),
    userData: userDataPolicySchema.optional(),
    breakGlass: principalsSchema.optional(),
  })
  .strict();

export type ApprovalPolicyConfig = z.output<typeof approvalPolicySchema>;
export type ApprovalsConfig = z.output<typeof approvalsConfigSchema>;
export type ApprovalsConfigInput = z.input<typeof approvalsConfigSchema>;

export const DEFAULTS = {
  change: { approvals: 1, pendingTtlMs: 30 * 60_000, startWindowMs: 10 * 60_000 },
  userData: { approvals: 1, pendingTtlMs: 15 * 60_000, startWindowMs: 5 * 60_000 },
} as const;
