/**
 * The reason dialogs of the approval card: Reject (the reason goes to the requester and the channel)
 * and Break glass (run without a second person: announced in the channel, audited). Opened by
 * approval-buttons.ts; their submissions come back here.
 */
import { ChatOpsError, NotAuthorizedError } from '../../core/errors.js';
import type { Requester } from '../../core/types.js';
import { reason as reasonSchema } from '../../core/values.js';
import { escapeMrkdwn } from '../render/block-kit.js';
import { parseApprovalButtonValue } from '../render/render-plan.js';
import { reportStart, showScheduledApproval } from './plan-preview.js';
import type { ActionContext, ButtonAction, DispatchDeps, ViewSubmission } from './types.js';

export const REJECT_DIALOG = 'approval.reject';
export const BREAK_GLASS_DIALOG = 'approval.break_glass';
/** User-data approvals with step-up (approvals.userData.totp): the approver types a TOTP code. */
export const STEP_UP_DIALOG = 'approval.step_up';

const mention = (r: Requester) => `<@${r.userId}>`;

/** Slack's answers to views.open when the click's trigger_id can no longer open a dialog. */
const STALE_TRIGGER = new Set(['expired_trigger_id', 'exchanged_trigger_id', 'invalid_trigger_id']);

/**
 * views.open with the click's trigger_id. Slack honours a trigger_id once and for 3 s: a click that
 * reached the bot late (a slow link, a busy bot) cannot open its dialog, and the person is told to
 * click again rather than "something went wrong" — nothing was decided.
 */
async function openDialog(ctx: ActionContext, triggerId: string, view: Record<string, unknown>, button: string): Promise<void> {
  try {
    await ctx.client.views.open({ trigger_id: triggerId, view: view as never });
  } catch (e) {
    const slackError = (e as { data?: { error?: unknown } }).data?.error;
    if (typeof slackError === 'string' && STALE_TRIGGER.has(slackError)) {
      throw new ChatOpsError(
        'BUTTON_INVALID',
        `Slack did not let this click open its dialog (${slackError}: a click opens a dialog once, within 3 s, and this one reached the bot too late); click ${button} again. Nothing was approved or changed`,
      );
    }
    throw e;
  }
}

/** Opens the dialog asking why, for the Reject or Break glass button of operation `operationId`. */
export async function openReasonDialog(action: ButtonAction, ctx: ActionContext, operationId: string): Promise<void> {
  const breaking = action.actionId === 'approval.break_glass';
  if (!action.triggerId) throw new ChatOpsError('BUTTON_INVALID', 'this needs a reason, and the click carried no way to ask for one');
  const meta = JSON.stringify({ value: action.value, channel: action.channelId, ts: action.messageTs });
  await openDialog(
    ctx,
    action.triggerId,
    {
      type: 'modal',
      callback_id: breaking ? BREAK_GLASS_DIALOG : REJECT_DIALOG,
      private_metadata: meta,
      title: { type: 'plain_text', text: breaking ? 'Break glass' : 'Reject this plan' },
      submit: { type: 'plain_text', text: breaking ? 'Run it now' : 'Reject' },
      close: { type: 'plain_text', text: 'Back' },
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: breaking
              ? `Operation \`${operationId}\` will run *without a second person's approval*. This is announced in the channel and audited.`
              : `Operation \`${operationId}\`: the requester and the channel will see your reason.`,
          },
        },
        {
          type: 'input',
          block_id: 'reason',
          label: { type: 'plain_text', text: 'Why?' },
          element: { type: 'plain_text_input', action_id: 'reason', min_length: 3, max_length: 255 },
        },
      ],
    },
    breaking ? 'Break glass' : 'Reject',
  );
}

/** Opens the dialog asking an approver of user-data access for the code of their authenticator app. */
export async function openStepUpDialog(action: ButtonAction, ctx: ActionContext, operationId: string): Promise<void> {
  if (!action.triggerId) throw new ChatOpsError('BUTTON_INVALID', 'approving this needs a TOTP code, and the click carried no way to ask for one');
  await openDialog(
    ctx,
    action.triggerId,
    {
      type: 'modal',
      callback_id: STEP_UP_DIALOG,
      private_metadata: JSON.stringify({ value: action.value, channel: action.channelId, ts: action.messageTs }),
      title: { type: 'plain_text', text: 'Approve user-data access' },
      submit: { type: 'plain_text', text: 'Approve' },
      close: { type: 'plain_text', text: 'Back' },
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `Operation \`${operationId}\` reads a customer's data. Type the code of your authenticator app.` } },
        {
          type: 'input',
          block_id: 'totp',
          label: { type: 'plain_text', text: 'TOTP code' },
          element: { type: 'plain_text_input', action_id: 'totp', min_length: 6, max_length: 6 },
        },
      ],
    },
    'Approve',
  );
}

