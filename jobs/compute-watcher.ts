/**
 * The compute watcher (issue 14): every interval, one call per cloud reads its nova-compute services;
 * a service that is `down` and stays down past a grace period gets ONE incident card in the
 * configured channel — what went down and since when (Nova's updated_at), the instances on it, and a
 * ready `/node evacuate` plan whose target is the up host with the most free capacity in Placement —
 * and a follow-up in the card's thread when it comes back. The watcher never changes the cloud: the
 * card's button asks for the evacuation through the usual plan → approval path (bot/dispatch).
 *
 * One card per incident, across restarts and replicas, comes from the store, not from memory: an
 * incident row per downtime (unique cloud + host + down-since, and at most one active per host), and
 * each Slack post behind a compare-and-set claim with a lease (the row's `posting`/`recovering` state
 * is the intent, the card's ts or `resolved` the result). Hosts under the bot's own maintenance (a
 * `host:` lock held, or disabled with the reason of the bot's drain) and services already forced down
 * raise nothing.
 *
 * It runs on the main thread (it needs the store and the Slack client); `tick()` is the whole job,
 * driven by a timer in compose/build-bot.ts (or a bree ticker once there is one).
 */
import type { Clock } from '../core/clock.js';
import { ACTIVE_INCIDENT_STATES, type IncidentRecord, type JsonObject, type Store } from '../store/store.js';

// ─────────────── what the watcher reads of a cloud (adapters/openstack's RestCloud fits) ───────────────

export interface WatchedService {
  host: string;
  binary: string;
  zone?: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  disabledReason: string | null;
  forcedDown: boolean;
  updatedAt: string | null;
}

export interface WatchedServer {
  id: string;
  name: string;
  status: string;
}

/** Placement: per resource class, what the provider can hold and what its consumers use. */
export interface WatchedCapacity {
  capacity: Record<string, number>;
  used: Record<string, number>;
}

export interface WatchedCloud {
  /** The cloud's key in the configuration. */
  name: string;
  /** The bot's commands act on this cloud, so the card may offer the evacuate button. */
  commandable: boolean;
  listComputeServices(filter: { binary: string }): Promise<WatchedService[]>;
  listServersOnHost(filter: { host: string }): Promise<WatchedServer[]>;
  getHostCapacity(host: string): Promise<WatchedCapacity | undefined>;
}

// ─────────────── what the watcher says (bot/ renders and posts it) ───────────────

export interface IncidentCard {
  incidentId: string;
  cloud: string;
  host: string;
  binary: string;
  zone: string | null;
  /** Nova's updated_at when first seen down: its last report. */
  downSince: string;
  /** When this bot first saw it down (epoch ms). */
  seenDownAt: number;
  instances: WatchedServer[];
  /** The proposed target, or null when no host is enabled and up. */
  target: string | null;
  /** How the target was chosen, one line per candidate, best first. */
  ranking: string[];
  /** The text after `/node`: the evacuate command the button asks for (null without a target). */
  command: string | null;
  /** The card offers the button (the commands act on this cloud and there is a target). */
  button: boolean;
  warnings: string[];
  /** Posted again by another replica after the one posting it stopped (an earlier copy may exist). */
  again: boolean;
}

export interface IncidentRecovery {
  incidentId: string;
  cloud: string;
  host: string;
  binary: string;
  downSince: string;
  /** Nova's updated_at of the report that brought it back. */
  upSince: string | null;
  /** From the first sighting down to the sighting up (or to the tick that found the service gone). */
  downForMs: number;
  /** Nova no longer lists the service (it was deleted): the incident closes without its coming back. */
  gone?: boolean;
}

/** Posts to Slack; throws when the post failed (the claim is then given back and tried again). */
export interface IncidentPoster {
  /** The card, top level in `channel`; resolves with its ts. */
  postCard(channel: string, card: IncidentCard): Promise<string>;
  /** The follow-up, in the card's thread. */
  postRecovery(channel: string, cardTs: string, r: IncidentRecovery): Promise<void>;
}

// ─────────────── the decision (pure) ───────────────

