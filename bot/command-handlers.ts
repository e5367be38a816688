/**
 * The meaning of each command and button: grammar → engine/store → Slack. The Slack protocol
 * (acks, dedupe, signatures) stays in app.ts; runbooks never see Slack.
 */
import type { Logger } from 'pino';
import type { Engine, StartResult } from '../actions/engine.js';
import type { Clock } from '../core/clock.js';
import { ChatOpsError, isChatOpsError } from '../core/errors.js';
import type { Command, Plan, Requester } from '../core/types.js';
import type { ApprovalRecord, OperationRecord, OperationState, Store } from '../store/store.js';
import { getCommand, SLASH_COMMANDS } from './grammar/index.js';
import { interpretCommand } from './grammar/interpret-command.js';
import type { ActionContext, ButtonAction, CommandHandlers, ParseOutcome, SlashContext } from './handlers.js';
import { parseApprovalButtonValue, renderPlanPreview } from './render-plan.js';
import { renderOperation, renderOperationList, renderScheduleList } from './render-ops.js';
import { renderError } from './render-error.js';
import { STATUS_CARD_ACTIONS } from './render-status-card.js';

export interface HandlerDeps {
  engine: Engine<unknown>;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Runbook names the engine knows; other runbook commands are answered "not available". */
  runbooks: ReadonlySet<string>;
}

const who = (r: Requester) => `<@${r.userId}>`;

/** "one of @approvers, <@U1>" from the policy snapshot stored with an approval request. */
export function approversText(a: ApprovalRecord): string {
  const p = a.policy as { approvers?: { users?: string[]; groups?: string[] } };
  const names = [...(p.approvers?.groups ?? []).map((g) => `<!subteam^${g}>`), ...(p.approvers?.users ?? []).map((u) => `<@${u}>`)];
  return names.length ? `${a.required > 1 ? `${a.required} of` : 'one of'} ${names.join(', ')}` : 'anyone else in this channel';
}

