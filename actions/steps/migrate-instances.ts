/**
 * Moving one instance off a host and proving it moved, shared by drain and undrain's migrate-back.
 * Idempotent by reading Nova first: an instance already elsewhere is done, one mid-migration is
 * waited for (never migrated a second time), one in VERIFY_RESIZE is confirmed; only an instance
 * provably still on the source with nothing in flight gets a new migration.
 */
import type { EventWatch, NovaEvent } from '../../adapters/openstack/nova-notifications.js';
import type { BlockMigration, Cloud, Migration, Server } from '../../adapters/openstack/cloud.js';
import { cliCommands, commandLine } from '../../adapters/openstack/cli-commands.js';
import { ChatOpsError, TimeoutError } from '../../core/errors.js';
import type { CloudDeps } from '../deps.js';
import { sleep } from '../../core/sleep.js';
import type { JsonValue, Observation } from '../../engine/runbook.js';
import type { MoveResult } from './move-result.js';
import { DEFAULT_POLL_SCHEDULE, NovaObserver } from './nova-observer.js';

/** How an instance is moved: live (ACTIVE, PAUSED) or cold (SHUTOFF: migrate + confirm). */
export type MoveKind = 'live' | 'cold';

/** One instance of a plan, as stored in `resolved` (plain JSON, part of the plan hash). */
export interface PlannedInstance {
  id: string;
  name: string;
  status: string;
  kind: MoveKind;
}

export type { MoveResult };

export interface MoveOptions {
  source: string;
  /** Destination host; undefined lets the scheduler pick. */
  dest: string | undefined;
  blockMigration: BlockMigration;
  signal: AbortSignal;
  /** Journaled before the API call that starts a migration. */
  beforeStart(detail: Record<string, JsonValue>): Promise<void>;
  /** The server as read a moment ago (by the step's check); read again when absent. */
  seen?: Server;
  /** The step's batched reads of Nova (one per tick for all its moves); each move polls on its own without. */
  observer?: NovaObserver;
  /**
   * The servers the next step will check (a sequential drain): read ahead through the observer once
   * Nova says this move has landed, so that check costs no wait between the two moves.
   */
  next?: readonly string[];
}

/**
 * An observer for every step of an operation's moves off `host` (checks and moves): its first server
 * read lists the host, then each read is a `changes-since` list. Idle between steps (a tick happens
 * only while something waits on it), so it needs no closing.
 */
export function movesObserver(c: CloudDeps, host: string): NovaObserver {
  return new NovaObserver(c.cloud, { host, schedule: c.polling ?? DEFAULT_POLL_SCHEDULE, clock: c.clock, primeHost: true, events: c.events });
}

/** One observer for the moves off `host` that `fn` starts (a step's batch), closed when they are over. */
export async function observingMoves<T>(c: CloudDeps, host: string, fn: (observer: NovaObserver) => Promise<T>): Promise<T> {
  const observer = new NovaObserver(c.cloud, { host, schedule: c.polling ?? DEFAULT_POLL_SCHEDULE, clock: c.clock });
  try {
    return await fn(observer);
  } finally {
    observer.close();
  }
}

/** Live-migratable and cold-migratable statuses (Nova's own rules); the rest is left alone. */
export function moveKindOf(status: string): MoveKind | undefined {
  if (status === 'ACTIVE' || status === 'PAUSED') return 'live';
  if (status === 'SHUTOFF') return 'cold';
  return undefined;
}

export function blockMigrationOf(mode: 'live' | 'block' | 'auto'): BlockMigration {
  return mode === 'live' ? false : mode === 'block' ? true : 'auto';
}