export type Decision =
  /** First sighting down: record the incident (pending). */
  | { kind: 'open'; service: WatchedService }
  /** Down past the grace period (or a posting whose replica stopped): post the card. */
  | { kind: 'post'; incident: IncidentRecord; service: WatchedService | undefined; takeover: boolean }
  /** Back up before the grace period ended: no card at all. */
  | { kind: 'clear'; incident: IncidentRecord }
  /** Back up after its card: the follow-up in the thread. */
  | { kind: 'recover'; incident: IncidentRecord; service: WatchedService; takeover: boolean }
  /**
   * Nova no longer lists the service (deleted, e.g. a host taken out for good): nothing will come
   * back to follow up, so the incident closes — quietly before its card, with a follow-up after it.
   */
  | { kind: 'gone'; incident: IncidentRecord; takeover: boolean }
  /** Down, but nothing to do now, and why. */
  | { kind: 'skip'; host: string; why: string };

export interface DecideInput {
  services: readonly WatchedService[];
  /** The cloud's active incidents (pending, posting, open, recovering). */
  active: readonly IncidentRecord[];
  /** Why a down host is under the bot's maintenance, by host (absent: it is not). */
  maintenance: ReadonlyMap<string, string>;
  now: number;
  graceMs: number;
}

const leaseEnded = (i: IncidentRecord, now: number) => i.leaseUntil === null || i.leaseUntil <= now;

/** What to do with each nova-compute service of one cloud this tick. */
export function decide(input: DecideInput): Decision[] {
  const out: Decision[] = [];
  const byHost = new Map(input.active.map((i) => [i.host, i]));
  for (const s of input.services) {
    const inc = byHost.get(s.host);
    byHost.delete(s.host);
    const up = s.state === 'up' && !s.forcedDown;
    if (inc?.state === 'posting') {
      // Another replica is posting its card; after its lease, this one posts it (again).
      if (leaseEnded(inc, input.now)) out.push({ kind: 'post', incident: inc, service: s, takeover: true });
      continue;
    }
    if (inc?.state === 'recovering') {
      if (leaseEnded(inc, input.now)) out.push({ kind: 'recover', incident: inc, service: s, takeover: true });
      continue;
    }
    if (up) {
      if (inc?.state === 'pending') out.push({ kind: 'clear', incident: inc });
      else if (inc?.state === 'open') out.push({ kind: 'recover', incident: inc, service: s, takeover: false });
      continue;
    }
    // down
    if (inc?.state === 'open') continue; // its card is out: nothing until it comes back
    const why = s.forcedDown ? `${s.host} is forced down (an operator or an evacuation declared it dead)` : input.maintenance.get(s.host);
    if (why) {
      out.push({ kind: 'skip', host: s.host, why });
      continue;
    }
    if (!inc) {
      out.push({ kind: 'open', service: s });
      continue;
    }
    const waited = input.now - inc.firstSeenAt;
    if (waited >= input.graceMs) out.push({ kind: 'post', incident: inc, service: s, takeover: false });
    else out.push({ kind: 'skip', host: s.host, why: `down for ${Math.round(waited / 1000)} s of the ${Math.round(input.graceMs / 1000)} s grace period` });
  }
  // Active incidents of a service Nova no longer lists: a posting left behind is still finished (its
  // card then closes on a later tick); the others are closed as gone. An answer without any service at
  // all says nothing about one host (a cloud does not lose every compute service at once): no decision.
  for (const inc of byHost.values()) {
    if (inc.state === 'posting') {
      if (leaseEnded(inc, input.now)) out.push({ kind: 'post', incident: inc, service: undefined, takeover: true });
    } else if (input.services.length === 0) {
      out.push({ kind: 'skip', host: inc.host, why: 'Nova listed no nova-compute service at all: not taken as this one being deleted' });
    } else if (inc.state === 'pending' || inc.state === 'open') {
      out.push({ kind: 'gone', incident: inc, takeover: false });
    } else if (inc.state === 'recovering' && leaseEnded(inc, input.now)) {
      out.push({ kind: 'gone', incident: inc, takeover: true });
    }
  }
  return out;
}

// ─────────────── choosing the evacuation target (pure) ───────────────

