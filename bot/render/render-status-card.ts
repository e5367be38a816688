/**
 * Pure renderers for an operation's thread: the status card (edited in place) and the replies for
 * milestones, failures, in-doubt steps and the final summary. Every output fits Slack's limits
 * (bot/slack-limits.ts) whatever the model holds: hundreds of steps become counts and a bar.
 */
import { clip, escapeMrkdwn } from './block-kit.js';
import type { KnownBlock } from '@slack/types';
import type { StepFailure } from '../../engine/reporter.js';
import type { Requester } from '../../core/types.js';
import { SLACK_LIMITS as L } from './slack-limits.js';
import { countSteps, type StatusModel, type StepStatus } from './status-model.js';

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** action_ids of the buttons on a card that needs an operator; value = operation id. */
export const STATUS_CARD_ACTIONS = { resume: 'op_resume', abort: 'op_abort' } as const;

const STATE_LABEL: Record<StatusModel['state'], string> = {
  running: ':arrows_counterclockwise: running',
  succeeded: ':white_check_mark: succeeded',
  failed: ':x: failed',
  aborted: ':no_entry: aborted',
  'needs-operator': ':warning: needs an operator',
  interrupted: ':pause_button: interrupted (bot stopping; resumes on restart)',
};

export { clip, escapeMrkdwn } from './block-kit.js';

/** A fenced code block that survives any content (fences inside are broken up). */
function code(s: string, max: number, keep: 'head' | 'tail' = 'head'): string {
  const body = escapeMrkdwn(s).replace(/```/g, '`\u200b``');
  return '```' + clip(body, max - 6, keep) + '```';
}

function who(r: Requester): string {
  return `<@${r.userId}>`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A text progress bar, e.g. `▓▓▓▓▓░░░░░░░░░░░░░░░ 25%`. */
export function progressBar(done: number, total: number, width = 20): string {
  const frac = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const full = Math.round(frac * width);
  return `${'▓'.repeat(full)}${'░'.repeat(width - full)} ${Math.floor(frac * 100)}%`;
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, L.sectionText) } };
}

function context(...texts: string[]): KnownBlock {
  return { type: 'context', elements: texts.slice(0, L.contextElements).map((t) => ({ type: 'mrkdwn' as const, text: clip(t, L.sectionText) })) };
}

function stepLine(s: StepStatus): string {
  const p = s.progress ? ` (${s.progress.done}/${s.progress.total}${s.progress.note ? `: ${escapeMrkdwn(s.progress.note)}` : ''})` : '';
  return `*${escapeMrkdwn(s.title)}*${p}`;
}

/** The parent message: what, who asked, who approved, progress bar and counts, current step. */
export function renderStatusCard(m: StatusModel, now: number): SlackMessage {
  const c = countSteps(m);
  const op = m.op;
  const title = clip(`${op.runbook} ${op.target}`, L.headerText);
  const approvers = op.approvers.length ? op.approvers.map(who).join(', ') : 'nobody (read-only)';
  const counts = [`${c.finished}/${c.total} steps`, `${c.ok} ok`];
  if (c.skipped) counts.push(`${c.skipped} already done`);
  if (c.failed) counts.push(`${c.failed} failed`);
  if (c.inDoubt) counts.push(`${c.inDoubt} in doubt`);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: title } },
    section(`${STATE_LABEL[m.state]} · ${escapeMrkdwn(op.summary)}`),
    context(`Asked by ${who(op.requester)}`, `Approved by ${approvers}`, `Operation \`${escapeMrkdwn(op.opId)}\``),
    section(`\`${progressBar(c.finished, c.total)}\`\n${counts.join(' · ')}`),
  ];
  const current = m.current ? m.byId.get(m.current) : undefined;
  if (current && m.state === 'running') blocks.push(section(`Now: ${stepLine(current)}${c.running > 1 ? ` and ${c.running - 1} more at the same time` : ''}`));
  const doubtful = m.steps.filter((s) => s.state === 'in-doubt');
  if (doubtful.length) {
    const lines = doubtful.slice(0, 5).map((s) => `• ${stepLine(s)}: ${escapeMrkdwn(s.detail ?? 'state unknown')}`);
    if (doubtful.length > 5) lines.push(`…and ${doubtful.length - 5} more`);
    blocks.push(section(`:warning: In doubt (the bot stopped during these; their real state could not be confirmed):\n${lines.join('\n')}`));
  }
  if (m.state === 'needs-operator') {
    blocks.push({
      type: 'actions',
      block_id: clip(`op:${op.opId}`, L.blockId),
      elements: [
        {
          type: 'button',
          action_id: STATUS_CARD_ACTIONS.resume,
          text: { type: 'plain_text', text: 'Resume (needs approval)' },
          value: op.opId,
          style: 'primary',
        },
        { type: 'button', action_id: STATUS_CARD_ACTIONS.abort, text: { type: 'plain_text', text: 'Abort' }, value: op.opId, style: 'danger' },
      ],
    });
  }
  const elapsed = (m.finishedAt ?? now) - m.startedAt;
  blocks.push(context(m.finishedAt === undefined ? `Running for ${formatDuration(elapsed)}` : `Took ${formatDuration(elapsed)}`));
  const text = clip(`${op.runbook} ${op.target}: ${m.state}, ${c.finished}/${c.total} steps${c.failed ? `, ${c.failed} failed` : ''}`, L.messageText);
  return { text, blocks };
}

