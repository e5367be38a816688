/**
 * The compute watcher's card button: "Plan evacuation". It asks for the evacuate plan exactly as the
 * person would have typed it — the command stored with the incident goes through the grammar (zod)
 * with the clicker as requester, then engine.submit and the usual preview with its approval request —
 * so nothing moves until a second person approves. The watcher itself never evacuates.
 */
import { ChatOpsError } from '../../core/errors.js';
import { interpretCommand } from '../grammar/interpret-command.js';
import { INCIDENT_EVACUATE_ACTION } from '../render/render-incident.js';
import { postPreview } from './plan-preview.js';
import type { ActionContext, ButtonAction, DispatchDeps } from './types.js';

const INCIDENT_ID = /^in-[a-z2-7]{12}$/;

/** True when the button was the incident card's (handled here); false for any other button. */
export async function incidentButton(d: DispatchDeps, action: ButtonAction, ctx: ActionContext): Promise<boolean> {
  if (action.actionId !== INCIDENT_EVACUATE_ACTION) return false;
  if (!INCIDENT_ID.test(action.value)) throw new ChatOpsError('BUTTON_INVALID', 'this button carries no valid incident id (expected in- and 12 characters)');
  const incident = await d.reads.getIncident(action.value);
  if (!incident) throw new ChatOpsError('BUTTON_INVALID', `there is no incident ${action.value}`);
  const text = typeof incident.detail.command === 'string' ? incident.detail.command : undefined;
  if (!text || incident.detail.button !== true) {
    await ctx.ephemeral(`Incident ${incident.id} has no evacuation plan this bot can ask for (see the card's warnings). Nothing was done.`);
    return true;
  }
  if (incident.state === 'resolved' || incident.state === 'recovering') {
    await ctx.ephemeral(`${incident.host} reports to Nova again (incident ${incident.id} is resolved): no evacuation was asked for.`);
    return true;
  }
  const waiting = await d.reads.listOperations({
    runbook: 'node.evacuate',
    target: incident.host,
    states: ['pending_approval', 'approved', 'running', 'paused', 'in_doubt'],
    limit: 1,
  });
  if (waiting[0]) {
    await ctx.ephemeral(
      `An evacuation of ${incident.host} is already ${waiting[0].state.replace('_', ' ')}: \`/op show ${waiting[0].id}\`. Nothing new was asked for.`,
    );
    return true;
  }
  const r = interpretCommand({ command: '/node', text, requester: ctx.actor, channelId: incident.channelId }, { now: d.clock.now() });
  if (r.kind !== 'command')
    throw new ChatOpsError('BUTTON_INVALID', `the incident's evacuate command no longer parses: ${r.kind === 'error' ? r.text : 'help'}`);
  if (!d.runbooks.has(r.command.name)) {
    await ctx.ephemeral(`\`${r.command.name}\` is not available in this version of the bot: nothing was done.`);
    return true;
  }
  const result = await d.engine.submit(r.command);
  const ts = await postPreview(d, ctx.client, incident.channelId, result.operation, result.plan, result.kind === 'needs-approval' ? result.approval : null);
  await ctx.client.chat.postMessage({
    channel: incident.channelId,
    thread_ts: incident.cardTs ?? action.messageTs,
    text: `<@${ctx.actor.userId}> asked for the evacuation plan of ${incident.host}: operation \`${result.operation.id}\`${result.kind === 'needs-approval' ? ', waiting for approval' : ''} (\`/op show ${result.operation.id}\`).`,
  });
  d.logger.info({ opId: result.operation.id, incident: incident.id, ts }, 'incident evacuation plan posted');
  return true;
}
