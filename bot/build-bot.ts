/**
 * Assembles the running bot from its parts: store, engine, handlers, the Slack app and the thread
 * reporters. main.ts builds the parts from configuration; tests build them from local services and
 * call this same function, so the bot under test is the bot that ships.
 */
import type { Logger } from 'pino';
import type { ApprovalsPort } from '../engine/approvals-port.js';
import type { GroupResolver } from '../approvals/group-resolver.js';
import { slackGroupResolver } from './slack-groups.js';
import { Engine } from '../engine/engine.js';
import type { CrashPoints } from '../engine/crash-points.js';
import type { Runbook } from '../engine/runbook.js';
import type { Clock } from '../core/clock.js';
import type { ApprovalRecord, Store } from '../store/store.js';
import { startSlackApp, type SlackApp, type SlackAppOptions } from './app.js';
import { createCommandHandlers, reportStart, type BreakGlassPort } from './command-handlers.js';
import { MemoryDedupe } from './delivery-dedupe.js';
import type { Metrics } from './metrics.js';
import { ThreadReporters } from './thread-reporters.js';
import { BreeTicker } from '../jobs/bree-ticker.js';
import { ScheduleSweep } from '../jobs/schedule-sweep.js';
import type { Requester } from '../core/types.js';
import { scheduleNotifier } from './schedule-notifier.js';

export interface BotParts<D> {
  slack: SlackAppOptions;
  store: Store;
  /** Built once the Slack client exists, since approver groups are resolved through it. */
  approvals: (groups: GroupResolver) => ApprovalsPort & { expireDue(): Promise<ApprovalRecord[]>; mayApprove?(approvalId: string, actor: Requester): Promise<boolean> } & BreakGlassPort;
  /** Offer the break-glass path (a break-glass group is configured). */
  breakGlass?: boolean;
  /** How often pending requests past their TTL and approvals past their start window are expired. */
  expirySweepMs?: number;
  runbooks: readonly Runbook<never, D>[];
  deps: D;
  /** This replica's id, stable across its restarts (host name + store path, say). */
  owner: string;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  statusCardIntervalMs: number;
  crash?: CrashPoints;
  /** Scheduled runs: grace period, reminder lead time, how often the sweep looks (config `schedules`). */
  schedules?: { graceMs?: number; reminderMs?: number; tickMs?: number };
  /** Lease on a running operation (default 60 s); another replica takes it over once it ends. */
  leaseMs?: number;
  /** How often operations whose owner's lease ended are taken over (default a third of the lease). */
  reconcileMs?: number;
}

