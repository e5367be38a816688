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
import { relativeTime, utcText } from './relative-time.js';

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

/** Beyond this many journal lines or audit entries, /op show summarises (a 1,000-instance drain has 129 steps and 1,000+ audit entries). */
const FULL_JOURNAL = 30;
const FULL_AUDIT = 40;
/** Audit kinds written once per step or side effect: counted, not listed, in a long operation. */
const ROUTINE = new Set(['step.start', 'step.end', 'step.saved', 'step.note', 'api.call', 'ssh.command']);

/** "live-migrate ×1,000" for the `op` (or `command`) of routine entries. */
function tally(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([v, n]) => `${escapeMrkdwn(v)} ×${n.toLocaleString('en-US')}`)
    .join(', ');
}

export function renderOpShow(r: OperationReport): SlackMessage {
  const op = r.operation;
  const approvedBy = r.approvals.flatMap((a) => a.approvers.map((v) => `<@${v.userId}>`));
  const head = [
    `*${escapeMrkdwn(op.runbook)} ${escapeMrkdwn(op.target)}* — \`${op.id}\` is *${op.state}*`,
    `Asked by <@${op.requester.userId}> at ${iso(op.createdAt)} · approved by ${approvedBy.length ? [...new Set(approvedBy)].join(', ') : 'nobody yet'}`,
    `Plan hash \`${op.planHash.slice(0, 16)}…\``,
  ].join('\n');
  const line = (e: OperationReport['journal'][number]) => {
    const took = e.resultAt !== null ? ` in ${formatDuration(e.resultAt - e.intentAt)}` : '';
    const status = e.status === null ? ':warning: in doubt (intent, no result)' : `${e.status}${e.reconciled ? ' (reconciled)' : ''}`;
    return `• \`${escapeMrkdwn(e.stepId)}\` #${e.attempt}: ${status}${took}`;
  };
  const entry = (a: OperationReport['audit'][number]) => `${iso(a.at)} ${escapeMrkdwn(a.actor)} *${escapeMrkdwn(a.kind)}* ${escapeMrkdwn(compact(a.payload))}`;
  const everything = `every line: \`/op export ${op.id}\``;
  let journal: string[];
  if (r.journal.length <= FULL_JOURNAL) journal = r.journal.map(line);
  else {
    // the counts, every entry that is not plainly ok, and the first and last few
    const counts = tally(r.journal.map((e) => (e.status === null ? 'in doubt' : e.status)));
    const notOk = r.journal.filter((e) => e.status !== 'ok' || e.reconciled);
    const ok = r.journal.filter((e) => e.status === 'ok' && !e.reconciled);
    const shownOk = [...ok.slice(0, 5), ...ok.slice(-5)];
    journal = [
      `${r.journal.length.toLocaleString('en-US')} journal entries: ${counts} (${everything})`,
      ...notOk.map(line),
      ...ok.slice(0, 5).map(line),
      ...(ok.length > shownOk.length ? [`… ${(ok.length - shownOk.length).toLocaleString('en-US')} more ok …`] : []),
      ...ok.slice(Math.max(5, ok.length - 5)).map(line),
    ];
  }
  let audit: string[];
  if (r.audit.length <= FULL_AUDIT) audit = r.audit.map(entry);
  else {
    // who asked, approved, aborted, what failed: in full; the per-step and per-call entries counted
    const routine = r.audit.filter((a) => ROUTINE.has(a.kind));
    const detail = (a: OperationReport['audit'][number]) => {
      const p = a.payload as { op?: unknown; command?: unknown };
      const what = typeof p.op === 'string' ? p.op : typeof p.command === 'string' ? p.command.split(' ')[0] : undefined;
      return what ? `${a.kind} ${what}` : a.kind;
    };
    audit = [
      `${r.audit.length.toLocaleString('en-US')} audit entries; ${routine.length.toLocaleString('en-US')} routine ones counted: ${tally(routine.map(detail))} (${everything})`,
      ...r.audit.filter((a) => !ROUTINE.has(a.kind)).map(entry),
    ];
  }
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

/** `/schedule list`: each run's time in UTC and relative to `now` ("in 3 h"), its command, state and operation. */
export function renderScheduleList(schedules: ScheduleRecord[], now: number): SlackMessage {
  const lines = schedules.map((s) => {
    const what = typeof s.args.command === 'string' ? s.args.command : `${s.runbook} ${String(s.args.target ?? '')}`;
    const op = s.operationId ? ` — \`${s.operationId}\`` : '';
    return `• \`${s.id}\` ${utcText(s.runAt)} (${relativeTime(s.runAt, now)}) — ${escapeMrkdwn(clip(what, 200))} — *${s.state}* — <@${s.requester.userId}>${op}`;
  });
  return { text: `${schedules.length} schedules`, blocks: pack('Schedules', lines.length ? lines : ['(nothing scheduled)'], 10) };
}
