/**
 * `/op show <id>` and `/op list`: pure renderers of what the store knows about operations. The full
 * audit trail can be long; the message keeps within Slack's limits and says what it left out.
 */
import type { KnownBlock } from '@slack/types';
import type { OperationReport } from '../../engine/operation-records.js';
import type { OperationRecord, ScheduleRecord } from '../../store/store.js';
import { SLACK_LIMITS as L } from './slack-limits.js';
import { clip, escapeMrkdwn, packLines } from './block-kit.js';
import { formatDuration, type SlackMessage } from './render-status-card.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function compact(payload: Record<string, unknown>): string {
  try {
    return clip(JSON.stringify(payload), 160);
  } catch {
    return '(unprintable)';
  }
}

/** A titled list packed into at most `maxBlocks` sections, saying how many lines it left out. */
function pack(title: string, lines: string[], maxBlocks: number): KnownBlock[] {
  return packLines([`*${title}*`, ...lines.map((l) => clip(l, 500))], maxBlocks, (n) => `…and ${n} more`);
}

export function renderOpShow(r: OperationReport): SlackMessage {
  const op = r.operation;
  const approvedBy = r.approvals.flatMap((a) => a.approvers.map((v) => `<@${v.userId}>`));
  const head = [
    `*${escapeMrkdwn(op.runbook)} ${escapeMrkdwn(op.target)}* — \`${op.id}\` is *${op.state}*`,
    `Asked by <@${op.requester.userId}> at ${iso(op.createdAt)} · approved by ${approvedBy.length ? [...new Set(approvedBy)].join(', ') : 'nobody yet'}`,
    `Plan hash \`${op.planHash.slice(0, 16)}…\``,
  ].join('\n');
  const journal = r.journal.map((e) => {
    const took = e.resultAt !== null ? ` in ${formatDuration(e.resultAt - e.intentAt)}` : '';
    const status = e.status === null ? ':warning: in doubt (intent, no result)' : `${e.status}${e.reconciled ? ' (reconciled)' : ''}`;
    return `• \`${escapeMrkdwn(e.stepId)}\` #${e.attempt}: ${status}${took}`;
  });
  const audit = r.audit.map((a) => `${iso(a.at)} ${escapeMrkdwn(a.actor)} *${escapeMrkdwn(a.kind)}* ${escapeMrkdwn(compact(a.payload))}`);
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(head, L.sectionText) } }];
  blocks.push(...pack('Journal', journal.length ? journal : ['(no step started)'], 15));
  blocks.push(...pack('Audit', audit.length ? audit : ['(empty)'], L.blocksPerMessage - blocks.length - 1));
  return { text: `${op.runbook} ${op.target} (${op.id}): ${op.state}`, blocks: blocks.slice(0, L.blocksPerMessage) };
}

export function renderOpList(ops: OperationRecord[]): SlackMessage {
  const lines = ops.map(
    (op) => `• \`${op.id}\` ${escapeMrkdwn(op.runbook)} ${escapeMrkdwn(op.target)} — *${op.state}* — <@${op.requester.userId}> ${iso(op.createdAt)}`,
  );
  return { text: `${ops.length} operations`, blocks: pack('Operations (newest first)', lines.length ? lines : ['(none)'], 10) };
}

export function renderScheduleList(schedules: ScheduleRecord[]): SlackMessage {
  const lines = schedules.map((s) => `• \`${s.id}\` ${escapeMrkdwn(s.runbook)} at ${iso(s.runAt)} — *${s.state}* — <@${s.requester.userId}>`);
  return { text: `${schedules.length} schedules`, blocks: pack('Schedules', lines.length ? lines : ['(nothing scheduled)'], 10) };
}