export function createCommandHandlers(d: HandlerDeps): CommandHandlers {
  const commandText = (c: Command) => c.raw;

  async function postPreview(ctx: SlashContext, op: OperationRecord, plan: Plan, approval: ApprovalRecord | null): Promise<string | undefined> {
    const r = renderPlanPreview({
      operationId: op.id,
      plan,
      requester: op.requester,
      commandText: typeof op.detail.raw === 'string' ? op.detail.raw : `${plan.runbook} ${plan.target}`,
      ...(approval ? { approval: { requestId: approval.id, needed: approval.required, approversText: approversText(approval), expiresAt: approval.expiresAt } } : {}),
    });
    const res = await ctx.client.chat.postMessage({ channel: ctx.channelId, text: r.text, blocks: r.blocks });
    if (res.ts) await d.store.updateOperation(op.id, { threadTs: res.ts, cardTs: res.ts }, { version: op.version });
    return res.ts;
  }

  async function runRunbook(command: Command, ctx: SlashContext): Promise<void> {
    if (!d.runbooks.has(command.name)) {
      await ctx.ephemeral(`\`${command.name}\` is not available in this version of the bot yet: nothing was done.`);
      return;
    }
    const result = await d.engine.submit(command);
    const ts = await postPreview(ctx, result.operation, result.plan, result.kind === 'needs-approval' ? result.approval : null);
    d.logger.info({ opId: result.operation.id, runbook: command.name, kind: result.kind, ts }, 'plan posted');
  }

  async function runQuery(command: Command, ctx: SlashContext): Promise<void> {
    const a = command.args as Record<string, unknown>;
    switch (command.name) {
      case 'op.list': {
        const states = typeof a.state === 'string' ? [a.state as OperationState] : undefined;
        const r = renderOperationList(await d.store.listOperations({ ...(states ? { states } : {}), limit: 25 }));
        return ctx.ephemeral(r.text, r.blocks);
      }
      case 'op.show': {
        const id = String(a.opId ?? a.scheduleId ?? '');
        const op = await d.store.getOperation(id);
        if (!op) return ctx.ephemeral(`There is no operation ${id}. \`/op list\` lists them.`);
        const r = renderOperation(op, await d.store.listJournal(id), await d.store.listAudit({ operationId: id, limit: 200 }));
        return ctx.ephemeral(r.text, r.blocks);
      }
      case 'schedule.list': {
        const state = typeof a.state === 'string' ? a.state : 'scheduled';
        const r = renderScheduleList(await d.store.listSchedules({ ...(state === 'all' ? {} : { states: [state as 'scheduled'] }), limit: 50 }));
        return ctx.ephemeral(r.text, r.blocks);
      }
      default:
        return ctx.ephemeral(`\`${command.name}\` is not available in this version of the bot yet: nothing was done.`);
    }
  }

  async function runControl(command: Command, ctx: SlashContext): Promise<void> {
    const a = command.args as Record<string, unknown>;
    const id = String(a.opId ?? a.scheduleId ?? '');
    switch (command.name) {
      case 'op.abort': {
        const r = await d.engine.abort(id, command.requester);
        return ctx.ephemeral(r.kind === 'aborted' ? `Operation ${id} aborted before it started.` : `Aborting ${id}: it stops after its current step; cleanup steps still run.`);
      }
      case 'op.resume': {
        const approval = await d.engine.resume(id, command.requester);
        const op = await d.store.getOperation(id);
        if (op && approval) await postPreview(ctx, op, op.plan as unknown as Plan, approval);
        return ctx.ephemeral(approval ? `Resuming ${id} needs approval: the request is in the channel.` : `Resuming ${id}.`);
      }
      case 'schedule.cancel': {
        const s = await d.store.getSchedule(id);
        if (!s) return ctx.ephemeral(`There is no schedule ${id}.`);
        const done = await d.store.updateSchedule(id, { state: 'cancelled' }, { version: s.version, state: 'scheduled' });
        return ctx.ephemeral(done ? `Schedule ${id} cancelled.` : `Schedule ${id} is ${s.state}; only a scheduled run can be cancelled.`);
      }
      default:
        return ctx.ephemeral(`\`${command.name}\` is not available in this version of the bot yet: nothing was done.`);
    }
  }

  async function afterStart(start: StartResult | undefined, action: ButtonAction, ctx: ActionContext): Promise<void> {
    if (!start) return;
    if (start.kind === 'refused') {
      await ctx.client.chat.postMessage({ channel: action.channelId, thread_ts: action.messageTs, text: renderError(start.error).text });
    } else if (start.kind === 'drift') {
      const lines = start.differences.slice(0, 20).map((x) => `• ${x}`).join('\n');
      await ctx.client.chat.postMessage({
        channel: action.channelId,
        thread_ts: action.messageTs,
        text: `:warning: The plan changed since it was approved, so that approval no longer counts. What changed:\n${lines}\nA new approval is needed for the new plan (above).`,
      });
      const op = await d.store.getOperation(start.opId);
      if (op) {
        const r = renderPlanPreview({
          operationId: op.id,
          plan: start.plan,
          requester: op.requester,
          commandText: typeof op.detail.raw === 'string' ? op.detail.raw : op.runbook,
          ...(start.approval ? { approval: { requestId: start.approval.id, needed: start.approval.required, approversText: approversText(start.approval), expiresAt: start.approval.expiresAt } } : {}),
        });
        await ctx.client.chat.update({ channel: action.channelId, ts: action.messageTs, text: r.text, blocks: r.blocks });
      }
    }
  }

  async function decide(action: ButtonAction, ctx: ActionContext): Promise<void> {
    const bound = parseApprovalButtonValue(action.value);
    if (!bound) throw new ChatOpsError('APPROVAL_STATE', 'this button carries no valid approval reference');
    const approval = await d.store.getApproval(bound.requestId);
    if (!approval) throw new ChatOpsError('APPROVAL_STATE', `there is no approval request ${bound.requestId}`);
    if (approval.planHash !== bound.planHash) {
      return ctx.ephemeral('That button belongs to an earlier version of the plan; the plan has changed. Look at the newest plan in the thread.');
    }
    if (action.actionId === 'approval.approve') {
      const r = await d.engine.approve(approval.id, ctx.actor);
      if (r.approval.state === 'pending') {
        await ctx.client.chat.postMessage({ channel: action.channelId, thread_ts: action.messageTs, text: `${who(ctx.actor)} approved (${r.approval.approvers.length} of ${r.approval.required}).` });
      } else {
        await ctx.client.chat.postMessage({ channel: action.channelId, thread_ts: action.messageTs, text: `:white_check_mark: Approved by ${r.approval.approvers.map((v) => `<@${v.userId}>`).join(', ')}. Starting.` });
      }
      return afterStart(r.start, action, ctx);
    }
    if (action.actionId === 'approval.cancel') {
      const r = await d.engine.cancel(approval.id, ctx.actor);
      await ctx.client.chat.update({ channel: action.channelId, ts: action.messageTs, text: `Cancelled by ${who(ctx.actor)}.`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `:no_entry_sign: Operation \`${r.approval.operationId}\` cancelled by ${who(ctx.actor)}. Nothing was done.` } }] });
      return;
    }
    if (action.actionId === 'approval.reject') {
      const reason = action.reason ?? 'rejected in Slack (no reason given)';
      const r = await d.engine.reject(approval.id, ctx.actor, reason);
      await ctx.client.chat.update({ channel: action.channelId, ts: action.messageTs, text: `Rejected by ${who(ctx.actor)}.`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `:x: Operation \`${r.approval.operationId}\` rejected by ${who(ctx.actor)}: ${reason.replace(/[<>&]/g, '')}. Nothing was done.` } }] });
      return;
    }
  }

  return {
    commands: SLASH_COMMANDS.map((s) => s.command),

    parse(input): ParseOutcome {
      const r = interpretCommand(input, { now: d.clock.now() });
      if (r.kind === 'command') return r;
      return r.kind === 'help' ? { kind: 'help', text: r.mrkdwn } : { kind: 'error', error: r.error, text: r.mrkdwn };
    },

    ackText(command) {
      const spec = getCommand(command.name);
      if (spec?.kind === 'runbook') return `:hourglass_flowing_sand: Planning \`${commandText(command)}\` …`;
      return `:hourglass_flowing_sand: \`${commandText(command)}\` …`;
    },

    async run(command, ctx) {
      const spec = getCommand(command.name);
      if (spec?.kind === 'runbook') return runRunbook(command, ctx);
      if (spec?.kind === 'control') return runControl(command, ctx);
      return runQuery(command, ctx);
    },

    async action(action, ctx) {
      try {
        if (action.actionId.startsWith('approval.')) return await decide(action, ctx);
        if (action.actionId === STATUS_CARD_ACTIONS.abort) {
          const r = await d.engine.abort(action.value, ctx.actor);
          return ctx.ephemeral(r.kind === 'aborted' ? `Operation ${action.value} aborted.` : `Aborting ${action.value}: cleanup steps still run.`);
        }
        if (action.actionId === STATUS_CARD_ACTIONS.resume) {
          const approval = await d.engine.resume(action.value, ctx.actor);
          if (approval) await ctx.client.chat.postMessage({ channel: action.channelId, thread_ts: action.messageTs, text: `Resume of \`${action.value}\` asked by ${who(ctx.actor)}; it needs approval: \`/op show ${action.value}\`.` });
          return;
        }
        return ctx.ephemeral(`This button (${action.actionId}) is not known to this bot.`);
      } catch (e) {
        if (!isChatOpsError(e)) throw e;
        d.logger.info({ code: e.code, err: e.message, action: action.actionId }, 'button refused');
        return ctx.ephemeral(renderError(e).text);
      }
    },
  };
}