/** The `openstack` lines an operator would type for one instance (shown in plans). */
export function moveEquivalent(i: PlannedInstance, o: { dest: string | undefined; blockMigration: BlockMigration; prefix?: string }): string[] {
  const p = o.prefix ? `${o.prefix} ` : '';
  const host = o.dest ? { host: o.dest } : {};
  if (i.kind === 'live') {
    return [
      `${p}${commandLine(cliCommands.liveMigrateServer(i.id, { ...host, blockMigration: o.blockMigration }).argv)}`,
      `${p}${commandLine(cliCommands.getServer(i.id).argv)}  # until ACTIVE on another host`,
    ];
  }
  return [`${p}${commandLine(cliCommands.migrateServer(i.id, host).argv)}`, `${p}${commandLine(cliCommands.confirmResize(i.id).argv)}  # once VERIFY_RESIZE`];
}

/**
 * The k-th wait of a poll loop, counted from the start of one poll to the start of the next: every
 * 100 ms for the first 2 s, every 250 ms to 5 s (most migrations of small or idle guests end within
 * seconds, and each poll's lag is pure overhead on a drain of hundreds: the bench measured it), then
 * growing ×1.5 to the cloud's interval, so a long migration costs Nova one GET per interval.
 */
export function pollDelay(k: number, maxMs: number): number {
  const fast = 20; // 20 × 100 ms = 2 s
  const quick = fast + 12; // + 12 × 250 ms = 5 s
  const d = k < fast ? 100 : k < quick ? 250 : Math.round(250 * 1.5 ** (k - quick + 1));
  return Math.min(maxMs, d);
}

/** The longest a wait goes without reading Nova: the polls' cap. */
export function pollCapMs(c: CloudDeps): number {
  return c.polling?.maxMs ?? c.pollIntervalMs ?? 2000;
}

/** The longest a wait that Nova's notifications will end goes without reading Nova: the safety net for a lost event (`polling.safetyNet`). */
export function safetyNetMs(c: CloudDeps): number {
  return Math.max(c.polling?.safetyNetMs ?? DEFAULT_POLL_SCHEDULE.safetyNetMs, pollCapMs(c));
}

/** Sleeps what is left of `delayMs` since `startedAt` (a poll's own duration is part of the wait). */
function pollSleep(c: CloudDeps, startedAt: number, delayMs: number, signal?: AbortSignal): Promise<void> {
  return sleep(Math.max(0, delayMs - (c.clock.now() - startedAt)), signal);
}

const inFlight = (s: Server) => s.taskState !== null || s.status === 'MIGRATING' || s.status === 'RESIZE';
const settledStatus = (s: Server) => !inFlight(s) && s.status !== 'VERIFY_RESIZE';

/** The newest migration record of a server (by id), if any. */
export async function latestMigration(cloud: Cloud, serverId: string): Promise<Migration | undefined> {
  const all = await cloud.listMigrations({ serverId });
  return all.sort((a, b) => b.id - a.id)[0];
}

/** Nova's instance actions that move a server (its instance_actions constants). */
const MOVE_ACTIONS = ['live-migration', 'migrate', 'resize', 'confirmResize', 'evacuate'];

/**
 * Why Nova failed the server's latest move, in Nova's words: of the newest moving action, the first
 * event that failed, with its `details` (compute 2.84+), e.g. "conductor_live_migrate_instance on
 * controller failed: No valid host was found.". Older clouds have only the traceback's frames: its
 * last line is used when it is an exception ("nova.exception.X: message"). Best effort: undefined
 * when Nova does not say (no action, no failed event, no rights), never throws.
 */
export async function novaReason(cloud: Cloud, serverId: string): Promise<string | undefined> {
  try {
    const action = (await cloud.listInstanceActions(serverId)).find((a) => MOVE_ACTIONS.includes(a.action));
    if (!action) return undefined;
    const events = [...((await cloud.getInstanceAction(serverId, action.requestId))?.events ?? [])].sort((a, b) =>
      (a.startTime ?? '').localeCompare(b.startTime ?? ''),
    );
    const failed = events.find((e) => e.result?.toLowerCase() === 'error');
    if (!failed) return undefined;
    const last = (failed.traceback ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1);
    const exception = last && /^(?:[a-z_]\w*\.)*[A-Z]\w*: \S/.test(last) ? last.replace(/^(?:[a-z_]\w*\.)+/, '') : undefined;
    const why = failed.details?.trim() || exception;
    const text = `${failed.event}${failed.host ? ` on ${failed.host}` : ''} failed${why ? `: ${why}` : ''}`;
    return text.length > 400 ? `${text.slice(0, 399)}…` : text;
  } catch {
    return undefined;
  }
}

