/**
 * The compute watcher's messages (jobs/compute-watcher.ts): the incident card — what went down and
 * since when, the instances on it, the proposed `/node evacuate` and its button — and the follow-up
 * in its thread when the service is back. Pure, within Slack's limits.
 */
import type { KnownBlock } from '@slack/types';
import type { IncidentCard, IncidentRecovery } from '../../jobs/compute-watcher.js';
import { clip, code, context, escapeMrkdwn, header, packLines, section } from './block-kit.js';
import { SLACK_LIMITS as L } from './slack-limits.js';

/** The button's action id; its value is the incident id (the handler reads the rest from the store). */
export const INCIDENT_EVACUATE_ACTION = 'incident.evacuate';

const when = (ms: number) => `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time_secs}|${new Date(ms).toISOString()}>`;

export function renderIncidentCard(c: IncidentCard): { text: string; blocks: KnownBlock[] } {
  const since = c.downSince ? `${c.downSince} UTC (Nova's last report)` : 'unknown (Nova gives no last report)';
  const text = `:rotating_light: ${c.binary} on ${c.host} (cloud ${c.cloud}) is down since ${since}: ${c.instances.length} instance(s) on it. Incident ${c.incidentId}.`;
  const blocks: KnownBlock[] = [
    header(clip(`Compute node down: ${c.host}`, L.headerText)),
    section(
      `:rotating_light: *${escapeMrkdwn(c.binary)}* on *${escapeMrkdwn(c.host)}* (cloud ${code(c.cloud)}${c.zone ? `, zone ${code(c.zone)}` : ''}) is *down* since ${escapeMrkdwn(since)}; this bot saw it down first at ${when(c.seenDownAt)}.`,
    ),
  ];
  if (c.again)
    blocks.push(context(':repeat: Posted again: the bot replica that was posting this card stopped before it recorded it; an earlier copy may exist.'));
  blocks.push(section(`*Instances on ${escapeMrkdwn(c.host)}* (${c.instances.length}):`));
  blocks.push(
    ...packLines(
      c.instances.map((i) => `• ${escapeMrkdwn(i.name)} ${code(i.id)} ${escapeMrkdwn(i.status)}`),
      6,
      (n) => `… and ${n} more (\`/node status ${c.host}\`)`,
    ),
  );
  if (c.command) {
    blocks.push(section(`*Proposed:* ${code(`/node ${c.command}`)}\nTarget chosen by free capacity in Placement:`));
    blocks.push(
      ...packLines(
        c.ranking.map((r) => `• ${escapeMrkdwn(r)}`),
        2,
        (n) => `… and ${n} more hosts`,
      ),
    );
  }
  for (const w of c.warnings.slice(0, 5)) blocks.push(section(`:warning: ${escapeMrkdwn(w)}`));
  if (c.button) {
    blocks.push({
      type: 'actions',
      block_id: `incident:${c.incidentId}`,
      elements: [
        {
          type: 'button',
          action_id: INCIDENT_EVACUATE_ACTION,
          text: { type: 'plain_text', text: clip(`Plan evacuation to ${c.target}`, L.buttonText) },
          style: 'danger',
          value: c.incidentId,
        },
      ],
    });
    blocks.push(context('The button only shows the evacuation plan and asks for the usual approval; nothing moves until a second person approves it.'));
  } else {
    blocks.push(context('The watcher never evacuates by itself.'));
  }
  blocks.push(context(`Incident ${code(c.incidentId)}. A reply in this thread follows when the service reports again.`));
  return { text: clip(text, L.messageText), blocks: blocks.slice(0, L.blocksPerMessage) };
}

export function renderIncidentRecovery(r: IncidentRecovery): string {
  const mins = Math.max(1, Math.round(r.downForMs / 60_000));
  if (r.gone)
    return `:wastebasket: ${r.binary} on ${r.host} (cloud ${r.cloud}) is gone: Nova no longer lists this service (it was deleted), after about ${mins} min down. Incident ${r.incidentId} is closed; nothing more will follow in this thread.`;
  return `:white_check_mark: ${r.binary} on ${r.host} (cloud ${r.cloud}) reports again${r.upSince ? ` (Nova's last report ${r.upSince} UTC)` : ''}, after about ${mins} min down. Incident ${r.incidentId} is resolved.`;
}
