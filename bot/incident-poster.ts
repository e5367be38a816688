/** The compute watcher's IncidentPoster over the Slack Web API: the card top level, the follow-up in its thread. */
import type { WebClient } from '@slack/web-api';
import type { IncidentPoster } from '../jobs/compute-watcher.js';
import { renderIncidentCard, renderIncidentRecovery } from './render/render-incident.js';

export function slackIncidentPoster(client: Pick<WebClient, 'chat'>): IncidentPoster {
  return {
    async postCard(channel, card) {
      const r = renderIncidentCard(card);
      const res = await client.chat.postMessage({ channel, text: r.text, blocks: r.blocks });
      if (!res.ts) throw new Error(`Slack answered chat.postMessage without a ts (${res.error ?? 'no error given'})`);
      return res.ts;
    },
    async postRecovery(channel, cardTs, r) {
      await client.chat.postMessage({ channel, thread_ts: cardTs, text: renderIncidentRecovery(r) });
    },
  };
}