/**
 * Read-only: has this instance left `source` for good (or is it gone)? With `observer`, read in the
 * observer's next tick, at once (one list for a whole batch's checks), or taken from the read the
 * observer made ahead while the previous move landed (Nova's notifications vouching for it): always
 * a read of Nova, never its cache alone.
 */
export async function observeMove(c: CloudDeps, i: PlannedInstance, source: string, observer?: NovaObserver, signal?: AbortSignal): Promise<Observation> {
  const read = observer ? await observer.server(i.id, signal, true) : await c.cloud.getServer(i.id);
  const s = read === 'gone' ? undefined : read;
  if (!s) return { state: 'done', detail: `${i.name} no longer exists`, output: result(i, source, null, 'gone', 0) };
  if (s.host !== source && settledStatus(s))
    return { state: 'done', detail: `${i.name} is on ${s.host ?? '?'} (${s.status})`, output: result(i, source, s.host, 'already', 0) };
  // Still on the source, or mid-migration / awaiting confirmation: run() picks it up from there.
  return { state: 'not-done', detail: `${i.name} is on ${s.host ?? '?'} (${s.status}${s.taskState ? `, ${s.taskState}` : ''})`, seen: s };
}

function result(i: PlannedInstance, from: string, to: string | null, r: MoveResult['result'], ms: number): MoveResult {
  return { id: i.id, name: i.name, from, to, result: r, ms };
}

/**
 * Moves one instance off `source` and verifies it: ACTIVE (or SHUTOFF for a cold move) on another
 * host, migration record completed (live) or confirmed (cold) — or, for a live move with Nova's
 * notifications, Nova's own two end events saying as much (endedByNova). A live migration still running after
 * the cloud's timeout is aborted through the API; failures carry Nova's migration status.
 */
export async function moveInstance(c: CloudDeps, i: PlannedInstance, o: MoveOptions): Promise<MoveResult> {
  const t0 = c.clock.now();
  // the step's check has usually just read it (one GET less per instance on a drain of hundreds)
  const s = o.seen ?? (await c.cloud.getServer(i.id));
  if (!s) return result(i, o.source, null, 'gone', 0);
  if (s.host !== o.source && settledStatus(s)) return result(i, o.source, s.host, 'already', 0);
  const kind: MoveKind = s.status === 'VERIFY_RESIZE' || s.status === 'RESIZE' ? 'cold' : (moveKindOf(s.status) ?? i.kind);
  const deadline = t0 + c.migrationTimeoutMs;
  // Nova's end-of-move notifications, where the cloud's bus is offered: subscribed before the request
  // that causes them, they wake the wait below at once instead of its polls (which stay, slower, as
  // the safety net for an event lost or never sent).
  const watch = c.events?.connected ? c.events.watch((e) => e.instanceUuid === i.id && MOVE_END.test(e.eventType)) : undefined;
  const poll = watch ? safetyNetMs(c) : pollCapMs(c);
  try {
    return await moveWatched(c, i, o, { t0, s, kind, poll, deadline, watch });
  } finally {
    watch?.stop();
    o.observer?.finished(i.id);
  }
}

/**
 * With Nova's notifications: waits for the live migration's end and verifies it from Nova's own
 * words. The destination compute sends `live_migration_post_dest.end` once it has saved the instance
 * as its own (host, vm state restored, no task; a failure there raises before the event), then the
 * source sends `live_migration_post.end` and marks the record completed. The two events, the first
 * naming another host (the one asked for, if any) with the vm state the move started from and no task,
 * are the verification: no read of Nova at all. Without the first (lost, or a Nova that does not send
 * it) the record is read (rarely twice: it is saved a few ms after the event). Anything else (no end
 * within the interval, a rollback, a record not completed) returns undefined and the usual checks take
 * over, starting with a read.
 */
