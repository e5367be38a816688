/** `/op resume|abort`, `/schedule cancel`, and the Abort/Resume buttons of the status card. */
import type { Command, Plan, Requester } from '../../core/types.js';
import { escapeMrkdwn } from '../render/block-kit.js';
import { STATUS_CARD_ACTIONS } from '../render/render-status-card.js';
import { postPreview } from './plan-preview.js';
import type { ActionContext, ButtonAction, DispatchDeps, SlashContext } from './types.js';

const mention = (r: Requester) => `<@${r.userId}>`;

export async function controlOperation(d: DispatchDeps, command: Command, ctx: SlashContext): Promise<void> {
  const a = command.args as Record<string, unknown>;
  const id = String(a.opId ?? a.scheduleId ?? '');
  switch (command.name) {
    case 'op.abort': {
      const r = await d.engine.abort(id, command.requester);
      return ctx.ephemeral(
        r.kind === 'aborted' ? `Operation ${id} aborted before it started.` : `Aborting ${id}: it stops after its current step; cleanup steps still run.`,
      );
    }
    case 'op.resume': {
      const approval = await d.engine.resume(id, command.requester);
      const op = await d.reads.getOperation(id);
      if (op && approval) await postPreview(d, ctx.client, ctx.channelId, op, op.plan as unknown as Plan, approval);
      return ctx.ephemeral(approval ? `Resuming ${id} needs approval: the request is in the channel.` : `Resuming ${id}.`);
    }
    case 'schedule.cancel': {
      // The requester or an approver of its plan, before its time; refusals are ChatOpsErrors that say why.
      const r = await d.engine.cancelSchedule(id, command.requester);
      if (r.op?.cardTs) {
        const text = `:no_entry_sign: Scheduled run \`${id}\` (\`${r.op.id}\`, ${escapeMrkdwn(r.op.runbook)} ${escapeMrkdwn(r.op.target)}) cancelled by ${mention(command.requester)} before its time. Nothing was done.`;
        await ctx.client.chat.update({ channel: r.op.channelId, ts: r.op.cardTs, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
      }
      return ctx.ephemeral(`Schedule ${id} cancelled; nothing will run.`);
    }
    default:
      return ctx.ephemeral(`\`${command.name}\` is not available in this version of the bot yet: nothing was done.`);
  }
}

/** The status card's buttons; false when the button is not one of them. */
export async function statusCardButton(d: DispatchDeps, action: ButtonAction, ctx: ActionContext): Promise<boolean> {
  if (action.actionId === STATUS_CARD_ACTIONS.abort) {
    const r = await d.engine.abort(action.value, ctx.actor);
    await ctx.ephemeral(r.kind === 'aborted' ? `Operation ${action.value} aborted.` : `Aborting ${action.value}: cleanup steps still run.`);
    return true;
  }
  if (action.actionId === STATUS_CARD_ACTIONS.resume) {
    const approval = await d.engine.resume(action.value, ctx.actor);
    if (approval) {
      await ctx.client.chat.postMessage({
        channel: action.channelId,
        thread_ts: action.messageTs,
        text: `Resume of \`${action.value}\` asked by ${mention(ctx.actor)}; it needs approval: \`/op show ${action.value}\`.`,
      });
    }
    return true;
  }
  return false;
}