/** Pure check before the dialog is acknowledged: errors by block id keep it open. */
export function checkDialog(view: ViewSubmission): Record<string, string> | undefined {
  if (view.callbackId === STEP_UP_DIALOG)
    return /^\d{6}$/.test((view.values.totp ?? '').trim()) ? undefined : { totp: 'expected the 6 digits your authenticator app shows' };
  if (view.callbackId !== REJECT_DIALOG && view.callbackId !== BREAK_GLASS_DIALOG) return undefined;
  const r = reasonSchema.safeParse(view.values.reason ?? '');
  return r.success ? undefined : { reason: r.error.issues[0]?.message ?? 'expected a reason' };
}

export async function submitDialog(d: DispatchDeps, view: ViewSubmission, ctx: ActionContext): Promise<void> {
  if (view.callbackId === STEP_UP_DIALOG) return approveWithCode(d, view, ctx);
  if (view.callbackId === REJECT_DIALOG) return rejectWithReason(d, view, ctx);
  if (view.callbackId === BREAK_GLASS_DIALOG) return breakGlassWithReason(d, view, ctx);
  return ctx.ephemeral(`This dialog (${view.callbackId}) is not known to this bot.`);
}

function boundOf(view: ViewSubmission) {
  const meta = JSON.parse(view.privateMetadata) as { value: string; channel: string; ts: string };
  const bound = parseApprovalButtonValue(meta.value);
  if (!bound) throw new ChatOpsError('BUTTON_INVALID', 'this dialog carries no valid approval reference');
  return { meta, bound };
}

async function breakGlassWithReason(d: DispatchDeps, view: ViewSubmission, ctx: ActionContext): Promise<void> {
  if (!d.breakGlass) throw new NotAuthorizedError('break-glass is not configured (approvals.breakGlass)');
  const { meta, bound } = boundOf(view);
  const reason = reasonSchema.parse(view.values.reason);
  const op = await d.engine.breakGlass(bound.requestId, bound.planHash, ctx.actor, reason);
  // Loud on purpose: a top-level message in the channel, not a thread reply.
  await ctx.client.chat.postMessage({
    channel: op.channelId,
    text: `:rotating_light: *Break glass*: ${mention(ctx.actor)} started \`${op.id}\` (${escapeMrkdwn(op.runbook)} ${escapeMrkdwn(op.target)}) without a second person's approval. Reason: ${escapeMrkdwn(reason)}`,
  });
  const start = await d.engine.start(op.id, ctx.actor);
  await reportStart(d.reads, ctx.client, start, { channelId: meta.channel, messageTs: meta.ts });
}

async function approveWithCode(d: DispatchDeps, view: ViewSubmission, ctx: ActionContext): Promise<void> {
  const { meta, bound } = boundOf(view);
  const r = await d.engine.approve(bound.requestId, ctx.actor, { totp: (view.values.totp ?? '').trim() });
  if (r.scheduledFor !== undefined) return showScheduledApproval(d, ctx.client, r.approval, { channelId: meta.channel, messageTs: meta.ts });
  const text =
    r.approval.state === 'pending'
      ? `${mention(ctx.actor)} approved with a TOTP code (${r.approval.approvers.length} of ${r.approval.required}).`
      : `:white_check_mark: Approved by ${r.approval.approvers.map((v) => `<@${v.userId}>`).join(', ')} (TOTP checked). Starting.`;
  await ctx.client.chat.postMessage({ channel: meta.channel, thread_ts: meta.ts, text });
  if (r.start) await reportStart(d.reads, ctx.client, r.start, { channelId: meta.channel, messageTs: meta.ts });
}

async function rejectWithReason(d: DispatchDeps, view: ViewSubmission, ctx: ActionContext): Promise<void> {
  const { meta, bound } = boundOf(view);
  const reason = reasonSchema.parse(view.values.reason);
  const r = await d.engine.reject(bound.requestId, ctx.actor, reason);
  const text = `:x: Operation \`${r.approval.operationId}\` rejected by ${mention(ctx.actor)}: ${escapeMrkdwn(reason)}. Nothing was done.`;
  await ctx.client.chat.update({
    channel: meta.channel,
    ts: meta.ts,
    text: `Rejected by ${mention(ctx.actor)}: ${escapeMrkdwn(reason)}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  });
}