export interface TargetCandidate {
  host: string;
  zone?: string;
  capacity: WatchedCapacity | undefined;
}

export interface TargetChoice {
  target: string | null;
  fits: boolean;
  ranking: string[];
  warnings: string[];
}

const RANKED = ['MEMORY_MB', 'VCPU', 'DISK_GB'] as const;

/**
 * The up host with room for everything the dead host held (its provider's usages), the same
 * availability zone first, then the most free memory, then vCPUs, then the name. When none has room
 * for everything, the roomiest one, with a warning.
 */
export function chooseTarget(down: { host: string; zone?: string }, need: Record<string, number>, candidates: readonly TargetCandidate[]): TargetChoice {
  const wanted = Object.entries(need).filter(([, v]) => v > 0);
  const rows = candidates.map((c) => {
    const free: Record<string, number> = {};
    for (const rc of new Set([...RANKED, ...wanted.map(([k]) => k)])) free[rc] = (c.capacity?.capacity[rc] ?? 0) - (c.capacity?.used[rc] ?? 0);
    const short = wanted.filter(([rc, v]) => free[rc]! < v).map(([rc, v]) => `${rc} ${free[rc]} free of ${v} needed`);
    return { c, free, short, fits: c.capacity !== undefined && short.length === 0, sameZone: (c.zone ?? null) === (down.zone ?? null) };
  });
  rows.sort(
    (a, b) =>
      Number(b.fits) - Number(a.fits) ||
      Number(b.sameZone) - Number(a.sameZone) ||
      b.free.MEMORY_MB! - a.free.MEMORY_MB! ||
      b.free.VCPU! - a.free.VCPU! ||
      a.c.host.localeCompare(b.c.host),
  );
  const ranking = rows.map(
    (r) =>
      `${r.c.host}${r.c.zone ? ` (${r.c.zone})` : ''}: ${
        r.c.capacity ? RANKED.map((rc) => `${rc} ${r.free[rc]} free`).join(', ') : 'Placement has no resource provider of that name'
      }${r.fits ? '' : r.short.length ? ` — too small: ${r.short.join(', ')}` : ''}`,
  );
  const best = rows[0];
  const warnings: string[] = [];
  if (!best) warnings.push(`No other nova-compute host is enabled and up: there is nowhere to evacuate ${down.host} to.`);
  else if (!best.fits) warnings.push(`No enabled host that is up has room for everything ${down.host} held; the plan names the roomiest one, ${best.c.host}.`);
  else if (!best.sameZone)
    warnings.push(
      `${best.c.host} is in another availability zone (${best.c.zone ?? 'none'}) than ${down.host} (${down.zone ?? 'none'}): no host of its zone has room.`,
    );
  return { target: best?.c.host ?? null, fits: best?.fits ?? false, ranking, warnings };
}

/** The `/node` text of the proposed evacuation (parsed again by the grammar when the button is clicked). */
export function evacuateCommand(host: string, target: string, incidentId: string, downSince: string): string {
  const since = downSince ? ` since ${downSince.replace(/[^0-9A-Za-z:.-]/g, '')}` : '';
  return `evacuate ${host} ${target} reason="nova-compute down${since}, watcher incident ${incidentId}"`;
}

// ─────────────── the job ───────────────

export interface ComputeWatcherOptions {
  store: Pick<Store, 'createIncident' | 'listIncidents' | 'updateIncident' | 'getLock' | 'listOperations' | 'appendAudit'>;
  clouds: readonly WatchedCloud[];
  poster: IncidentPoster;
  channel: string;
  graceMs: number;
  /** How long a replica's claim on a post lasts before another takes it over (default 60 s). */
  leaseMs?: number;
  /** This replica (as the engine's owner). */
  owner: string;
  clock: Clock;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** What one tick did, for logs and tests. */
export interface TickReport {
  opened: string[];
  posted: string[];
  cleared: string[];
  recovered: string[];
  /** Incidents closed because Nova no longer lists their service. */
  gone: string[];
  skipped: { host: string; why: string }[];
  errors: { cloud: string; message: string }[];
}

const BINARY = 'nova-compute';

export class ComputeWatcher {
  private readonly leaseMs: number;
  private running: Promise<TickReport> | undefined;
  private stopped = false;

