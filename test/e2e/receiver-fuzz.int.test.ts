/**
 * The receivers survive any input (issue 16): the real entry point as a child process, in HTTP and
 * in Socket Mode, is sent at least 2,000 correctly signed requests (or envelopes) from the
 * generators of test/helpers/slack-fuzz.ts, against a store holding real plans waiting for approval.
 * Afterwards: the process is alive and /healthz answers; no 5xx was answered except for the
 * deliberate faults (and every one of those was); every envelope was acknowledged; no plan was
 * approved and no operation created by a forged click; the store changed only where a valid request
 * may change it (refusals audited, delivery de-duplication).
 *
 * FUZZ_SEED and FUZZ_RUNS reproduce or lengthen a run; the seed is printed when a check fails.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Approvals } from '../../approvals/approvals.js';
import { approvalsConfigSchema } from '../../approvals/approvals-config.js';
import { SlackDriver } from '../../slack-standin/driver.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { systemClock } from '../../core/clock.js';
import { Engine } from '../../engine/engine.js';
import { nullReporter } from '../../engine/reporter.js';
import { openStore } from '../../store/open-store.js';
import { scratchRunbook } from '../fixtures/runbooks/scratch-runbook.js';
import { SIGNING_SECRET, startBot, type BotProcess } from '../helpers/bot-process.js';
import { counter, postSigned, sendFrame } from '../helpers/raw-deliveries.js';
import { deliveries, toFrame, toHttp, type Delivery, type RealPlan } from '../helpers/slack-fuzz.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2100);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const IN_FLIGHT = 6;

const APPROVALS = { default: { requesters: { channels: ['C0OPS0001', 'C0GENERAL'] }, approvers: { groups: ['S0APPROVE'] } } };
const APPROVALS_YAML = `approvals: { default: { requesters: { channels: [C0OPS0001, C0GENERAL] }, approvers: { groups: [S0APPROVE] } } }`;
const ALICE = { userId: 'U0ALICE01', teamId: 'T0CHATOPS', userName: 'alice' };

/** Real plans waiting for approval, made as the bot makes them (engine, approvals, store). */
async function seedPlans(path: string): Promise<RealPlan[]> {
  const store = await openStore({ kind: 'sqlite', path }, systemClock);
  const approvals = new Approvals({
    store,
    config: approvalsConfigSchema.parse(APPROVALS),
    groups: { members: async (g) => (g === 'S0APPROVE' ? ['U0BOB0001', 'U0CAROL01'] : []) },
  });
  const engine = new Engine({
    store,
    approvals,
    runbooks: [{ ...scratchRunbook, name: 'node.drain' } as never],
    deps: { scratch: { instances: async () => [] } } as never,
    owner: 'fuzz-seed',
    reporterFor: () => nullReporter,
  });
  const plans: RealPlan[] = [];
  for (const host of ['c01', 'c02', 'c03']) {
    const r = await engine.submit({
      family: 'node',
      verb: 'drain',
      name: 'node.drain',
      args: { host },
      raw: `/node drain ${host} reason=fuzz`,
      requester: ALICE,
      channelId: 'C0OPS0001',
    });
    if (r.kind !== 'needs-approval') throw new Error(`seeding ${host}: ${r.kind}`);
    plans.push({ opId: r.operation.id, approvalId: r.approval.id, planHash: r.plan.hash });
  }
  await store.close();
  return plans;
}

/** Every table of the bot's state but the delivery de-duplication, row by row. */
function snapshot(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('deliveries', 'schema_migrations', 'sqlite_sequence') ORDER BY name")
        .all() as { name: string }[]
    ).map((t) => t.name);
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}

interface Outcome {
  d: Delivery;
  status?: number;
  acked?: boolean;
  text: string;
}

async function pool<T, R>(items: T[], n: number, work: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!, i);
      }
    }),
  );
  return out;
}