/** A reply for a failed step: the command, the exit status, the tail of the output. */
export function renderFailureReply(m: StatusModel, stepId: string, f: StepFailure, maxTail: number = L.sectionText): SlackMessage {
  const s = m.byId.get(stepId);
  const title = s?.title ?? stepId;
  const parts = [`:x: *${escapeMrkdwn(title)}* failed${f.code ? ` (\`${f.code}\`)` : ''}: ${escapeMrkdwn(clip(f.message, 500))}`];
  if (f.command) parts.push(`Command:\n${code(f.command, 800)}`);
  if (f.exitStatus !== undefined) parts.push(`Exit status: ${f.exitStatus === null ? 'none (killed or timed out)' : f.exitStatus}`);
  let text = parts.join('\n');
  if (f.outputTail) text += `\nOutput (last lines):\n${code(f.outputTail, Math.max(200, Math.min(maxTail, L.sectionText - text.length - 30)), 'tail')}`;
  return { text: clip(`${title} failed: ${f.message}`, 300), blocks: [section(text)] };
}

/** Several failures queued at once become one reply (at most 10 sections), so a bad run stays readable. */
export function renderFailuresReply(m: StatusModel, failures: { stepId: string; failure: StepFailure }[]): SlackMessage {
  if (failures.length === 1) return renderFailureReply(m, failures[0]!.stepId, failures[0]!.failure);
  const shown = failures.slice(0, 10);
  // Slack refuses messages whose blocks total much more than ~13k characters (bolt-js#2509).
  const blocks = shown.flatMap((x) => renderFailureReply(m, x.stepId, x.failure, 600).blocks);
  if (failures.length > shown.length) blocks.push(context(`…and ${failures.length - shown.length} more failures`));
  return { text: `${failures.length} steps failed`, blocks };
}

export function renderMilestoneReply(text: string): SlackMessage {
  return { text: clip(text, 300), blocks: [section(`:round_pushpin: ${escapeMrkdwn(text)}`)] };
}

export function renderInDoubtReply(m: StatusModel, stepId: string, detail: string): SlackMessage {
  const title = m.byId.get(stepId)?.title ?? stepId;
  const t = `:warning: *${escapeMrkdwn(title)}* is in doubt: the bot stopped after starting it and cannot confirm whether it took effect (${escapeMrkdwn(clip(detail, 500))}). It will not be repeated blindly: Resume (after a new approval) or Abort on the status card.`;
  return { text: clip(`${title} is in doubt`, 300), blocks: [section(t)] };
}

/** The final summary: end state, total time, counts and the slowest steps with their durations. */
export function renderFinalSummary(m: StatusModel): SlackMessage {
  const c = countSteps(m);
  const total = (m.finishedAt ?? m.startedAt) - m.startedAt;
  const head = `${STATE_LABEL[m.state]} in ${formatDuration(total)}: ${c.ok} ok, ${c.skipped} already done, ${c.failed} failed, ${c.pending + c.inDoubt} not run or in doubt (of ${c.total}).`;
  const timed = m.steps.filter((s) => s.startedAt !== undefined && s.endedAt !== undefined);
  const slowest = [...timed].sort((a, b) => b.endedAt! - b.startedAt! - (a.endedAt! - a.startedAt!)).slice(0, 10);
  const lines = slowest.map(
    (s) => `• ${escapeMrkdwn(clip(s.title, 200))}: ${formatDuration(s.endedAt! - s.startedAt!)}${s.state === 'failed' ? ' (failed)' : ''}`,
  );
  const blocks: KnownBlock[] = [section(`${head}${m.finishDetail ? `\n${escapeMrkdwn(m.finishDetail)}` : ''}`)];
  if (lines.length) {
    blocks.push(section(`${timed.length > slowest.length ? `Slowest ${slowest.length} of ${timed.length} steps` : 'Step durations'}:\n${lines.join('\n')}`));
  }
  return { text: clip(`${m.op.runbook} ${m.op.target}: ${m.state} in ${formatDuration(total)}`, 300), blocks };
}