  constructor(private readonly o: ComputeWatcherOptions) {
    this.leaseMs = o.leaseMs ?? 60_000;
  }

  /** One round over every cloud. Never throws; a tick still running when the next is due is not doubled. */
  tick(): Promise<TickReport> {
    if (this.running) return this.running;
    if (this.stopped) return Promise.resolve({ opened: [], posted: [], cleared: [], recovered: [], gone: [], skipped: [], errors: [] });
    this.running = this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  /** No tick starts any more; resolves when the one running (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  private async round(): Promise<TickReport> {
    const report: TickReport = { opened: [], posted: [], cleared: [], recovered: [], gone: [], skipped: [], errors: [] };
    for (const cloud of this.o.clouds) {
      try {
        await this.watchCloud(cloud, report);
      } catch (e) {
        report.errors.push({ cloud: cloud.name, message: (e as Error).message });
        this.o.log?.('warn', 'watcher: could not read the compute services', { cloud: cloud.name, err: (e as Error).message });
      }
    }
    return report;
  }

  private async watchCloud(cloud: WatchedCloud, report: TickReport): Promise<void> {
    const services = (await cloud.listComputeServices({ binary: BINARY })).filter((s) => s.binary === BINARY);
    const active = await this.o.store.listIncidents({ cloud: cloud.name, states: ACTIVE_INCIDENT_STATES, limit: 1000 });
    const maintenance = new Map<string, string>();
    for (const s of services) {
      if (s.state !== 'down' || s.forcedDown) continue;
      const why = await this.maintenanceOf(s);
      if (why) maintenance.set(s.host, why);
    }
    let decisions = decide({ services, active, maintenance, now: this.o.clock.now(), graceMs: this.o.graceMs });
    // A host first seen down this tick is posted in the same tick when there is no grace period.
    const opened: IncidentRecord[] = [];
    for (const d of decisions) {
      if (d.kind !== 'open') continue;
      const inc = await this.o.store.createIncident({
        cloud: cloud.name,
        host: d.service.host,
        binary: d.service.binary,
        downSince: d.service.updatedAt ?? '',
        channelId: this.o.channel,
        detail: { zone: d.service.zone ?? null },
      });
      if (!inc) continue; // another replica recorded it first
      opened.push(inc);
      report.opened.push(inc.id);
      await this.o.store.appendAudit({
        actor: `bot:${this.o.owner}`,
        kind: 'incident.seen-down',
        payload: { incident: inc.id, cloud: cloud.name, host: inc.host, downSince: inc.downSince },
      });
    }
    if (opened.length && this.o.graceMs <= 0) {
      const again = decide({ services, active: opened, maintenance, now: this.o.clock.now(), graceMs: this.o.graceMs });
      decisions = [...decisions.filter((d) => d.kind !== 'open'), ...again];
    }
    for (const d of decisions) {
      try {
        if (d.kind === 'skip') report.skipped.push({ host: d.host, why: d.why });
        else if (d.kind === 'clear') {
          if (
            await this.o.store.updateIncident(
              d.incident.id,
              { state: 'cleared', resolvedAt: this.o.clock.now() },
              { state: 'pending', version: d.incident.version },
            )
          )
            report.cleared.push(d.incident.id);
        } else if (d.kind === 'post') {
          if (await this.post(cloud, d.incident, d.service, services, d.takeover)) report.posted.push(d.incident.id);
        } else if (d.kind === 'recover') {
          if (await this.recover(d.incident, d.service, d.takeover)) report.recovered.push(d.incident.id);
        } else if (d.kind === 'gone') {
          if (await this.gone(d.incident, d.takeover)) report.gone.push(d.incident.id);
        }
      } catch (e) {
        const host = d.kind === 'skip' || d.kind === 'open' ? '' : d.incident.host;
        report.errors.push({ cloud: cloud.name, message: `${host}: ${(e as Error).message}` });
        this.o.log?.('error', 'watcher: incident step failed', { cloud: cloud.name, host, kind: d.kind, err: (e as Error).message });
      }
    }
  }

  /** Why a down service is the bot's own maintenance: a host lock held, or disabled by the bot's drain. */
  private async maintenanceOf(s: WatchedService): Promise<string | undefined> {
    const lock = await this.o.store.getLock(`host:${s.host}`);
    if (lock) return `${s.host} is locked by operation ${lock.operationId} (the bot is working on it)`;
    if (s.status !== 'disabled') return undefined;
    const [drain] = await this.o.store.listOperations({
      runbook: 'node.drain',
      target: s.host,
      states: ['succeeded', 'failed', 'aborted', 'running', 'paused', 'in_doubt'],
      limit: 1,
    });
    const reason = (drain?.plan as { args?: { reason?: unknown } } | undefined)?.args?.reason;
    if (drain && typeof reason === 'string' && reason === s.disabledReason)
      return `${s.host} was drained by the bot (operation ${drain.id}, reason "${reason}")`;
    return undefined;
  }

  private async post(
    cloud: WatchedCloud,
    incident: IncidentRecord,
    service: WatchedService | undefined,
    services: readonly WatchedService[],
    takeover: boolean,
  ): Promise<boolean> {
    const now = this.o.clock.now();
    const claimed = await this.o.store.updateIncident(
      incident.id,
      { state: 'posting', owner: this.o.owner, leaseUntil: now + this.leaseMs },
      takeover ? { state: 'posting', claimableBy: this.o.owner, version: incident.version } : { state: 'pending', version: incident.version },
    );
    if (!claimed) return false; // another replica claimed it first
    const card = await this.cardOf(cloud, claimed, service, services, takeover);
    await this.o.store.appendAudit({
      actor: `bot:${this.o.owner}`,
      kind: 'incident.card.intent',
      payload: { incident: claimed.id, cloud: cloud.name, host: claimed.host, channel: claimed.channelId, again: takeover, command: card.command },
    });
    let ts: string;
    try {
      ts = await this.o.poster.postCard(claimed.channelId, card);
    } catch (e) {
      // Slack refused: nothing was posted; give the claim back so the next tick tries again.
      await this.o.store.updateIncident(claimed.id, { state: takeover ? 'posting' : 'pending', owner: null, leaseUntil: null }, { version: claimed.version });
      await this.o.store.appendAudit({
        actor: `bot:${this.o.owner}`,
        kind: 'incident.card.failed',
        payload: { incident: claimed.id, error: (e as Error).message.slice(0, 500) },
      });
      throw e;
    }
    const detail: JsonObject = {
      ...claimed.detail,
      instances: card.instances.map((i) => ({ id: i.id, name: i.name, status: i.status })),
      target: card.target,
      command: card.command,
      button: card.button,
      ranking: card.ranking,
    };
    await this.o.store.updateIncident(claimed.id, { state: 'open', cardTs: ts, owner: null, leaseUntil: null, detail }, { version: claimed.version });
    await this.o.store.appendAudit({ actor: `bot:${this.o.owner}`, kind: 'incident.card.posted', payload: { incident: claimed.id, ts, target: card.target } });
    this.o.log?.('info', 'watcher: incident card posted', { incident: claimed.id, cloud: cloud.name, host: claimed.host, target: card.target });
    return true;
  }

  private async cardOf(
    cloud: WatchedCloud,
    inc: IncidentRecord,
    service: WatchedService | undefined,
    services: readonly WatchedService[],
    again: boolean,
  ): Promise<IncidentCard> {
    const warnings: string[] = [];
    const instances = await cloud.listServersOnHost({ host: inc.host }).catch((e: unknown) => {
      warnings.push(`Nova's server list for ${inc.host} failed: ${(e as Error).message.slice(0, 200)}`);
      return [] as WatchedServer[];
    });
    const candidates = services.filter((s) => s.host !== inc.host && s.status === 'enabled' && s.state === 'up' && !s.forcedDown);
    const read = async (host: string) =>
      cloud.getHostCapacity(host).catch((e: unknown) => {
        warnings.push(`Placement could not be read for ${host}: ${(e as Error).message.slice(0, 200)}`);
        return undefined;
      });
    const need = (await read(inc.host))?.used ?? {};
    const withCapacity = await Promise.all(candidates.map(async (c) => ({ host: c.host, ...(c.zone ? { zone: c.zone } : {}), capacity: await read(c.host) })));
    const zone = service?.zone ?? (typeof inc.detail.zone === 'string' ? inc.detail.zone : undefined);
    const choice = chooseTarget({ host: inc.host, ...(zone ? { zone } : {}) }, need, withCapacity);
    warnings.push(...choice.warnings);
    if (!cloud.commandable) warnings.push(`The bot's commands act on another cloud than ${cloud.name}: run the evacuation there by hand.`);
    const command = choice.target ? evacuateCommand(inc.host, choice.target, inc.id, inc.downSince) : null;
    return {
      incidentId: inc.id,
      cloud: cloud.name,
      host: inc.host,
      binary: inc.binary,
      zone: zone ?? null,
      downSince: inc.downSince,
      seenDownAt: inc.firstSeenAt,
      instances,
      target: choice.target,
      ranking: choice.ranking,
      command,
      button: cloud.commandable && command !== null,
      warnings,
      again,
    };
  }

  /**
   * The service was deleted from Nova. Before its card (pending): closed without a word. After it: the
   * follow-up says the service is gone, through the same claim as a recovery (one follow-up across replicas).
   */
  private async gone(incident: IncidentRecord, takeover: boolean): Promise<boolean> {
    const now = this.o.clock.now();
    if (incident.state === 'pending') {
      const cleared = await this.o.store.updateIncident(
        incident.id,
        { state: 'cleared', resolvedAt: now, detail: { ...incident.detail, gone: true } },
        { state: 'pending', version: incident.version },
      );
      if (cleared)
        await this.o.store.appendAudit({
          actor: `bot:${this.o.owner}`,
          kind: 'incident.gone',
          payload: { incident: incident.id, host: incident.host, card: false },
        });
      return cleared !== null;
    }
    return this.recover(incident, undefined, takeover);
  }

  /** The follow-up in the card's thread: the service reports again (`service`), or Nova no longer lists it (none). */
  private async recover(incident: IncidentRecord, service: WatchedService | undefined, takeover: boolean): Promise<boolean> {
    const now = this.o.clock.now();
    const claimed = await this.o.store.updateIncident(
      incident.id,
      { state: 'recovering', owner: this.o.owner, leaseUntil: now + this.leaseMs },
      takeover ? { state: 'recovering', claimableBy: this.o.owner, version: incident.version } : { state: 'open', version: incident.version },
    );
    if (!claimed) return false;
    await this.o.store.appendAudit({ actor: `bot:${this.o.owner}`, kind: 'incident.recovery.intent', payload: { incident: claimed.id, again: takeover } });
    if (claimed.cardTs) {
      try {
        await this.o.poster.postRecovery(claimed.channelId, claimed.cardTs, {
          incidentId: claimed.id,
          cloud: claimed.cloud,
          host: claimed.host,
          binary: claimed.binary,
          downSince: claimed.downSince,
          upSince: service?.updatedAt ?? null,
          downForMs: now - claimed.firstSeenAt,
          ...(service ? {} : { gone: true }),
        });
      } catch (e) {
        await this.o.store.updateIncident(claimed.id, { state: takeover ? 'recovering' : 'open', owner: null, leaseUntil: null }, { version: claimed.version });
        throw e;
      }
    }
    await this.o.store.updateIncident(
      claimed.id,
      { state: 'resolved', owner: null, leaseUntil: null, resolvedAt: now, ...(service ? {} : { detail: { ...claimed.detail, gone: true } }) },
      { version: claimed.version },
    );
    await this.o.store.appendAudit({
      actor: `bot:${this.o.owner}`,
      kind: service ? 'incident.recovered' : 'incident.gone',
      payload: { incident: claimed.id, host: claimed.host, ...(service ? {} : { card: true }) },
    });
    this.o.log?.('info', service ? 'watcher: follow-up posted' : 'watcher: follow-up posted (service gone from Nova)', {
      incident: claimed.id,
      host: claimed.host,
    });
    return true;
  }
}
