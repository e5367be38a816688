/**
 * The runbooks' deps from configuration (actions/deps.ts): the default cloud opened with its
 * backend, the SSH shell with the cloud's ssh_config and known_hosts, its node-command preset and
 * migration timeout. No cloud configured → no `node` (the node runbooks then say what to configure).
 */
import { createDbAdapter, type DbAdapter } from '../adapters/db.js';
import { createFence } from '../adapters/fence.js';
import { openCloud } from '../adapters/openstack/open-cloud.js';
import { NovaNotifications } from '../adapters/openstack/nova-notifications.js';
import { RequestBudget } from '../adapters/openstack/request-budget.js';
import { createRemoteShell, nodeCommands } from '../adapters/ssh.js';
import type { NodeDeps } from '../actions/deps.js';
import { storeDrainHistory } from '../actions/steps/drain-history.js';
import { sweepProbes } from '../actions/ip/probe-sweep.js';
import { storeEvacuationHistory } from '../actions/steps/evacuation-history.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { duration } from '../core/values.js';
import type { Config } from '../bot/config.js';

export interface BuiltDeps {
  deps: NodeDeps;
  /** The commands' cloud's request budget, for other readers of that cloud (the compute watcher). */
  budget?: RequestBudget;
  close(): Promise<void>;
}

type CloudConfig = Config['clouds'][string];

/** The cloud the node commands act on: `defaultCloud`, or the only one configured. */
export function selectCloud(config: Pick<Config, 'clouds' | 'defaultCloud' | 'source'>): { name: string; cloud: CloudConfig } | undefined {
  const names = Object.keys(config.clouds);
  const name = config.defaultCloud ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) {
    if (names.length > 1)
      throw new ConfigError(
        [{ path: 'defaultCloud', message: `several clouds are configured (${names.join(', ')}): name the one the commands act on` }],
        config.source,
      );
    return undefined;
  }
  const cloud = config.clouds[name];
  return cloud ? { name, cloud } : undefined;
}

export function buildDeps(
  config: Pick<Config, 'clouds' | 'defaultCloud' | 'source'>,
  clock: Clock,
  store?: Pick<Store, 'listOperations' | 'listJournal'>,
  env: NodeJS.ProcessEnv = process.env,
): BuiltDeps {
  const chosen = selectCloud(config);
  if (!chosen) return { deps: {}, close: async () => undefined };
  const { name, cloud: c } = chosen;
  const timeout = duration.safeParse(c.migrationTimeout);
  if (!timeout.success) throw new ConfigError([{ path: `clouds.${name}.migrationTimeout`, message: 'expected a duration such as 30m or 1h' }], config.source);
  const budget = budgetOf(c);
  const opened = openCloud({ cloud: c.cloud, backend: c.backend, env, budget });
  const events = c.notifications
    ? NovaNotifications.background({
        url: amqpUrl(c.notifications.url, env[c.notifications.passwordEnv]),
        exchange: c.notifications.exchange,
        topic: c.notifications.topic,
      })
    : undefined;
  const timeBox = duration.safeParse(c.inspect.timeBox);
  if (!timeBox.success) throw new ConfigError([{ path: `clouds.${name}.inspect.timeBox`, message: 'expected a duration such as 10m or 90s' }], config.source);
  const shell = createRemoteShell({
    ...(c.ssh.config ? { sshConfigPath: c.ssh.config } : {}),
    ...(c.ssh.knownHosts ? { knownHostsFiles: [c.ssh.knownHosts] } : {}),
    sudo: c.nodeCommands.sudo,
  });
  const { preset, logPath, initFiles, instancesPath } = c.nodeCommands;
  const instancesTemplate = instancesPath ?? (preset === 'lab' ? '/var/lib/nova/instances-{host}' : '/var/lib/nova/instances');
  // The SQL procedures need all four databases; with some missing they say which key to add.
  const dsns = c.db;
  const db: DbAdapter | undefined =
    dsns?.nova && dsns.nova_api && dsns.neutron && dsns.cinder
      ? createDbAdapter({ nova: dsns.nova, nova_api: dsns.nova_api, neutron: dsns.neutron, cinder: dsns.cinder })
      : undefined;
  const fenceTimeout = c.fence ? duration.safeParse(c.fence.timeout) : undefined;
  if (fenceTimeout && !fenceTimeout.success)
    throw new ConfigError([{ path: `clouds.${name}.fence.timeout`, message: 'expected a duration such as 60s' }], config.source);
  const fence =
    c.fence && fenceTimeout?.success ? createFence({ command: c.fence.command, hosts: c.fence.hosts, timeoutMs: fenceTimeout.data }, env) : undefined;
  return {
    budget,
    deps: {
      ...(store ? { history: storeDrainHistory(store), evacuations: storeEvacuationHistory(store) } : {}),
      node: {
        name,
        cloud: opened.cloud,
        shell,
        commands: (host) =>
          nodeCommands({ preset, ...(logPath ? { logPath: logPath.replaceAll('{host}', host) } : {}), ...(initFiles ? { initFiles } : {}) }, host),
        sudo: c.nodeCommands.sudo,
        migrationTimeoutMs: timeout.data,
        polling: c.polling,
        cliPrefix: `OS_CLOUD=${c.cloud} OS_COMPUTE_API_VERSION=2.79`,
        clock,
        ...(events ? { events } : {}),
        inspect: { expose: c.inspect.expose, timeBoxMs: timeBox.data, workDir: c.inspect.workDir },
        ...(c.publicNetwork ? { publicNetwork: c.publicNetwork } : {}),
        ipRecovery: c.ipRecovery,
        instancesPath: (host) => instancesTemplate.replaceAll('{host}', host),
        ...(db ? { db } : {}),
        ...(fence ? { fence } : {}),
      },
    },
    async close() {
      await events?.close();
      await db?.close().catch(() => undefined);
      await shell.close().catch(() => undefined);
      await opened.close().catch(() => undefined);
    },
  };
}

/** A cloud's request budget from its `requestBudget` settings. */
export function budgetOf(c: Pick<CloudConfig, 'requestBudget'>): RequestBudget {
  const { perSecond, burst, services } = c.requestBudget;
  return new RequestBudget({ default: { perSecond, burst }, ...(services ? { services } : {}) });
}

/** The configured AMQP URL with the password from the environment put in (the file never holds it). */
export function amqpUrl(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

/** What runs once at start-up before operations resume: /ip recover's probe ports of a killed process. */
export function startupSweeps(deps: NodeDeps, store: Pick<Store, 'getOperation' | 'clock'>, owner: string): { name: string; run(): Promise<unknown> }[] {
  const node = deps.node;
  return node ? [{ name: 'ip-probes', run: () => sweepProbes(node.cloud, store, owner) }] : [];
}
