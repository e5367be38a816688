/**
 * The meaning of each command and button: grammar → engine/store → Slack. The Slack protocol
 * (acks, dedupe, signatures) stays in app.ts; runbooks never see Slack.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Engine, StartResult } from '../engine/engine.js';
import type { Clock } from '../core/clock.js';
import { ChatOpsError, InputError, isChatOpsError } from '../core/errors.js';
import type { Command, Plan, Requester } from '../core/types.js';
import { FINISHED_STATES, UNFINISHED_STATES, type ApprovalRecord, type OperationRecord, type OperationState, type ScheduleRecord, type Store } from '../store/store.js';
import { relativeTime, utcText } from './render/relative-time.js';
import { isUserDataOperation, renderOpExport } from './render/op-export.js';
import { SCHEDULE_KEYS } from '../engine/spec/spec-builders.js';
import { getCommand, scheduledRunAt, SLASH_COMMANDS } from './grammar/index.js';
import { interpretCommand } from './grammar/interpret-command.js';
import { renderInputError } from './grammar/render-input-error.js';
import { scheduleRefusal } from './dispatch/schedule-gate.js';
import type { ActionContext, ButtonAction, CommandHandlers, ParseOutcome, SlashContext, ViewSubmission } from './handlers.js';
import { reason as reasonSchema } from '../core/values.js';
import { escapeMrkdwn } from './block-kit.js';
import { parseApprovalButtonValue, renderPlanPreview } from './render-plan.js';
import { renderOpList, renderOpShow, renderScheduleList } from './render-op-report.js';
import { renderError } from './render-error.js';
import { STATUS_CARD_ACTIONS } from './render-status-card.js';
import { QUERIES, type ActionDeps } from '../actions/index.js';
import { QUERY_RENDERERS } from './render/query-renderers.js';

/** The part of approvals/ the handlers use beyond the engine: the audited break-glass path. */
export interface BreakGlassPort {
  breakGlass(input: {
    operation: { id: string; planHash: string; channelId: string };
    plan: { runbook: string; risk: Plan['risk']; args?: Readonly<Record<string, unknown>> };
    purpose: string;
    requester: Requester;
    reason: string;
  }): Promise<{ approval: ApprovalRecord; announce: true }>;
}

export interface HandlerDeps {
  engine: Engine<unknown>;
  /** Present when a break-glass group is configured. */
  breakGlass?: BreakGlassPort;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Runbook names the engine knows; other runbook commands are answered "not available". */
  runbooks: ReadonlySet<string>;
  /** The runbooks' deps (actions/deps.ts), for the read-only node queries. */
  deps?: unknown;
  /** Whether `actor` may approve this request (an approver may cancel a schedule, not only its requester). */
  mayApprove?: (approvalId: string, actor: Requester) => Promise<boolean>;
}

const who = (r: Requester) => `<@${r.userId}>`;
const REJECT_DIALOG = 'approval.reject';
const BREAK_GLASS_DIALOG = 'approval.break_glass';

/** "one of @approvers, <@U1>" from the policy snapshot stored with an approval request. */
export function approversText(a: ApprovalRecord): string {
  const p = a.policy as { approvers?: { users?: string[]; groups?: string[] } };
  const names = [...(p.approvers?.groups ?? []).map((g) => `<!subteam^${g}>`), ...(p.approvers?.users ?? []).map((u) => `<@${u}>`)];
  return names.length ? `${a.required > 1 ? `${a.required} of` : 'one of'} ${names.join(', ')}` : 'anyone else in this channel';
}

