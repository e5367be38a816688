/** The buttons of a plan preview: Approve, Cancel, and Reject / Break glass (which ask why first). */
import { ChatOpsError } from '../../core/errors.js';
import type { Requester } from '../../core/types.js';
import { parseApprovalButtonValue } from '../render/render-plan.js';
import { openReasonDialog, openStepUpDialog } from './dialogs.js';
import { reportStart, showScheduledApproval } from './plan-preview.js';
import type { ActionContext, ButtonAction, DispatchDeps } from './types.js';

const mention = (r: Requester) => `<@${r.userId}>`;

export async function approvalButton(d: DispatchDeps, action: ButtonAction, ctx: ActionContext): Promise<void> {
  const bound = parseApprovalButtonValue(action.value);
  if (!bound) throw new ChatOpsError('BUTTON_INVALID', 'this button carries no valid approval reference');
  const approval = await d.reads.getApproval(bound.requestId);
  if (!approval) throw new ChatOpsError('APPROVAL_NOT_FOUND', `there is no approval request ${bound.requestId}`);
  if (approval.planHash !== bound.planHash) {
    return ctx.ephemeral('That button belongs to an earlier version of the plan; the plan has changed. Look at the newest plan in the thread.');
  }
  if (action.actionId === 'approval.approve' && (await d.engine.stepUpFor(approval.id, ctx.actor))) {
    // User data with step-up: the code is typed in a dialog; the approval happens on its submission.
    // Asked of approvals/ (not read from the request's snapshot), so that someone who may not
    // approve is refused before any dialog, and step-up switched on after the request still asks.
    return openStepUpDialog(action, ctx, approval.operationId);
  }
  if (action.actionId === 'approval.approve') {
    const r = await d.engine.approve(approval.id, ctx.actor);
    if (r.scheduledFor !== undefined) return showScheduledApproval(d, ctx.client, r.approval, { channelId: action.channelId, messageTs: action.messageTs });
    const text =
      r.approval.state === 'pending'
        ? `${mention(ctx.actor)} approved (${r.approval.approvers.length} of ${r.approval.required}).`
        : `:white_check_mark: Approved by ${r.approval.approvers.map((v) => `<@${v.userId}>`).join(', ')}. Starting.`;
    await ctx.client.chat.postMessage({ channel: action.channelId, thread_ts: action.messageTs, text });
    if (r.start) await reportStart(d.reads, ctx.client, r.start, { channelId: action.channelId, messageTs: action.messageTs });
    return;
  }
  if (action.actionId === 'approval.cancel') {
    const r = await d.engine.cancel(approval.id, ctx.actor);
    await ctx.client.chat.update({
      channel: action.channelId,
      ts: action.messageTs,
      text: `Cancelled by ${mention(ctx.actor)}.`,
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: `:no_entry_sign: Operation \`${r.approval.operationId}\` cancelled by ${mention(ctx.actor)}. Nothing was done.` },
        },
      ],
    });
    return;
  }
  if (action.actionId === 'approval.reject' || action.actionId === 'approval.break_glass') await openReasonDialog(action, ctx, approval.operationId);
}
