/** Renders `/op list`, `/op show` and `/schedule list` answers: pure, within Slack's limits. */
import type { AuditRecord, JournalEntry, OperationRecord, ScheduleRecord } from '../store/store.js';
import { code, escapeMrkdwn, packLines, section, truncate } from './block-kit.js';
import type { Rendered } from './render-plan.js';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function renderOperationList(ops: OperationRecord[]): Rendered {
  if (!ops.length) return { text: 'No operations match.', blocks: [section('No operations match.')] };
  const lines = ops.map((o) => `${code(o.id)} ${escapeMrkdwn(o.runbook)} ${escapeMrkdwn(o.target)} · *${o.state}* · <@${o.requester.userId}> · ${iso(o.createdAt)}`);
  return { text: `${ops.length} operations`, blocks: packLines(lines, 10, (n) => `… and ${n} more`) };
}

export function renderOperation(op: OperationRecord, journal: JournalEntry[], audit: AuditRecord[]): Rendered {
  const head = `*${escapeMrkdwn(op.runbook)} ${escapeMrkdwn(op.target)}* · ${code(op.id)} · *${op.state}*\nAsked by <@${op.requester.userId}> at ${iso(op.createdAt)} · plan ${code(op.planHash.slice(0, 12))}`;
  const steps = journal.map(
    (j) => `${j.status === null ? ':grey_question: in doubt' : j.status === 'ok' ? ':white_check_mark:' : j.status === 'skipped' ? ':fast_forward:' : ':x:'} ${code(j.stepId)} attempt ${j.attempt} · ${iso(j.intentAt)}${j.resultAt ? ` → ${iso(j.resultAt)}` : ''}${j.reconciled ? ' (reconciled)' : ''}`,
  );
  const trail = audit.map((a) => `${iso(a.at)} ${escapeMrkdwn(a.kind)} by ${escapeMrkdwn(a.actor)}${Object.keys(a.payload).length ? ` ${code(truncate(JSON.stringify(a.payload), 300))}` : ''}`);
  return {
    text: `${op.runbook} ${op.target}: ${op.state}`,
    blocks: [
      section(head),
      ...packLines(steps.length ? steps : ['No step has run.'], 8, (n) => `… and ${n} more journal entries`),
      ...packLines(trail.length ? trail : ['No audit entries.'], 8, (n) => `… and ${n} more audit entries`),
    ],
  };
}

export function renderScheduleList(schedules: ScheduleRecord[]): Rendered {
  if (!schedules.length) return { text: 'Nothing is scheduled.', blocks: [section('Nothing is scheduled.')] };
  const lines = schedules.map((s) => `${code(s.id)} ${escapeMrkdwn(s.runbook)} at ${iso(s.runAt)} · *${s.state}* · <@${s.requester.userId}>`);
  return { text: `${schedules.length} schedules`, blocks: packLines(lines, 10, (n) => `… and ${n} more`) };
}
