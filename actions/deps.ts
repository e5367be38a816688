/**
 * What the node runbooks (drain, undrain, status, list) get from the composition root: the cloud,
 * the SSH shell to its compute nodes, how to run nova-compute there (the preset) and the cloud's
 * settings. bot/build-deps.ts builds it from configuration; tests build it from the lab or a fake wire.
 */
import type { DbAdapter } from '../adapters/db.js';
import type { Fence } from '../adapters/fence.js';
import type { Cloud } from '../adapters/openstack/cloud.js';
import type { NovaEventSource } from '../adapters/openstack/nova-notifications.js';
import type { NodeCommands, RemoteShell } from '../adapters/ssh.js';
import type { Clock } from '../core/clock.js';
import { ChatOpsError } from '../core/errors.js';
import type { HostName } from '../core/values.js';
import type { DrainHistory } from './steps/drain-history.js';
import type { EvacuationHistory } from './steps/evacuation-history.js';
import type { PollSchedule } from './steps/nova-observer.js';

/** One cloud as the node runbooks see it. */
export interface CloudDeps {
  /** The key of the cloud in the bot's configuration (`clouds.<name>`). */
  name: string;
  cloud: Cloud;
  shell: RemoteShell;
  /** nova-compute's commands on `host` from the cloud's preset (fixed templates, see adapters/ssh). */
  commands(host: HostName): NodeCommands;
  /** Node commands through `sudo -n`. */
  sudo: boolean;
  /** A migration still running after this long is aborted and reported. */
  migrationTimeoutMs: number;
  /** The longest wait between two polls of a running migration (default 2 s; the first polls come sooner, see pollDelay). */
  pollIntervalMs?: number;
  /** How often an operation's moves are read, one batched read a tick (`clouds.<name>.polling`; default DEFAULT_POLL_SCHEDULE). */
  polling?: PollSchedule;
  /** The `openstack` global options shown in equivalent commands, e.g. `--os-cloud lab`. */
  cliPrefix?: string;
  clock: Clock;
  /** Nova's notifications, where the cloud's bus is configured: moves are woken by them instead of polling. */
  events?: NovaEventSource;
  /** /instance inspect: how disks are exposed, the time box, the node's work directory (defaults when absent). */
  inspect?: InspectSettings;
  /** Nova's instances_path on `host` (where the guests' directories and `_base/` are). */
  instancesPath?(host: HostName): string;
  /** The nova/neutron/cinder databases (`clouds.<name>.db`); evacuate method=db needs them. */
  db?: DbAdapter;
  /** The cloud's fence command (`clouds.<name>.fence`), run before an evacuation moves anything. */
  fence?: Fence;
  /** The network the /ip commands use when none is named (`publicNetwork` in the configuration). */
  publicNetwork?: string;
  /** /ip recover's probe fallback: ports per bulk request and the most rounds (`ipRecovery`). */
  ipRecovery?: { probeBatch: number; maxRounds: number };
}

/** The cloud's `inspect:` settings (bot/config.ts). */
export interface InspectSettings {
  expose: 'auto' | 'nbd' | 'fuse';
  timeBoxMs: number;
  workDir: string;
}

/** The deps object the composition root hands to every runbook; `node` is absent without a cloud. */
export interface NodeDeps {
  node?: CloudDeps;
  /** Where drained instances went (the bot's journal); undrain migrate-back needs it. */
  history?: DrainHistory;
  /** Which evacuations left a host (the bot's journal); undrain keeps such a host fenced until it is clean. */
  evacuations?: EvacuationHistory;
}

/** The cloud, or a clear refusal naming the configuration key that is missing. */
export function cloudOf(deps: unknown): CloudDeps {
  const node = (deps as NodeDeps | undefined)?.node;
  if (!node) {
    throw new ChatOpsError(
      'CONFIG_INVALID',
      'no cloud is configured: add a `clouds:` entry and `defaultCloud` to the configuration (see chatops.example.yaml, or lab/chatops.lab.yaml for the lab)',
      {
        details: { key: 'clouds' },
      },
    );
  }
  return node;
}