export function createCommandHandlers(d: HandlerDeps): CommandHandlers {
  const commandText = (c: Command) => c.raw;

  async function postPreview(ctx: SlashContext, op: OperationRecord, plan: Plan, approval: ApprovalRecord | null, schedule?: ScheduleRecord): Promise<string | undefined> {
    const r = renderPlanPreview({
      operationId: op.id,
      plan,
      requester: op.requester,
      commandText: typeof op.detail.raw === 'string' ? op.detail.raw : `${plan.runbook} ${plan.target}`,
      ...(approval ? { approval: { requestId: approval.id, needed: approval.required, approversText: approversText(approval), expiresAt: approval.expiresAt, breakGlass: d.breakGlass !== undefined } } : {}),
      ...(schedule ? { schedule: { id: schedule.id, runAt: schedule.runAt, now: d.clock.now() } } : {}),
    });
    const res = await ctx.client.chat.postMessage({ channel: ctx.channelId, text: r.text, blocks: r.blocks });
    // Unconditional: the run may already have moved the operation on (a read-only plan starts at once).
    if (res.ts) await d.store.updateOperation(op.id, { threadTs: res.ts, cardTs: res.ts }, {});
    return res.ts;
  }

  async function runRunbook(command: Command, ctx: SlashContext): Promise<void> {
    if (command.name === 'op.undo') {
      // An undo is an operation of its own: planned, approved and journaled like any other.
      const result = await d.engine.undo(String((command.args as { opId?: string }).opId), command.requester, { channelId: command.channelId });
      await postPreview(ctx, result.operation, result.plan, result.kind === 'needs-approval' ? result.approval : null);
      return;
    }
    if (!d.runbooks.has(command.name)) {
      await ctx.ephemeral(`\`${command.name}\` is not available in this version of the bot yet: nothing was done.`);
      return;
    }
    // at=/in=: planned and approved now, run at its time (engine/scheduled-runs.ts).
    // at=/in= are the scheduler's; they never reach the runbook's input (which refuses unknown keys).
    const runAt = scheduledRunAt(command, d.clock.now());
    const args = Object.fromEntries(Object.entries(command.args).filter(([k]) => !(SCHEDULE_KEYS as readonly string[]).includes(k)));
    const result = await d.engine.submit({ ...command, args }, {}, runAt !== undefined ? { runAt } : {});
    const schedule = result.kind === 'needs-approval' || result.kind === 'scheduled' ? result.schedule : undefined;
    const ts = await postPreview(ctx, result.operation, result.plan, result.kind === 'needs-approval' ? result.approval : null, schedule);
    d.logger.info({ opId: result.operation.id, runbook: command.name, kind: result.kind, ts }, 'plan posted');
  }

  async function runQuery(command: Command, ctx: SlashContext): Promise<void> {
    const a = command.args as Record<string, unknown>;
    switch (command.name) {
      case 'op.list': {
        const f = String(a.state ?? 'active');
        const states = f === 'active' ? UNFINISHED_STATES : f === 'finished' ? FINISHED_STATES : f === 'all' ? undefined : [f as OperationState];
        const r = renderOpList(await d.engine.list({ ...(states ? { states } : {}), limit: 25 }));
        return ctx.ephemeral(r.text, r.blocks);
      }
      case 'op.show': {
        const id = String(a.opId ?? '');
        const report = await d.engine.show(id);
        if (!report) return ctx.ephemeral(`There is no operation ${id}. \`/op list\` lists them.`);
        const r = renderOpShow(report);
        return ctx.ephemeral(r.text, r.blocks);
      }
      case 'op.export': {
        const id = String(a.opId ?? '');
        const report = await d.engine.show(id);
        if (!report) return ctx.ephemeral(`There is no operation ${id}. \`/op list\` lists them.`);
        const markdown = renderOpExport(report, d.clock.now());
        const op = report.operation;
        if (isUserDataOperation(report) || !op.threadTs) {
          // User data (or no thread to put it in): only the person who asked sees it.
          const why = op.threadTs ? 'it concerns user data, so only you see it' : 'it has no thread to upload to';
          return ctx.ephemeral(`Post-mortem of \`${id}\` (${why}):\n\`\`\`${markdown.slice(0, 2800)}${markdown.length > 2800 ? '\n…' : ''}\`\`\``);
        }
        await ctx.client.files.uploadV2({
          channel_id: op.channelId,
          thread_ts: op.threadTs,
          filename: `${op.id}-post-mortem.md`,
          title: `Post-mortem of ${op.id} (${op.runbook} ${op.target})`,
          content: markdown,
          initial_comment: `Post-mortem of \`${op.id}\`, asked by ${who(command.requester)}.`,
        });
        return ctx.ephemeral(`The post-mortem of \`${id}\` is in its thread.`);
      }
      case 'schedule.list': {
        const state = typeof a.state === 'string' ? a.state : 'scheduled';
        const r = renderScheduleList(await d.store.listSchedules({ ...(state === 'all' ? {} : { states: [state as 'scheduled'] }), limit: 50 }), d.clock.now());
        return ctx.ephemeral(r.text, r.blocks);
      }
      default:
        return answerQuery(command, ctx);
    }
  }

  /** A query of the registry (actions/index.ts), shown by its renderer (bot/render/query-renderers.ts). */
  async function answerQuery(command: Command, ctx: SlashContext): Promise<void> {
    const query = QUERIES.get(command.name);
    const render = QUERY_RENDERERS.get(command.name);
    if (!query || !render) return ctx.ephemeral(`\`${command.name}\` is not available in this version of the bot yet: nothing was done.`);
    const parsed = query.input.safeParse(command.args);
    if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })), query.usage);
    const answer = await query.answer(parsed.data, (d.deps ?? {}) as ActionDeps, { now: d.clock.now(), locks: () => d.store.listLocks() });
    const r = render(answer);
    return ctx.ephemeral(r.text, r.blocks);
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
        const r = await d.engine.schedules.cancel(id, command.requester, d.mayApprove ?? (async () => false));
        if (r.op?.cardTs) {
          const text = `:no_entry_sign: Scheduled run \`${id}\` (\`${r.op.id}\`, ${escapeMrkdwn(r.op.runbook)} ${escapeMrkdwn(r.op.target)}) cancelled by ${who(command.requester)} before its time. Nothing was done.`;
          await ctx.client.chat.update({ channel: r.op.channelId, ts: r.op.cardTs, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
        }
        return ctx.ephemeral(`Schedule ${id} cancelled; nothing will run.`);
      }
      default:
        return ctx.ephemeral(`\`${command.name}\` is not available in this version of the bot yet: nothing was done.`);
    }
  }

  /** Approved ahead of its time: the card loses its buttons, says who approved and when it starts. */
  async function showScheduledApproval(approval: ApprovalRecord, action: ButtonAction, ctx: ActionContext): Promise<void> {
    const op = await d.store.getOperation(approval.operationId);
    const schedule = op && (await d.engine.schedules.of(op));
    if (!op || !schedule) return;
    const approvedBy = approval.approvers.map((v) => v.userId);
    const r = renderPlanPreview({
      operationId: op.id,
      plan: op.plan as unknown as Plan,
      requester: op.requester,
      commandText: typeof op.detail.raw === 'string' ? op.detail.raw : op.runbook,
      schedule: { id: schedule.id, runAt: schedule.runAt, now: d.clock.now() },
      approvedBy,
    });
    await ctx.client.chat.update({ channel: action.channelId, ts: action.messageTs, text: r.text, blocks: r.blocks });
    await ctx.client.chat.postMessage({
      channel: action.channelId,
      thread_ts: action.messageTs,
      text: `:white_check_mark: Approved by ${approvedBy.map((u) => `<@${u}>`).join(', ')}. It starts at ${utcText(schedule.runAt)} (${relativeTime(schedule.runAt, d.clock.now())}).`,
    });
  }

  async function afterStart(start: StartResult | undefined, action: ButtonAction, ctx: ActionContext): Promise<void> {
    if (start) await reportStart(d.store, ctx.client, start, { channelId: action.channelId, messageTs: action.messageTs });
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
      if (r.scheduledFor !== undefined) return showScheduledApproval(r.approval, action, ctx);
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
    if (action.actionId === 'approval.reject' || action.actionId === 'approval.break_glass') {
      const breaking = action.actionId === 'approval.break_glass';
      if (!action.triggerId) throw new ChatOpsError('APPROVAL_STATE', 'this needs a reason, and the click carried no way to ask for one');
      const meta = JSON.stringify({ value: action.value, channel: action.channelId, ts: action.messageTs });
      await ctx.client.views.open({
        trigger_id: action.triggerId,
        view: {
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
                  ? `Operation \`${approval.operationId}\` will run *without a second person's approval*. This is announced in the channel and audited.`
                  : `Operation \`${approval.operationId}\`: the requester and the channel will see your reason.`,
              },
            },
            { type: 'input', block_id: 'reason', label: { type: 'plain_text', text: 'Why?' }, element: { type: 'plain_text_input', action_id: 'reason', min_length: 3, max_length: 255 } },
          ],
        },
      });
    }
  }

  async function breakGlassWithReason(view: ViewSubmission, ctx: ActionContext): Promise<void> {
    if (!d.breakGlass) throw new ChatOpsError('NOT_AUTHORIZED', 'break-glass is not configured (approvals.breakGlass)');
    const meta = JSON.parse(view.privateMetadata) as { value: string; channel: string; ts: string };
    const bound = parseApprovalButtonValue(meta.value);
    if (!bound) throw new ChatOpsError('APPROVAL_STATE', 'this dialog carries no valid approval reference');
    const pending = await d.store.getApproval(bound.requestId);
    const op = pending && (await d.store.getOperation(pending.operationId));
    if (!op || op.planHash !== bound.planHash || op.state !== 'pending_approval') {
      throw new ChatOpsError('APPROVAL_STATE', 'this plan is no longer waiting for approval; look at the newest card in the channel');
    }
    const reason = reasonSchema.parse(view.values.reason);
    const plan = op.plan as unknown as Plan;
    await d.breakGlass.breakGlass({ operation: { id: op.id, planHash: op.planHash, channelId: op.channelId }, plan, purpose: 'start', requester: ctx.actor, reason });
    if (!(await d.store.updateOperation(op.id, { state: 'approved' }, { state: 'pending_approval' }))) {
      throw new ChatOpsError('APPROVAL_STATE', `operation ${op.id} changed meanwhile; nothing was started`);
    }
    // Loud on purpose: a top-level message in the channel, not a thread reply.
    await ctx.client.chat.postMessage({
      channel: op.channelId,
      text: `:rotating_light: *Break glass*: ${who(ctx.actor)} started \`${op.id}\` (${escapeMrkdwn(op.runbook)} ${escapeMrkdwn(op.target)}) without a second person's approval. Reason: ${escapeMrkdwn(reason)}`,
    });
    const start = await d.engine.start(op.id, ctx.actor);
    await afterStart(start, { actionId: 'approval.break_glass', value: meta.value, channelId: meta.channel, messageTs: meta.ts }, ctx);
  }

  async function rejectWithReason(view: ViewSubmission, ctx: ActionContext): Promise<void> {
    const meta = JSON.parse(view.privateMetadata) as { value: string; channel: string; ts: string };
    const bound = parseApprovalButtonValue(meta.value);
    if (!bound) throw new ChatOpsError('APPROVAL_STATE', 'this dialog carries no valid approval reference');
    const reason = reasonSchema.parse(view.values.reason);
    const r = await d.engine.reject(bound.requestId, ctx.actor, reason);
    const text = `:x: Operation \`${r.approval.operationId}\` rejected by ${who(ctx.actor)}: ${escapeMrkdwn(reason)}. Nothing was done.`;
    await ctx.client.chat.update({ channel: meta.channel, ts: meta.ts, text: `Rejected by ${who(ctx.actor)}: ${escapeMrkdwn(reason)}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
  }

  return {
    commands: SLASH_COMMANDS.map((s) => s.command),

    checkView(view) {
      if (view.callbackId !== REJECT_DIALOG && view.callbackId !== BREAK_GLASS_DIALOG) return undefined;
      const r = reasonSchema.safeParse(view.values.reason ?? '');
      return r.success ? undefined : { reason: r.error.issues[0]?.message ?? 'expected a reason' };
    },

    async view(view, ctx) {
      if (view.callbackId === REJECT_DIALOG) return rejectWithReason(view, ctx);
      if (view.callbackId === BREAK_GLASS_DIALOG) return breakGlassWithReason(view, ctx);
      return ctx.ephemeral(`This dialog (${view.callbackId}) is not known to this bot.`);
    },

    parse(input): ParseOutcome {
      const r = interpretCommand(input, { now: d.clock.now() });
      if (r.kind === 'command') {
        const refused = scheduleRefusal(r.command);
        return refused ? { kind: 'error', error: refused, text: renderInputError(refused).mrkdwn } : r;
      }
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

/**
 * What a start that did not simply run says in the operation's thread: a refusal names why; a plan
 * that drifted since its approval lists the differences and replaces the preview with the new plan and
 * its new approval request. Used after an Approve click, a break-glass start, and at start-up for an
 * operation a killed process left approved but not started.
 */
export async function reportStart(store: Store, client: WebClient, start: StartResult, where: { channelId: string; messageTs: string }): Promise<void> {
  if (start.kind === 'refused') {
    await client.chat.postMessage({ channel: where.channelId, thread_ts: where.messageTs, text: renderError(start.error).text });
  } else if (start.kind === 'drift') {
    const lines = start.differences.slice(0, 20).map((x) => `• ${x}`).join('\n');
    await client.chat.postMessage({
      channel: where.channelId,
      thread_ts: where.messageTs,
      text: `:warning: The plan changed since it was approved, so that approval no longer counts. What changed:\n${lines}\nA new approval is needed for the new plan (above).`,
    });
    const op = await store.getOperation(start.opId);
    if (op) {
      const r = renderPlanPreview({
        operationId: op.id,
        plan: start.plan,
        requester: op.requester,
        commandText: typeof op.detail.raw === 'string' ? op.detail.raw : op.runbook,
        ...(start.approval ? { approval: { requestId: start.approval.id, needed: start.approval.required, approversText: approversText(start.approval), expiresAt: start.approval.expiresAt } } : {}),
      });
      await client.chat.update({ channel: where.channelId, ts: where.messageTs, text: r.text, blocks: r.blocks });
    }
  }
}
