/**
 * What the schedule sweep (jobs/schedule-sweep.ts) says in an operation's thread: the reminder before
 * the start, a missed run (never run late), and a start that did not simply run (drift asks again,
 * a refusal says why). A run that started is reported by its status card, as every run is.
 */
import type { WebClient } from '@slack/web-api';
import type { Clock } from '../core/clock.js';
import type { ScheduleOutcome } from '../engine/scheduled-runs.js';
import type { ScheduleNotifier } from '../jobs/schedule-sweep.js';
import { reportStart } from './dispatch/plan-preview.js';
import type { StoreReads } from './dispatch/types.js';
import { escapeMrkdwn } from './render/block-kit.js';
import { relativeTime, utcText } from './render/relative-time.js';

export function scheduleNotifier(store: StoreReads, client: WebClient, clock: Clock): ScheduleNotifier {
  return {
    async reminder(op, schedule) {
      if (!op.threadTs) return;
      const approved = op.state === 'approved' ? 'It is approved' : ':warning: It is *not approved yet*; without an approval it will not run';
      await client.chat.postMessage({
        channel: op.channelId,
        thread_ts: op.threadTs,
        text: `:alarm_clock: Reminder: \`${escapeMrkdwn(String(schedule.args.command ?? `${op.runbook} ${op.target}`))}\` starts at ${utcText(schedule.runAt)} (${relativeTime(schedule.runAt, clock.now())}). ${approved}. Cancel with \`/schedule cancel ${schedule.id}\`.`,
      });
    },
    async outcome(o: ScheduleOutcome) {
      if (o.kind === 'missed') {
        const op = o.op;
        if (!op?.cardTs) return;
        const text = `:double_vertical_bar: Scheduled run \`${o.schedule.id}\` (\`${op.id}\`, ${escapeMrkdwn(op.runbook)} ${escapeMrkdwn(op.target)}) was due at ${utcText(o.schedule.runAt)}, but no bot was running then; found ${relativeTime(o.schedule.runAt, clock.now()).replace(' ago', '')} late, beyond the grace period. *Nothing was run*; ask again if it is still needed.`;
        await client.chat.postMessage({ channel: op.channelId, thread_ts: op.cardTs, text });
        await client.chat.update({ channel: op.channelId, ts: op.cardTs, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
        return;
      }
      if (o.kind === 'start' && o.start.kind !== 'started' && o.op.cardTs) {
        await reportStart(store, client, o.start, { channelId: o.op.channelId, messageTs: o.op.cardTs });
      }
    },
  };
}
