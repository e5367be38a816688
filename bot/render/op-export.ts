/**
 * `/op export <op-id>`: the post-mortem of one operation as one Markdown file — who asked and who
 * approved, the timeline from the audit log, and each step with its equivalent command, every
 * attempt's start, end and result, failures with their command, exit status and reason (Nova's,
 * where the step gave it), and the SQL pre-images a step journaled. Pure: report in, text out.
 */
import { userDataPolicySchema } from '../../approvals/approvals-config.js';
import type { OperationReport } from '../../engine/operation-records.js';
import type { AuditRecord, JournalEntry } from '../../store/store.js';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z'));
const took = (a: number, b: number | null) => (b === null ? 'no result (in doubt)' : `${((b - a) / 1000).toFixed(1)} s`);
/** Table cells and inline text: no pipes or newlines breaking the Markdown. */
const cell = (s: unknown) => String(s).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const fence = (s: string) => `\`\`\`\n${s.replace(/```/g, '`\u200b``')}\n\`\`\``;
const json = (v: unknown) => JSON.stringify(v, null, 2);

/** Audit kinds that make the timeline (step detail goes in the steps section). */
const TIMELINE = /^(operation|approval|schedule|plan)\./;

/**
 * True when the operation touches user data: its export is answered privately. Its approval says so
 * (class user_data: `approvals.userData.runbooks`), and so does a runbook that reads user data by its
 * nature (`instance.inspect`) whatever class approved it — e.g. where no `userData` class is configured.
 */
export function isUserDataOperation(r: OperationReport): boolean {
  return r.approvals.some((a) => a.kind === 'user_data') || USER_DATA_RUNBOOKS.has(r.operation.runbook);
}

/** Runbooks that read what users store (approvals-config.ts: the default of `userData.runbooks`). */
const USER_DATA_RUNBOOKS: ReadonlySet<string> = new Set(userDataPolicySchema.parse({}).runbooks);

export function renderOpExport(r: OperationReport, now: number): string {
  const op = r.operation;
  const plan = op.plan as { summary?: string; risk?: string; steps?: { id: string; title: string; equivalent: string[]; effect: string }[] };
  const person = (p: { userId: string; userName?: string }) => (p.userName ? `${p.userName} (${p.userId})` : p.userId);
  const out: string[] = [];
  out.push(`# Post-mortem: ${op.runbook} ${op.target} (${op.id})`, '');
  out.push(`- Command: \`${cell(typeof op.detail.raw === 'string' ? op.detail.raw : `${op.runbook} ${op.target}`)}\``);
  out.push(`- Plan: ${cell(plan.summary ?? '')} — risk ${plan.risk ?? '?'}, ${plan.steps?.length ?? 0} steps, hash \`${op.planHash}\``);
  out.push(`- State: **${op.state}**`);
  out.push(`- Requested by ${person(op.requester)} at ${iso(op.createdAt)} in channel ${op.channelId}`);
  for (const a of r.approvals) {
    const votes = a.approvers.map((v) => `${person(v)} at ${iso(v.at)}`).join(', ') || 'nobody';
    out.push(
      `- Approval ${a.id} (${a.kind}, ${a.purpose}): **${a.state}**; approved by ${votes}${a.decidedBy ? `; decided by ${person(a.decidedBy)}` : ''}${a.reason ? `; reason: ${cell(a.reason)}` : ''}`,
    );
  }
  out.push(`- Exported at ${iso(now)}`, '');

  out.push('## Timeline', '', '| time (UTC) | who | what | detail |', '| --- | --- | --- | --- |');
  for (const e of r.audit.filter((x) => TIMELINE.test(x.kind))) out.push(`| ${iso(e.at)} | ${cell(e.actor)} | ${e.kind} | ${cell(summary(e)).slice(0, 300)} |`);
  out.push('');

  out.push('## Steps', '');
  const byStep = new Map<string, JournalEntry[]>();
  for (const e of r.journal) byStep.set(e.stepId, [...(byStep.get(e.stepId) ?? []), e]);
  (plan.steps ?? []).forEach((s, i) => {
    out.push(`### ${i + 1}. ${s.title} (\`${s.id}\`, ${s.effect})`, '');
    if (s.equivalent.length) out.push('Equivalent command:', '', fence(s.equivalent.join('\n')), '');
    const attempts = byStep.get(s.id) ?? [];
    if (!attempts.length) out.push('- not started', '');
    for (const e of attempts) {
      out.push(
        `- attempt ${e.attempt}: started ${iso(e.intentAt)}, ended ${iso(e.resultAt)} (${took(e.intentAt, e.resultAt)}): **${e.status ?? 'in doubt'}**${e.reconciled ? ' (reconciled: state read again after a restart)' : ''}`,
      );
      const o = e.output ?? {};
      if (e.status === 'failed') {
        for (const k of ['message', 'reason', 'command', 'exitCode', 'outputTail'] as const)
          if (o[k] !== undefined && o[k] !== null) out.push(`  - ${k}: ${k === 'outputTail' ? `\n\n${fence(String(o[k]))}\n` : cell(o[k])}`);
      } else if (o.observed !== undefined) out.push(`  - observed: ${cell(o.observed)}`);
    }
    const preimages = r.audit.filter((a) => a.kind === 'sql.preimage' && a.payload.stepId === s.id);
    for (const p of preimages) out.push('', `SQL pre-image (${iso(p.at)}):`, '', fence(json(p.payload)));
    out.push('');
  });
  return out.join('\n');
}

function summary(e: AuditRecord): string {
  const p = e.payload;
  if (e.kind === 'operation.requested') return String(p.command ?? '');
  const keep = Object.entries(p).filter(([k]) => !['planHash', 'approvalId'].includes(k));
  return keep.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}
