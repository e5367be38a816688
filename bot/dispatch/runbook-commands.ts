/** A runbook command (and `/op undo`): plan through the engine, then the preview in the channel. */
import type { Command } from '../../core/types.js';
import { SCHEDULE_KEYS } from '../../engine/spec/spec-builders.js';
import { scheduledRunAt } from '../grammar/index.js';
import { postPreview } from './plan-preview.js';
import type { DispatchDeps, SlashContext } from './types.js';

export async function submitRunbook(d: DispatchDeps, command: Command, ctx: SlashContext): Promise<void> {
  if (command.name === 'op.undo') {
    // An undo is an operation of its own: planned, approved and journaled like any other.
    const result = await d.engine.undo(String((command.args as { opId?: string }).opId), command.requester, { channelId: command.channelId });
    await postPreview(d, ctx.client, ctx.channelId, result.operation, result.plan, result.kind === 'needs-approval' ? result.approval : null);
    return;
  }
  if (!d.runbooks.has(command.name)) {
    await ctx.ephemeral(`\`${command.name}\` is not available in this version of the bot yet: nothing was done.`);
    return;
  }
  // at=/in=: planned and approved now, run at its time (engine/scheduled-runs.ts). They are the
  // scheduler's, not the runbook's: its derived input refuses unknown keys, so they are taken out here.
  const runAt = scheduledRunAt(command, d.clock.now());
  const args = Object.fromEntries(Object.entries(command.args).filter(([k]) => !(SCHEDULE_KEYS as readonly string[]).includes(k)));
  const result = await d.engine.submit({ ...command, args }, {}, runAt !== undefined ? { runAt } : {});
  const schedule = result.kind === 'needs-approval' || result.kind === 'scheduled' ? result.schedule : undefined;
  const ts = await postPreview(
    d,
    ctx.client,
    ctx.channelId,
    result.operation,
    result.plan,
    result.kind === 'needs-approval' ? result.approval : null,
    schedule ? { id: schedule.id, runAt: schedule.runAt, now: d.clock.now() } : undefined,
  );
  d.logger.info({ opId: result.operation.id, runbook: command.name, kind: result.kind, ts }, 'plan posted');
}
