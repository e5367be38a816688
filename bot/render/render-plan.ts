/**
 * The plan preview: what will be done, step by step with the exact command an operator would have
 * typed, what it touches, who asked and who must approve, with Approve / Reject / Cancel buttons.
 * Pure: model in, `{ text, blocks }` out, always within Slack's limits.
 */
import type { KnownBlock } from '@slack/types';
import type { Effect, Plan, Requester } from '../../core/types.js';
import { clip, code, context, escapeMrkdwn, header, packLines, section } from './block-kit.js';
import { SLACK_LIMITS as L } from './slack-limits.js';
import { relativeTime, utcText } from './relative-time.js';

export interface PlanPreview {
  operationId: string;
  plan: Plan;
  requester: Requester;
  /** The command as typed, e.g. "/node drain c01 reason=maintenance". */
  commandText: string;
  /** Undefined for read-only plans, which need no approval. */
  approval?: {
    requestId: string;
    needed: number;
    /** e.g. "one of @oncall-leads" — rendered by the caller from the policy. */
    approversText: string;
    expiresAt: number;
    /** Offer the audited break-glass path (configured group only; announced in the channel). */
    breakGlass?: boolean;
  };
  /** A scheduled run (`at=`/`in=`): approved now, started at `runAt`. `now` renders "in 3 h". */
  schedule?: { id: string; runAt: number; now: number };
  /** Set once a scheduled plan is approved: the card then shows who approved and no buttons. */
  approvedBy?: readonly string[];
}

export interface Rendered {
  text: string;
  blocks: KnownBlock[];
}

const EFFECT_MARK: Record<Effect, string> = { read: ':mag:', change: ':wrench:', destructive: ':warning:' };

/** Button value binding a click to one approval request and one exact plan. */
export function approvalButtonValue(requestId: string, planHash: string): string {
  return `${requestId}|${planHash}`;
}

export function parseApprovalButtonValue(value: string): { requestId: string; planHash: string } | undefined {
  const m = /^([A-Za-z0-9_-]{1,64})\|([0-9a-f]{64})$/.exec(value);
  return m ? { requestId: m[1]!, planHash: m[2]! } : undefined;
}

export function stepLines(plan: Plan): string[] {
  return plan.steps.map((s, i) => {
    const cmds = s.equivalent.map((e) => code(clip(e, 400))).join(' ; ');
    const always = s.always ? ' _(always runs)_' : '';
    return `${EFFECT_MARK[s.effect]} *${i + 1}.* ${escapeMrkdwn(s.title)}${always}${cmds ? `\n      ${cmds}` : ''}`;
  });
}

export function renderPlanPreview(p: PlanPreview): Rendered {
  const { plan } = p;
  const blocks: KnownBlock[] = [
    header(`Plan: ${p.commandText}`),
    section(`${escapeMrkdwn(plan.summary)}\n*Risk:* ${plan.risk}   *Steps:* ${plan.steps.length}   *Operation:* ${code(p.operationId)}`),
    context(`Asked by <@${p.requester.userId}>`, `plan ${code(plan.hash.slice(0, 12))}`),
  ];
  if (plan.warnings?.length) {
    blocks.push(
      ...packLines(
        plan.warnings.map((w) => `:large_yellow_circle: ${escapeMrkdwn(w)}`),
        2,
        (n) => `… and ${n} more warnings (see \`/op show ${p.operationId}\`)`,
      ),
    );
  }
  // Keep room for the header, summary, warnings, approval text and buttons.
  const room = L.blocksPerMessage - blocks.length - 4 - (p.schedule ? 1 : 0);
  blocks.push(...packLines(stepLines(plan), Math.min(room, 12), (n) => `… and ${n} more steps (full plan: \`/op show ${p.operationId}\`)`));
  if (p.schedule) {
    const when = `${utcText(p.schedule.runAt)} (${relativeTime(p.schedule.runAt, p.schedule.now)})`;
    const approved = p.approvedBy?.length ? `:white_check_mark: Approved by ${p.approvedBy.map((u) => `<@${u}>`).join(', ')}. ` : '';
    blocks.push(
      section(
        `:calendar: *Scheduled for ${when}.* ${approved}The plan is made again just before the start; if it changed, it asks again and nothing runs. Cancel with ${code(`/schedule cancel ${p.schedule.id}`)}.`,
      ),
    );
  }
  if (p.approval) {
    const a = p.approval;
    const starts = p.schedule ? `It starts at ${utcText(p.schedule.runAt)}.` : 'It starts right away.';
    blocks.push(
      section(
        `*Needs ${a.needed} approval${a.needed > 1 ? 's' : ''}* from ${a.approversText} (not <@${p.requester.userId}>). Expires <!date^${Math.floor(a.expiresAt / 1000)}^{time}|in a while>.`,
      ),
      {
        type: 'actions',
        block_id: `approval:${a.requestId}`,
        elements: [
          {
            type: 'button',
            action_id: 'approval.approve',
            text: { type: 'plain_text', text: 'Approve' },
            style: 'primary',
            value: approvalButtonValue(a.requestId, plan.hash),
            confirm: {
              title: { type: 'plain_text', text: 'Approve this plan?' },
              text: {
                type: 'mrkdwn',
                text: clip(`${plan.steps.length} steps on ${escapeMrkdwn(plan.target)}; risk: ${plan.risk}. ${starts}`, L.confirmText),
              },
              confirm: { type: 'plain_text', text: 'Approve' },
              deny: { type: 'plain_text', text: 'Back' },
            },
          },
          {
            type: 'button',
            action_id: 'approval.reject',
            text: { type: 'plain_text', text: 'Reject' },
            style: 'danger',
            value: approvalButtonValue(a.requestId, plan.hash),
          },
          { type: 'button', action_id: 'approval.cancel', text: { type: 'plain_text', text: 'Cancel' }, value: approvalButtonValue(a.requestId, plan.hash) },
          // Break glass is for running now; a scheduled run waits for its time anyway.
          ...(a.breakGlass && !p.schedule
            ? [
                {
                  type: 'button' as const,
                  action_id: 'approval.break_glass',
                  text: { type: 'plain_text' as const, text: 'Break glass' },
                  value: approvalButtonValue(a.requestId, plan.hash),
                  confirm: {
                    title: { type: 'plain_text' as const, text: 'Run without a second person?' },
                    text: {
                      type: 'mrkdwn' as const,
                      text: 'Only for the break-glass group, only in an emergency. It is announced in the channel and audited.',
                    },
                    confirm: { type: 'plain_text' as const, text: 'Break glass' },
                    deny: { type: 'plain_text' as const, text: 'Back' },
                  },
                },
              ]
            : []),
        ],
      },
    );
  }
  const when = p.schedule ? `, scheduled for ${utcText(p.schedule.runAt)}` : '';
  const text = `Plan for ${p.commandText}: ${plan.steps.length} steps, risk ${plan.risk}${when}${p.approval ? ', waiting for approval' : p.approvedBy?.length ? ', approved' : ''}`;
  return { text: clip(text, 3000), blocks };
}
