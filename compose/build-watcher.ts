/**
 * The compute watcher from configuration (`watcher:`, docs/watcher.md): one REST reader per watched
 * cloud — REST whatever the commands' backend, sharing the commands' cloud's request budget — the
 * store, and the Slack poster once the client exists. buildBot drives its tick.
 */
import type { WebClient } from '@slack/web-api';
import { loadCloudConfig } from '../adapters/openstack/cloud-config.js';
import type { RequestBudget } from '../adapters/openstack/request-budget.js';
import { RestCloud } from '../adapters/openstack/rest-cloud.js';
import type { Config } from '../bot/config.js';
import { slackIncidentPoster } from '../bot/incident-poster.js';
import type { Clock } from '../core/clock.js';
import { ComputeWatcher, type ComputeWatcherOptions, type WatchedCloud } from '../jobs/compute-watcher.js';
import { budgetOf, selectCloud } from './build-deps.js';

/** What buildBot needs to run a watcher: built once the Slack client exists. */
export interface WatcherJob {
  intervalMs: number;
  tick(): Promise<unknown>;
  /** No tick starts any more; resolves when the one running has finished. */
  stop(): Promise<void>;
}

export type WatcherFactory = (client: WebClient) => WatcherJob;

export interface BuiltWatcher {
  factory: WatcherFactory;
  close(): Promise<void>;
}

/** Undefined when `watcher:` is absent. `budget` is the commands' cloud's (BuiltDeps.budget). */
export function buildWatcher(
  config: Pick<Config, 'watcher' | 'clouds' | 'defaultCloud' | 'source'>,
  o: {
    clock: Clock;
    store: ComputeWatcherOptions['store'];
    owner: string;
    budget?: RequestBudget;
    env?: NodeJS.ProcessEnv;
    log?: ComputeWatcherOptions['log'];
  },
): BuiltWatcher | undefined {
  const w = config.watcher;
  if (!w) return undefined;
  const commands = selectCloud(config)?.name;
  const names = w.clouds ?? (commands ? [commands] : []);
  const opened = names.map((name) => {
    const c = config.clouds[name]!;
    const budget = name === commands && o.budget ? o.budget : budgetOf(c);
    const cloud = new RestCloud(loadCloudConfig({ cloud: c.cloud, env: o.env ?? process.env }), { budget });
    return { name, cloud };
  });
  return {
    factory: watcherOver(
      opened.map(({ name, cloud }) => ({ name, cloud, commandable: name === commands })),
      {
        store: o.store,
        channel: w.channel,
        graceMs: w.grace,
        intervalMs: w.interval,
        // a replica that stopped while posting is taken over after this long
        leaseMs: Math.max(60_000, 2 * w.interval),
        owner: o.owner,
        clock: o.clock,
        ...(o.log ? { log: o.log } : {}),
      },
    ),
    async close() {
      await Promise.all(opened.map(({ cloud }) => cloud.close().catch(() => undefined)));
    },
  };
}

/** For tests and the lab: a watcher over already opened REST clouds. */
export function watcherOver(
  clouds: readonly { name: string; cloud: RestCloud; commandable: boolean }[],
  o: Omit<ComputeWatcherOptions, 'clouds' | 'poster'> & { intervalMs: number },
): WatcherFactory {
  const watched: WatchedCloud[] = clouds.map(({ name, cloud, commandable }) => ({
    name,
    commandable,
    listComputeServices: (f) => cloud.listComputeServices(f),
    listServersOnHost: (f) => cloud.listServersOnHost(f),
    getHostCapacity: (host) => cloud.getHostCapacity(host),
  }));
  return (client) => {
    const watcher = new ComputeWatcher({ ...o, clouds: watched, poster: slackIncidentPoster(client) });
    return { intervalMs: o.intervalMs, tick: () => watcher.tick(), stop: () => watcher.stop() };
  };
}