async function endedByNova(
  c: CloudDeps,
  i: PlannedInstance,
  o: MoveOptions,
  watch: EventWatch,
  m0: { poll: number; vmState: string; deadline: number },
): Promise<string | undefined> {
  let landed: NovaEvent | undefined;
  // the first interval: the events alone (a move of an idle guest ends within it, with no read)
  const eventsOnlyUntil = c.clock.now() + m0.poll;
  let r: Woken = { e: await watch.next(m0.poll, o.signal) };
  for (;;) {
    if ('tick' in r) {
      if (r.tick !== 'moving') return undefined; // ended without its events (lost?): verified by reads
    } else if (r.e?.eventType === POST_DEST_END) {
      landed = r.e;
      // the destination has it: the source's post.end follows (~0.1 s on the lab), then the next step's check
      if (o.next?.length) o.observer?.readAhead(o.next);
    } else if (r.e) {
      if (r.e.eventType !== 'instance.live_migration_post.end') return undefined;
      break;
    } else if (!o.observer) return undefined;
    if (c.clock.now() > m0.deadline) return undefined;
    // Then the events or the observer's next tick, whichever comes first: a move queued behind others
    // on its host takes a while, and the tick (one read for every move of the operation) is the safety net.
    // (The destination's event comes ~0.1 s before the source's: the rest of the first interval is still the events' alone.)
    const left = eventsOnlyUntil - c.clock.now();
    r = o.observer && left <= 0 ? await eventOrTick(watch, o.observer, i.id, o.signal) : { e: await watch.next(left > 0 ? left : m0.poll, o.signal) };
  }
  const wanted = (host: string | null | undefined): host is string => !!host && host !== o.source && (!o.dest || host === o.dest);
  if (landed && wanted(landed.host) && landed.state === m0.vmState && !landed.taskState) return landed.host;
  for (let k = 0; k < 10; k++) {
    const m = await latestMigration(c.cloud, i.id);
    if (m?.status === 'completed') return wanted(m.destCompute) ? m.destCompute : undefined;
    if (!m || ['error', 'failed', 'cancelled'].includes(m.status)) return undefined;
    await sleep(50 * (k + 1), o.signal);
  }
  return undefined;
}

type Woken = { e: NovaEvent | undefined } | { tick: Server | 'gone' | 'moving' };

/** The watch's next event or the observer's next tick for the server, whichever comes first (an event that comes with the tick wins). */
async function eventOrTick(watch: EventWatch, observer: NovaObserver, id: string, signal: AbortSignal): Promise<Woken> {
  const ac = new AbortController();
  const either = AbortSignal.any([signal, ac.signal]);
  const event = watch.next(2 ** 31 - 1, either).then((e) => ({ e }));
  const tick = observer.settled(id, either, false, true).then((v) => ({ tick: v }));
  tick.catch(() => undefined); // left when the event comes first
  const r = await Promise.race([event, tick]).finally(() => ac.abort());
  const late = 'tick' in r ? await event : undefined;
  return late?.e ? late : r;
}

/** Sent by the destination compute once the instance is saved there (before the source's post.end): not an end of its own. */
const POST_DEST_END = 'instance.live_migration_post_dest.end';

/** The next event that ends a phase (a destination's post_dest.end is only read by endedByNova). */
async function nextEnd(watch: EventWatch, ms: number, signal: AbortSignal): Promise<NovaEvent | undefined> {
  for (;;) {
    const e = await watch.next(ms, signal);
    if (e?.eventType !== POST_DEST_END) return e;
  }
}

/** Nova's notifications that end a move's phase (or fail it): what a waiting move is woken by (the destination's post_dest.end is kept for endedByNova). */
const MOVE_END = /^instance\.(live_migration_(post|post_dest|rollback|abort)\.end|resize_(finish|confirm|revert)\.end|[a-z_]+\.error)$/;

