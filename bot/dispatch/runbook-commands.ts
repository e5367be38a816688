/** A runbook command (and `/op undo`): plan through the engine, then the preview in the channel. */
import type { Command } from '../../core/types.js';
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
  const result = await d.engine.submit(command);
  const ts = await postPreview(d, ctx.client, ctx.channelId, result.operation, result.plan, result.kind === 'needs-approval' ? result.approval : null);
  d.logger.info({ opId: result.operation.id, runbook: command.name, kind: result.kind, ts }, 'plan posted');
}
