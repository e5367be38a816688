/**
 * Assembles the running bot from its parts: the Slack app (Bolt, deferred initialisation, so its
 * client exists first), the thread reporters and approvals that use that client, the engine, the
 * dispatcher, the periodic jobs (jobs/bree-ticker.ts) and start-up reconciliation. main.ts builds the parts from
 * configuration; tests build them from local services and call this same function, so the bot under
 * test is the bot that ships.
 */
import type { Logger } from 'pino';
import type { ApprovalsPort } from '../engine/approvals-port.js';
import type { GroupResolver } from '../approvals/group-resolver.js';
import { slackGroupResolver } from '../bot/slack-groups.js';
import { Engine } from '../engine/engine.js';
import type { CrashPoints } from '../engine/crash-points.js';
import type { Runbook } from '../engine/runbook.js';
import type { Clock } from '../core/clock.js';
import type { ApprovalRecord, Store } from '../store/store.js';
import { createSlackApp, type SlackApp, type SlackAppOptions } from '../bot/app.js';
import { createDispatcher } from '../bot/dispatch/create-dispatcher.js';
import { reportStart } from '../bot/dispatch/plan-preview.js';
import { recordCard } from '../engine/operation-records.js';
import { MemoryDedupe } from '../bot/delivery-dedupe.js';
import type { Metrics } from '../bot/metrics.js';
import { ThreadReporters } from '../bot/thread-reporters.js';
import type { WatcherFactory, WatcherJob } from './build-watcher.js';
import { scheduleNotifier } from '../bot/schedule-notifier.js';
import { BreeTicker, type PeriodicJob } from '../jobs/bree-ticker.js';
import { ScheduleSweep } from '../jobs/schedule-sweep.js';

export interface BotParts<D> {
  slack: SlackAppOptions;
  store: Store;
  /** Built once the Slack client exists, since approver groups are resolved through it. */
  approvals: (groups: GroupResolver) => ApprovalsPort & { expireDue(): Promise<ApprovalRecord[]> };
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
  /** More periodic jobs, ticked with the bot's own (one entry each; they run on the main thread). */
  jobs?: readonly PeriodicJob[];
  /** Clean-ups that run once at start-up before operations are resumed (e.g. /ip recover's probe sweep); a failure is logged. */
  startupSweeps?: readonly { name: string; run(): Promise<unknown> }[];
  /** The compute watcher (compose/build-watcher.ts), built once the Slack client exists; absent: none runs. */
  watcher?: WatcherFactory;
}