async function moveWatched(
  c: CloudDeps,
  i: PlannedInstance,
  o: MoveOptions,
  m0: { t0: number; s: Server; kind: MoveKind; poll: number; deadline: number; watch: EventWatch | undefined },
): Promise<MoveResult> {
  const { t0, kind, poll, deadline, watch } = m0;
  let s = m0.s;
  let posted: number | undefined; // when this run asked Nova for the move
  // A refusal by the scheduler (NoValidHost: the instance stays put, record "error") is often
  // transient on a busy cloud, e.g. a compute that just restarted misses a report: retried twice.
  for (let attempt = 0; ; attempt++) {
    if (!inFlight(s) && s.status !== 'VERIFY_RESIZE') {
      if (!moveKindOf(s.status)) {
        throw new ChatOpsError('STEP_FAILED', `${i.name} (${i.id}) is ${s.status} now (was ${i.status} when planned): Nova cannot migrate it in this state`, {
          details: { server: i.id, status: s.status },
        });
      }
      await o.beforeStart({ server: i.id, name: i.name, from: o.source, to: o.dest ?? 'scheduler', kind, attempt: attempt + 1 });
      posted = c.clock.now();
      if (kind === 'live') await c.cloud.liveMigrateServer(i.id, { ...(o.dest ? { host: o.dest } : {}), blockMigration: o.blockMigration });
      else await c.cloud.migrateServer(i.id, o.dest ? { host: o.dest } : {});
      o.observer?.started(i.id);
      const done = watch && kind === 'live' ? await endedByNova(c, i, o, watch, { poll, vmState: s.status.toLowerCase(), deadline }) : undefined;
      if (done) return result(i, o.source, done, 'moved', c.clock.now() - t0);
    }
    const settled = await waitSettled(c, i, o, deadline, poll, watch);
    if (settled === 'gone') return result(i, o.source, null, 'gone', c.clock.now() - t0);
    if (settled.host !== o.source) {
      s = settled;
      break;
    }
    const m = await latestMigration(c.cloud, i.id);
    const reason = await novaReason(c.cloud, i.id);
    // Only the scheduler's refusal is worth trying again; any other failure would repeat itself.
    const transient = reason === undefined || /NoValidHost|No valid host/i.test(reason);
    if (attempt >= 2 || !transient || c.clock.now() > deadline) {
      throw new ChatOpsError(
        'STEP_FAILED',
        `the migration of ${i.name} (${i.id}) failed${attempt ? ` ${attempt + 1} times` : ''}: Nova says migration ${m?.id ?? '?'} is ${m?.status ?? 'unknown'}${reason ? ` (${reason})` : ''}; the instance is still on ${o.source} (${settled.status})`,
        {
          details: { server: i.id, migration: m?.id ?? null, migrationStatus: m?.status ?? null, reason: reason ?? null },
        },
      );
    }
    await sleep(10_000, o.signal);
    s = (await c.cloud.getServer(i.id)) ?? settled;
  }
  // Nova moves the instance and clears its task before it marks the record completed: wait for it.
  const want = kind === 'live' ? ['completed'] : ['confirmed', 'finished', 'completed'];
  const record = () => (o.observer ? o.observer.migration(i.id, o.signal) : latestMigration(c.cloud, i.id));
  // The tick that saw the record end (and then read the server) has usually read it already: a record
  // listed after this run's request, of a move off the source to where the server now is, is this move's.
  const seen = posted !== undefined ? o.observer?.recordSince(i.id, posted) : undefined;
  const ours = seen && want.includes(seen.status) && seen.sourceCompute === o.source && seen.destCompute === s.host ? seen : undefined;
  let polled = c.clock.now();
  let m = ours ?? (await record());
  for (let k = 0; m && !want.includes(m.status) && !['error', 'failed', 'cancelled'].includes(m.status) && c.clock.now() <= deadline + 60_000; k++) {
    if (!o.observer) await pollSleep(c, polled, pollDelay(k, Math.min(poll, 1000)), o.signal); // the observer keeps its own pace
    polled = c.clock.now();
    m = await record();
  }
  if (!m || !want.includes(m.status)) {
    throw new ChatOpsError(
      'STEP_FAILED',
      `${i.name} (${i.id}) is on ${s.host ?? '?'} but its migration record says ${m ? `${m.id}: ${m.status}` : 'nothing'} (expected ${want[0]})`,
      { details: { server: i.id } },
    );
  }
  if (o.dest && s.host !== o.dest)
    throw new ChatOpsError('STEP_FAILED', `${i.name} (${i.id}) landed on ${s.host ?? '?'}, not on ${o.dest}`, { details: { server: i.id } });
  return result(i, o.source, s.host, 'moved', c.clock.now() - t0);
}

