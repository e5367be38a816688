/**
 * The plan preview in the channel (the thread parent that becomes the status card) and what a start
 * that did not simply run says there. Used after a runbook command, a resume, an Approve click, a
 * break-glass start, and at start-up for an operation a killed process left approved.
 */
import type { WebClient } from '@slack/web-api';
import type { Plan } from '../../core/types.js';
import type { StartResult } from '../../engine/engine.js';
import type { ApprovalRecord, OperationRecord } from '../../store/store.js';
import { renderError } from '../render/render-error.js';
import { relativeTime, utcText } from '../render/relative-time.js';
import { renderPlanPreview } from '../render/render-plan.js';
import type { DispatchDeps, StoreReads } from './types.js';

/** "one of @approvers, <@U1>" from the policy snapshot stored with an approval request. */
export function approversText(a: ApprovalRecord): string {
  const p = a.policy as { approvers?: { users?: string[]; groups?: string[] } };
  const names = [...(p.approvers?.groups ?? []).map((g) => `<!subteam^${g}>`), ...(p.approvers?.users ?? []).map((u) => `<@${u}>`)];
  return names.length ? `${a.required > 1 ? `${a.required} of` : 'one of'} ${names.join(', ')}` : 'anyone else in this channel';
}

/** Posts the plan (with its approval request, if any) and remembers the message as the operation's card. */
export async function postPreview(
  d: Pick<DispatchDeps, 'engine' | 'breakGlass'>,
  client: WebClient,
  channelId: string,
  op: OperationRecord,
  plan: Plan,
  approval: ApprovalRecord | null,
  schedule?: { id: string; runAt: number; now: number },
): Promise<string | undefined> {
  const r = renderPlanPreview({
    operationId: op.id,
    plan,
    requester: op.requester,
    commandText: typeof op.detail.raw === 'string' ? op.detail.raw : `${plan.runbook} ${plan.target}`,
    ...(schedule ? { schedule } : {}),
    ...(approval
      ? {
          approval: {
            requestId: approval.id,
            needed: approval.required,
            approversText: approversText(approval),
            expiresAt: approval.expiresAt,
            breakGlass: d.breakGlass,
          },
        }
      : {}),
  });
  const res = await client.chat.postMessage({ channel: channelId, text: r.text, blocks: r.blocks });
  if (res.ts) await d.engine.attachCard(op.id, res.ts);
  return res.ts;
}

/**
 * What a start that did not simply run says in the operation's thread: a refusal names why; a plan
 * that drifted since its approval lists the differences and replaces the preview with the new plan and
 * its new approval request.
 */
export async function reportStart(reads: StoreReads, client: WebClient, start: StartResult, where: { channelId: string; messageTs: string }): Promise<void> {
  if (start.kind === 'refused') {
    await client.chat.postMessage({ channel: where.channelId, thread_ts: where.messageTs, text: renderError(start.error).text });
  } else if (start.kind === 'drift') {
    // The card first, then the thread: the reply points at the new plan "above", so it must be there
    // when the reply arrives (a reader, or a test, that sees the reply looks at the card next).
    const op = await reads.getOperation(start.opId);
    if (op) {
      const r = renderPlanPreview({
        operationId: op.id,
        plan: start.plan,
        requester: op.requester,
        commandText: typeof op.detail.raw === 'string' ? op.detail.raw : op.runbook,
        ...(start.approval
          ? {
              approval: {
                requestId: start.approval.id,
                needed: start.approval.required,
                approversText: approversText(start.approval),
                expiresAt: start.approval.expiresAt,
              },
            }
          : {}),
      });
      await client.chat.update({ channel: where.channelId, ts: where.messageTs, text: r.text, blocks: r.blocks });
    }
    const lines = start.differences
      .slice(0, 20)
      .map((x) => `• ${x}`)
      .join('\n');
    await client.chat.postMessage({
      channel: where.channelId,
      thread_ts: where.messageTs,
      text: `:warning: The plan changed since it was approved, so that approval no longer counts. What changed:\n${lines}\n${start.approval ? 'A new approval is needed for the new plan (above).' : 'Ask again if it is still needed.'}`,
    });
  }
}

/**
 * A scheduled plan approved ahead of its time: the card loses its buttons and says who approved it
 * and when it starts; the thread says so too. Nothing starts now (the schedule sweep starts it).
 */
export async function showScheduledApproval(
  d: Pick<DispatchDeps, 'engine' | 'reads' | 'clock'>,
  client: WebClient,
  approval: ApprovalRecord,
  where: { channelId: string; messageTs: string },
): Promise<void> {
  const op = await d.reads.getOperation(approval.operationId);
  const schedule = op && (await d.engine.schedules.of(op));
  if (!op || !schedule) return;
  const approvedBy = approval.approvers.map((v) => v.userId);
  const now = d.clock.now();
  const r = renderPlanPreview({
    operationId: op.id,
    plan: op.plan as unknown as Plan,
    requester: op.requester,
    commandText: typeof op.detail.raw === 'string' ? op.detail.raw : op.runbook,
    schedule: { id: schedule.id, runAt: schedule.runAt, now },
    approvedBy,
  });
  await client.chat.update({ channel: where.channelId, ts: where.messageTs, text: r.text, blocks: r.blocks });
  await client.chat.postMessage({
    channel: where.channelId,
    thread_ts: where.messageTs,
    text: `:white_check_mark: Approved by ${approvedBy.map((u) => `<@${u}>`).join(', ')}. It starts at ${utcText(schedule.runAt)} (${relativeTime(schedule.runAt, now)}).`,
  });
}