export interface Bot<D> {
  slack: SlackApp;
  engine: Engine<D>;
  /** Runs the expiry sweep now (it also runs every `expirySweepMs`). */
  expireDue(): Promise<void>;
  /** The compute watcher, when one was configured (tests call its tick()). */
  watcher?: WatcherJob;
  /** Runs the schedule sweep now (it also runs every `schedules.tickMs`). */
  sweepSchedules(): Promise<void>;
  /** SIGTERM: no new step starts, the current one ends, state is flushed; then Slack disconnects. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export async function buildBot<D>(p: BotParts<D>): Promise<Bot<D>> {
  const slack = createSlackApp(p.slack, {
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
  const client = slack.client;
  const reporters = new ThreadReporters({
    chat: client.chat,
    minEditIntervalMs: p.statusCardIntervalMs,
    rememberCard: (opId, ts) => recordCard(p.store, opId, ts),
    rememberReported: (opId, endedAt): Promise<void> => engine.markReported(opId, endedAt),
    log: (msg, fields) => p.logger.warn(fields, msg),
  });
  const approvals = p.approvals(slackGroupResolver(client, p.clock));
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
  slack.listen(
    createDispatcher({
      engine: engine as Engine<unknown>,
      reads: p.store,
      clock: p.clock,
      logger: p.logger,
      runbooks: new Set(p.runbooks.map((r) => r.name)),
      deps: p.deps,
      breakGlass: p.breakGlass === true,
    }),
  );
  await slack.start();
  const watcher = p.watcher?.(client);
  const scheduleSweep = new ScheduleSweep({
    store: p.store,
    schedules: engine.schedules,
    notify: scheduleNotifier(p.store, client, p.clock),
    ...(p.schedules?.reminderMs !== undefined ? { remindBeforeMs: p.schedules.reminderMs } : {}),
  });
  const leaseMs = p.leaseMs ?? 60_000;
  // Operations whose owner's lease ended (a replica that died) are taken over; those left approved
  // and untouched for a lease are started (a replica died between the click and the start).
  const reconcile = async (o: { olderThanMs?: number; atStartup?: boolean } = {}): Promise<void> => {
    await engine.reconcileOnStartup();
    if (o.atStartup) {
      // Ends a killed process wrote but never showed: the card says so now.
      const told = await engine.reportUnreported();
      if (told.length > 0) p.logger.info({ operations: told }, 'told the end of operations a previous process finished');
    }
    for (const r of await engine.startLeftApproved(o.olderThanMs !== undefined ? { olderThanMs: o.olderThanMs } : {})) {
      if (r.kind === 'started') continue;
      const op = await p.store.getOperation(r.opId);
      if (op?.cardTs) await reportStart(p.store, client, r, { channelId: op.channelId, messageTs: op.cardTs });
    }
  };
  // The periodic jobs: bree ticks, each job runs here on the main thread (jobs/bree-ticker.ts says
  // why). A new job is one entry here (or in `p.jobs`).
  const ticker = new BreeTicker(
    [
      { name: 'schedules', intervalMs: p.schedules?.tickMs ?? 5000, run: async () => void (await scheduleSweep.sweep()) },
      { name: 'approval-expiry', intervalMs: p.expirySweepMs ?? 15_000, run: expireDue },
      { name: 'lease-reconciliation', intervalMs: p.reconcileMs ?? Math.max(1000, Math.floor(leaseMs / 3)), run: () => reconcile({ olderThanMs: leaseMs }) },
      // The compute watcher (docs/watcher.md): tick() never throws and never overlaps itself.
      ...(watcher ? [{ name: 'compute-watcher', intervalMs: watcher.intervalMs, run: async () => void (await watcher.tick()) }] : []),
      ...(p.jobs ?? []),
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
        await client.chat
          .update({ channel: op.channelId, ts: op.cardTs, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] })
          .catch((e: unknown) => p.logger.warn({ err: e, opId: op.id }, 'could not mark the card expired'));
      }
    } catch (e) {
      p.logger.error({ err: e }, 'expiry sweep failed');
    }
  }
  // At start-up: the start-up sweeps; then schedules (a missed one is reported, a due one claimed:
  // "re-arming" is this first sweep, since the store is the schedule); then operations a previous
  // process left running are continued or put in front of an operator, and those it left approved
  // but not yet started (killed between the click and the start). Then the periodic jobs.
  void (async () => {
    for (const sweep of p.startupSweeps ?? []) {
      await sweep.run().then(
        (r) => p.logger.info({ sweep: sweep.name, result: r }, 'start-up sweep done'),
        (e: unknown) => p.logger.error({ err: e, sweep: sweep.name }, 'start-up sweep failed'),
      );
    }
    await ticker.runNow('schedules');
    await reconcile({ atStartup: true });
    await ticker.start();
    if (watcher) void ticker.runNow('compute-watcher'); // its first look at once, not one interval later
  })().catch((e: unknown) => p.logger.error({ err: e }, 'start-up reconciliation failed'));
  return {
    slack,
    engine,
    expireDue,
    ...(watcher ? { watcher } : {}),
    sweepSchedules: () => ticker.runNow('schedules'),
    async shutdown(timeoutMs = 25_000) {
      await ticker.stop();
      await watcher?.stop();
      const clean = await engine.shutdown(timeoutMs);
      if (!clean) p.logger.warn('a step was still running at shutdown; it will be reconciled at the next start');
      await reporters.flushAll(3000);
      reporters.closeAll();
      await slack.stop();
    },
  };
}
