/**
 * Read-only answers: the queries of the registry (actions/index.ts, rendered by
 * bot/render/query-renderers.ts) and the bot's own `/op list`, `/op show`, `/schedule list`.
 */
import { QUERIES, type ActionDeps } from '../../actions/index.js';
import { InputError } from '../../core/errors.js';
import type { Command } from '../../core/types.js';
import { FINISHED_STATES, UNFINISHED_STATES, type OperationState } from '../../store/store.js';
import { isUserDataOperation, renderOpExport } from '../render/op-export.js';
import { SLACK_LIMITS as L } from '../render/slack-limits.js';
import { QUERY_RENDERERS } from '../render/query-renderers.js';
import { renderOpList, renderOpShow, renderScheduleList } from '../render/render-op-report.js';
import type { DispatchDeps, SlashContext } from './types.js';

export async function answerQuery(d: DispatchDeps, command: Command, ctx: SlashContext): Promise<void> {
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
      const thread = op.threadTs ?? op.cardTs;
      if (isUserDataOperation(report) || !thread) {
        // User data (or no thread to put it in): only the person who asked sees it — the whole
        // post-mortem as their ephemeral answer (Slack's limit for a message's text), never a file in the channel.
        const why = thread ? 'it concerns user data, so only you see it; nothing was posted in the channel' : 'it has no thread to upload to';
        const head = `Post-mortem of \`${id}\` (${why}):\n\n`;
        const cut = '\n…(cut at Slack’s message limit)';
        const room = L.messageText - head.length;
        return ctx.ephemeral(head + (markdown.length > room ? markdown.slice(0, room - cut.length) + cut : markdown));
      }
      await ctx.client.files.uploadV2({
        channel_id: op.channelId,
        thread_ts: thread,
        filename: `${op.id}-post-mortem.md`,
        title: `Post-mortem of ${op.id} (${op.runbook} ${op.target})`,
        content: markdown,
        initial_comment: `Post-mortem of \`${op.id}\`, asked by <@${command.requester.userId}>.`,
      });
      return ctx.ephemeral(`The post-mortem of \`${id}\` is in its thread.`);
    }
    case 'schedule.list': {
      const state = typeof a.state === 'string' ? a.state : 'scheduled';
      const r = renderScheduleList(await d.engine.listSchedules({ ...(state === 'all' ? {} : { states: [state as 'scheduled'] }), limit: 50 }), d.clock.now());
      return ctx.ephemeral(r.text, r.blocks);
    }
    default:
      return answerRegistered(d, command, ctx);
  }
}

/** A query of the registry, validated against its spec-derived input, answered, then rendered. */
async function answerRegistered(d: DispatchDeps, command: Command, ctx: SlashContext): Promise<void> {
  const query = QUERIES.get(command.name);
  const render = QUERY_RENDERERS.get(command.name);
  if (!query || !render) return ctx.ephemeral(`\`${command.name}\` is not available in this version of the bot yet: nothing was done.`);
  const parsed = query.input.safeParse(command.args);
  if (!parsed.success)
    throw new InputError(
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      query.usage,
    );
  const answer = await query.answer(parsed.data, (d.deps ?? {}) as ActionDeps, { now: d.clock.now(), locks: () => d.reads.listLocks() });
  const r = render(answer);
  return ctx.ephemeral(r.text, r.blocks);
}