/** Polls until the instance has no migration in flight (confirming a cold move); ERROR fails. */
async function waitSettled(
  c: CloudDeps,
  i: PlannedInstance,
  o: MoveOptions,
  deadline: number,
  poll: number,
  watch: EventWatch | undefined,
): Promise<Server | 'gone'> {
  let woken = false;
  for (let k = 0; ; k++) {
    const polled = c.clock.now();
    // with the observer: 'moving' while Nova's record of the move says it is under way (no server read);
    // woken by Nova's notification, the server at once (the record is saved a few ms after the event)
    const s = !o.observer ? await c.cloud.getServer(i.id) : woken ? await o.observer.server(i.id, o.signal, true) : await o.observer.settled(i.id, o.signal);
    if (!s || s === 'gone') return 'gone';
    if (s === 'moving') {
      // still under way: only the deadline below applies
    } else if (s.status === 'VERIFY_RESIZE') {
      await confirmOnce(c, i);
    } else if (s.status === 'ERROR') {
      const m = await latestMigration(c.cloud, i.id);
      const reason = await novaReason(c.cloud, i.id);
      throw new ChatOpsError(
        'STEP_FAILED',
        `${i.name} (${i.id}) went to ERROR during its migration${m ? ` (migration ${m.id}: ${m.status})` : ''}${reason ? `: ${reason}` : ''}`,
        { details: { server: i.id, migration: m?.id ?? null, reason: reason ?? null } },
      );
    } else if (!inFlight(s)) {
      return s;
    }
    if (c.clock.now() > deadline) await abortStuck(c, i, o.source, c.migrationTimeoutMs);
    if (watch)
      woken = (await nextEnd(watch, poll, o.signal)) !== undefined; // Nova says the phase ended, or the safety net's interval passed
    else if (!o.observer) await pollSleep(c, polled, pollDelay(k, poll), o.signal); // the observer keeps its own pace
  }
}

/**
 * Confirms a cold migration awaiting it, once: a confirmation already under way (record
 * "confirming": sent by a bot that was killed right after, say) is waited for, not sent again —
 * Nova would refuse the second one ("Instance has not been resized", 400).
 */
async function confirmOnce(c: CloudDeps, i: PlannedInstance): Promise<void> {
  const underWay = async () => ['confirming', 'confirmed'].includes((await latestMigration(c.cloud, i.id))?.status ?? '');
  if (await underWay()) return;
  try {
    await c.cloud.confirmResize(i.id);
  } catch (e) {
    // Lost a race with a confirmation already sent: fine when the record says so.
    if (!(await underWay()) && (await c.cloud.getServer(i.id))?.status === 'VERIFY_RESIZE') throw e;
  }
}

/** Aborts the running live migration of a stuck instance and fails with what happened. */
async function abortStuck(c: CloudDeps, i: PlannedInstance, source: string, timeoutMs: number): Promise<never> {
  const m = await latestMigration(c.cloud, i.id);
  let aborted = 'no abortable migration was found';
  if (m && m.migrationType === 'live-migration' && ['queued', 'preparing', 'running'].includes(m.status)) {
    await c.cloud.abortLiveMigration(i.id, m.id);
    aborted = `migration ${m.id} (${m.status}) was aborted through the API`;
  }
  throw new TimeoutError(`the migration of ${i.name} (${i.id}) off ${source} (${aborted})`, timeoutMs, { server: i.id, migration: m?.id ?? null });
}