export interface Bot<D> {
  slack: SlackApp;
  engine: Engine<D>;
  /** Runs the expiry sweep now (it also runs every `expirySweepMs`). */
  expireDue(): Promise<void>;
  /** Runs the schedule sweep now (it also runs every `schedules.tickMs`). */
  sweepSchedules(): Promise<void>;
  /** SIGTERM: no new step starts, the current one ends, state is flushed; then Slack disconnects. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export async function buildBot<D>(p: BotParts<D>): Promise<Bot<D>> {
  // The engine and the group resolver need the Slack client, which exists only once the app started.
  const late: { slack?: SlackApp } = {};
  const reporters = new ThreadReporters({
    chat: {
      postMessage: (a) => late.slack!.app.client.chat.postMessage(a as never),
      update: (a) => late.slack!.app.client.chat.update(a as never),
    },
    minEditIntervalMs: p.statusCardIntervalMs,
    rememberCard: (opId, ts) => p.store.updateOperation(opId, { cardTs: ts, threadTs: ts }, {}),
    log: (msg, fields) => p.logger.warn(fields, msg),
  });
  const approvals = p.approvals(slackGroupResolver(() => late.slack!.app.client as never, p.clock));
  const engine = new Engine<D>({
    store: p.store,
    approvals,
    runbooks: p.runbooks,
    deps: p.deps,
    owner: p.owner,
    ...(p.crash ? { crash: p.crash } : {}),
    ...(p.leaseMs !== undefined ? { leaseMs: p.leaseMs } : {}),
    ...(p.schedules?.graceMs !== undefined ? { scheduleGraceMs: p.schedules.graceMs } : {}),
    reporterFor: reporters.reporterFor,
  });
  const handlers = createCommandHandlers({
    engine: engine as Engine<unknown>,
    store: p.store,
    clock: p.clock,
    logger: p.logger,
    runbooks: new Set(p.runbooks.map((r) => r.name)),
    deps: p.deps,
    ...(p.breakGlass ? { breakGlass: approvals } : {}),
    ...(approvals.mayApprove ? { mayApprove: (id: string, actor: Requester) => approvals.mayApprove!(id, actor) } : {}),
  });
  const started = await startSlackApp(p.slack, {
    handlers,
    // One bot on a SQLite file de-duplicates in memory (no fsync per delivery); replicas sharing
    // MariaDB must agree, so they use the store's atomic firstSeen.
    dedupe: p.store.dialect === 'sqlite' ? new MemoryDedupe(p.clock) : p.store,
    metrics: p.metrics,
    logger: p.logger,
    clock: p.clock,
    health: async () => {
      try {
        await p.store.listLocks();
        return { ok: true, detail: { store: p.store.dialect } };
      } catch (e) {
        return { ok: false, detail: { store: (e as Error).message } };
      }
    },
  });
  late.slack = started;
  const scheduleSweep = new ScheduleSweep({
    store: p.store,
    schedules: engine.schedules,
    notify: scheduleNotifier(p.store, started.app.client, p.clock),
    ...(p.schedules?.reminderMs !== undefined ? { remindBeforeMs: p.schedules.reminderMs } : {}),
  });
  const sweepSchedules = async () => void (await scheduleSweep.sweep());
  // Operations whose owner's lease ended (a replica that died) are taken over; those left approved
  // but never started are started (after a schedule was claimed by a replica that died, say).
  const reconcile = async () => {
    await engine.reconcileOnStartup();
    for (const r of await engine.startLeftApproved()) {
      if (r.kind === 'started') continue;
      const op = await p.store.getOperation(r.opId);
      if (op?.cardTs) await reportStart(p.store, started.app.client, r, { channelId: op.channelId, messageTs: op.cardTs });
    }
  };
  const leaseMs = p.leaseMs ?? 60_000;
  // bree ticks; every job runs here on the main thread (jobs/bree-ticker.ts says why).
  const ticker = new BreeTicker(
    [
      { name: 'schedules', intervalMs: p.schedules?.tickMs ?? 5000, run: sweepSchedules },
      { name: 'approval-expiry', intervalMs: p.expirySweepMs ?? 15_000, run: expireDue },
      { name: 'lease-reconciliation', intervalMs: p.reconcileMs ?? Math.max(1000, Math.floor(leaseMs / 3)), run: reconcile },
    ],
    p.logger,
  );
  /** Expired requests: the operation is expired too, and its preview says so instead of offering buttons. */
  async function expireDue(): Promise<void> {
    try {
      for (const a of await approvals.expireDue()) {
        await engine.approvalEnded(a);
        const op = await p.store.getOperation(a.operationId);
        if (!op?.cardTs || a.purpose === 'resume') continue;
        const text = `:hourglass: Operation \`${op.id}\` (${op.runbook} ${op.target}) expired: ${a.state === 'expired' && a.startBy ? 'it was approved but did not start in time' : 'nobody approved it in time'}. Nothing was done; ask again if it is still needed.`;
        await started.app.client.chat.update({ channel: op.channelId, ts: op.cardTs, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] }).catch((e: unknown) => p.logger.warn({ err: e, opId: op.id }, 'could not mark the card expired'));
      }
    } catch (e) {
      p.logger.error({ err: e }, 'expiry sweep failed');
    }
  }
  // At start-up: schedules first (a missed one is reported, a due one claimed), then operations a
  // previous process left running are continued or put in front of an operator, then those it left
  // approved but not yet started (killed between the click and the start). Then the periodic jobs.
  void (async () => {
    await ticker.runNow('schedules');
    await ticker.runNow('lease-reconciliation');
    await ticker.start();
  })().catch((e: unknown) => p.logger.error({ err: e }, 'start-up reconciliation failed'));
  return {
    slack: started,
    engine,
    expireDue,
    sweepSchedules: () => ticker.runNow('schedules'),
    async shutdown(timeoutMs = 25_000) {
      await ticker.stop();
      const clean = await engine.shutdown(timeoutMs);
      if (!clean) p.logger.warn('a step was still running at shutdown; it will be reconciled at the next start');
      await reporters.flushAll(3000);
      reporters.closeAll();
      await started.stop();
    },
  };
}