describe.each(['http', 'socket'] as const)('fuzzing the %s receiver of the running bot', (transport) => {
  let standin: SlackStandin;
  let bot: BotProcess;
  let dir: string;
  let plans: RealPlan[];
  let before: Record<string, unknown[]>;
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `chatops-fuzz-${transport}-`));
    plans = await seedPlans(join(dir, 'state.sqlite'));
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    bot = await startBot({ mode: transport, standin, dir, configYaml: APPROVALS_YAML, env: { CHATOPS_REQUEST_FAULTS: '1' } });
    before = snapshot(join(dir, 'state.sqlite'));
  });
  afterAll(async () => {
    agent.destroy();
    await bot?.stop();
    await standin?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`survives ${RUNS} generated deliveries (seed from FUZZ_SEED or printed on failure)`, { timeout: 170_000 }, async () => {
    const why = `seed ${SEED} (FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} to replay)`;
    const cases = fc.sample(deliveries({ plans, responseUrl: `${standin.url}/response/fuzz` }), { numRuns: RUNS, seed: SEED });
    const url = `http://127.0.0.1:${bot.port}/slack/events`;
    const started = performance.now();
    const outcomes = await pool(cases, IN_FLIGHT, async (d): Promise<Outcome> => {
      if (transport === 'http') {
        const { body, contentType } = toHttp(d);
        const r = await postSigned(url, body, { secret: standin.signingSecret, contentType, agent });
        return { d, ...(r.status !== undefined ? { status: r.status } : {}), text: r.text.slice(0, 300) };
      }
      const { frame, envelopeId } = toFrame(d, randomUUID());
      const r = await sendFrame(standin, frame, envelopeId);
      return { d, ...(envelopeId ? { acked: !r.timedOut } : {}), text: JSON.stringify(r.ackBody ?? '').slice(0, 300) };
    });
    const seconds = (performance.now() - started) / 1000;
    const show = (o: Outcome) => `${o.d.label} → ${o.status ?? (o.acked === false ? 'not acknowledged' : 'acknowledged')}: ${o.text}`;
    console.log(`${transport}: ${outcomes.length} deliveries in ${seconds.toFixed(1)} s, ${why}`);

    // Alive, and still doing its job.
    expect(bot.child.exitCode, why).toBeNull();
    expect((await fetch(`http://127.0.0.1:${bot.port}/healthz`)).status, why).toBe(200);
    const slack = new SlackDriver(standin, transport === 'http' ? { kind: 'http', url } : { kind: 'socket' });
    const probe = await slack.command({ user: 'carol', channel: 'ops', command: '/op', text: 'list' });
    expect(probe.timedOut, why).toBe(false);
    expect(JSON.stringify(probe.ackBody), why).toContain('/op list');

    const faults = outcomes.filter((o) => o.d.kind === 'envelope' && o.d.fault);
    if (transport === 'http') {
      const unanswered = outcomes.filter((o) => o.status === undefined || o.status === 0);
      expect(unanswered.map(show), `requests with no answer within 3 s, ${why}`).toEqual([]);
      const serverErrors = outcomes.filter((o) => (o.status ?? 0) >= 500 && !faults.includes(o));
      expect(serverErrors.map(show), `5xx outside the deliberate faults, ${why}`).toEqual([]);
      expect(faults.filter((o) => o.status !== 500).map(show), `deliberate faults not answered 500, ${why}`).toEqual([]);
      const statuses = new Set(outcomes.map((o) => o.status));
      expect(
        [...statuses].filter((s) => ![200, 400, 413, 500].includes(s!)),
        why,
      ).toEqual([]);
    } else {
      expect(outcomes.filter((o) => o.acked === false).map(show), `envelopes never acknowledged, ${why}`).toEqual([]);
    }
    expect(await counter(bot.port!, 'chatops_request_faults_total', `transport="${transport}",kind="command"`), why).toBe(faults.length);
    const unexpected = bot
      .output()
      .split('\n')
      .filter((l) => l.includes('unexpected failure inside a request') && !l.includes('deliberate request fault'));
    expect(
      unexpected.map((l) => l.slice(0, 1500)),
      `failures inside requests other than the deliberate ones, ${why}`,
    ).toEqual([]);

    // The store: nothing approved, created or changed by a forged click; refusals audited.
    const after = snapshot(join(dir, 'state.sqlite'));
    const audit = after.audit as { kind: string; actor: string; payload: string }[];
    expect(audit.slice(0, before.audit!.length), why).toEqual(before.audit);
    const added = audit.slice(before.audit!.length);
    // Refusals are audited; so is every Abort click, before anything is checked (engine.abort), even for ids that name nothing.
    const attempts = ['approval.refused', 'operation.abort_requested'];
    const story = `${why}; audit added: ${JSON.stringify(added.filter((a) => !attempts.includes(a.kind))).slice(0, 3000)}`;
    expect(after.operations, story).toEqual(before.operations);
    expect(after.approvals, story).toEqual(before.approvals);
    for (const table of Object.keys(before).filter((t) => t !== 'audit')) expect(after[table], `${table}, ${story}`).toEqual(before[table]);
    expect(
      added.filter((a) => !attempts.includes(a.kind)),
      story,
    ).toEqual([]);
    const realOps = new Set(plans.map((p) => p.opId));
    expect(
      added.filter((a) => a.kind === 'operation.abort_requested' && realOps.has((a as unknown as { operation_id: string }).operation_id)),
      story,
    ).toEqual([]);
    expect(
      outcomes.some((o) => o.d.kind === 'envelope' && o.d.forged),
      'the run contained forged clicks',
    ).toBe(true);
  });
});
