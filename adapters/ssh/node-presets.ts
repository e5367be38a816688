/**
 * Per-cloud commands for a compute node's nova-compute: stop, start, status, where its log is,
 * which init files keep it coming back (moved aside during maintenance), and the AMQP check.
 * Presets: systemd, upstart (the chapter's `stop nova-compute`), sysvinit, docker and podman
 * (kolla's `nova_compute` container) and the project's lab.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import type { HostName } from '../../core/values.js';
import { AMQP_CONNECTED } from './nova-log.js';
import { arg, template, type RemoteCommand } from './shell-quote.js';

export const PRESET_NAMES = ['systemd', 'upstart', 'sysvinit', 'docker', 'podman', 'lab'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** The per-cloud setting (YAML `nodes:`); everything but `preset` has the preset's default. */
export const nodePresetSettings = z.object({
  preset: z.enum(PRESET_NAMES),
  /** Service / unit / upstart job name (default nova-compute). */
  service: z.string().optional(),
  /** Container name for docker/podman (default nova_compute). */
  container: z.string().optional(),
  /** Log file on the node (systemd/upstart/sysvinit: /var/log/nova/nova-compute.log). */
  logPath: z.string().optional(),
  /** systemd only: read the journal instead of a log file. */
  journal: z.boolean().optional(),
  /** Files to move aside so configuration management can't restart the service. */
  initFiles: z.array(z.string()).optional(),
});
export type NodePresetSettings = z.input<typeof nodePresetSettings>;

/** How to read a status command's result. */
export interface StatusCheck {
  command: RemoteCommand;
  /** Exit codes that are answers, not failures (e.g. LSB 3 = stopped). */
  okExitCodes: readonly number[];
  isRunning(result: { exitCode: number | null; stdout: string }): boolean;
}

/** Everything the runbooks run on one node, all built from fixed templates. */
export interface NodeCommands {
  preset: PresetName;
  host: HostName;
  stop: RemoteCommand;
  start: RemoteCommand;
  status: StatusCheck;
  /** Where nova-compute logs, or undefined when it logs to the journal. */
  logPath: string | undefined;
  /** The last `lines` lines of the log (the runbook's `tail /var/log/nova/nova-compute.log`). */
  logTail(lines?: number): RemoteCommand;
  /**
   * The last `lines` "(Re)connected to AMQP server on" lines; read them with amqpConnectedSince().
   * On Zed the first connection is logged at DEBUG only: without `debug = True` on the node an
   * empty answer does not mean "not connected" (check the service's state in Nova as well).
   */
  amqpLines(lines?: number): RemoteCommand;
  /** Files that bring the service back (upstart job, init script, unit); may not all exist. */
  initFiles: readonly string[];
  /** Run after moving init files (systemd must reload its units); undefined when nothing is needed. */
  afterInitFilesMoved: RemoteCommand | undefined;
}

/** Check whether a file exists: exit 0 yes, 1 no. */
export function fileExists(path: string): { command: RemoteCommand; okExitCodes: readonly number[] } {
  return { command: template('test -e {path}', { path: arg.path(path) }), okExitCodes: [0, 1] };
}

/**
 * Move a file or directory to `dst` in one rename that never replaces anything: `mv -T -n` (GNU mv
 * renames with RENAME_NOREPLACE, so a destination that appears at the last moment is not overwritten,
 * and -T never moves a directory into an existing one). Exit 17 when `dst` exists (the source stays);
 * mv's own status when it failed otherwise.
 */
export function moveFile(src: string, dst: string): RemoteCommand {
  return template(
    'mkdir -p -- {dir} || exit; mv -T -n -- {src} {dst}; s=$?; if [ -e {src} ] || [ -L {src} ]; then if [ -e {dst} ] || [ -L {dst} ]; then echo refusing to overwrite {dst} >&2; exit 17; fi; if [ $s -ne 0 ]; then exit $s; fi; exit 1; fi; exit $s',
    {
      src: arg.path(src),
      dst: arg.path(dst),
      dir: arg.path(posix.dirname(dst)),
    },
  );
}

function fileLog(log: string) {
  const path = arg.path(log);
  return {
    logPath: log,
    logTail: (n = 50) => template('tail -n {n} -- {log}', { n: arg.int(n), log: path }),
    // Exit 2 when the log can't be read, so "no match" (empty, exit 0) is never confused with it.
    amqpLines: (n = 20) =>
      template('if [ -r {log} ]; then grep -F -i -e {pattern} -- {log} | tail -n {n}; else echo cannot read {log} >&2; exit 2; fi', {
        log: path,
        pattern: arg.pattern(AMQP_CONNECTED),
        n: arg.int(n),
      }),
  };
}

const lsbStatus = (command: RemoteCommand): StatusCheck => ({ command, okExitCodes: [0, 1, 2, 3], isRunning: (r) => r.exitCode === 0 });

const containerStatus = (command: RemoteCommand): StatusCheck => ({
  command,
  okExitCodes: [0],
  isRunning: (r) => {
    try {
      const j = JSON.parse(r.stdout) as Array<{ State?: { Running?: boolean } }>;
      return j[0]?.State?.Running === true;
    } catch {
      return false;
    }
  },
});

/** Build the commands for `host` from a cloud's preset setting. */
export function nodeCommands(settings: NodePresetSettings, host: HostName): NodeCommands {
  const s = nodePresetSettings.parse(settings);
  const unit = arg.unit(s.service ?? 'nova-compute');
  const h = arg.host(host);
  switch (s.preset) {
    case 'systemd': {
      const logs = s.journal
        ? {
            logPath: undefined,
            logTail: (n = 50) => template('journalctl --no-pager -o short-iso -n {n} -u {unit}', { n: arg.int(n), unit }),
            amqpLines: (n = 20) =>
              template('journalctl --no-pager -o short-iso -u {unit} | grep -F -i -e {pattern} | tail -n {n}', {
                unit,
                pattern: arg.pattern(AMQP_CONNECTED),
                n: arg.int(n),
              }),
          }
        : fileLog(s.logPath ?? '/var/log/nova/nova-compute.log');
      return {
        preset: s.preset,
        host,
        stop: template('systemctl stop {unit}', { unit }),
        start: template('systemctl start {unit}', { unit }),
        // is-active: 0 active; 3 inactive/failed; 4 no such unit (a failure, on purpose).
        status: { command: template('systemctl is-active {unit}', { unit }), okExitCodes: [0, 3], isRunning: (r) => r.exitCode === 0 },
        ...logs,
        initFiles: s.initFiles ?? ['/etc/systemd/system/nova-compute.service', '/lib/systemd/system/nova-compute.service', '/etc/init.d/nova-compute'],
        afterInitFilesMoved: template('systemctl daemon-reload', {}),
      };
    }
    case 'upstart':
      return {
        preset: s.preset,
        host,
        stop: template('stop {unit}', { unit }),
        start: template('start {unit}', { unit }),
        // "nova-compute start/running, process 1234" vs "nova-compute stop/waiting".
        status: { command: template('status {unit}', { unit }), okExitCodes: [0], isRunning: (r) => /\bstart\/running\b/.test(r.stdout) },
        ...fileLog(s.logPath ?? '/var/log/nova/nova-compute.log'),
        initFiles: s.initFiles ?? ['/etc/init/nova-compute.conf', '/etc/init.d/nova-compute'],
        afterInitFilesMoved: undefined,
      };
    case 'sysvinit':
      return {
        preset: s.preset,
        host,
        stop: template('service {unit} stop', { unit }),
        start: template('service {unit} start', { unit }),
        status: lsbStatus(template('service {unit} status', { unit })),
        ...fileLog(s.logPath ?? '/var/log/nova/nova-compute.log'),
        initFiles: s.initFiles ?? ['/etc/init.d/nova-compute'],
        afterInitFilesMoved: undefined,
      };
    case 'docker':
    case 'podman': {
      const c = arg.container(s.container ?? 'nova_compute');
      const docker = s.preset === 'docker';
      return {
        preset: s.preset,
        host,
        stop: docker ? template('docker stop {c}', { c }) : template('podman stop {c}', { c }),
        start: docker ? template('docker start {c}', { c }) : template('podman start {c}', { c }),
        status: containerStatus(docker ? template('docker inspect --type container {c}', { c }) : template('podman inspect --type container {c}', { c })),
        ...fileLog(s.logPath ?? '/var/log/kolla/nova/nova-compute.log'),
        // The container's restart policy, not a file, brings it back; kolla deployments differ.
        initFiles: s.initFiles ?? [],
        afterInitFilesMoved: undefined,
      };
    }
    case 'lab':
      return {
        preset: s.preset,
        host,
        stop: template('/usr/local/sbin/lab-nova-compute stop {h}', { h }),
        start: template('/usr/local/sbin/lab-nova-compute start {h}', { h }),
        // LSB codes: 0 running, 3 stopped.
        status: { command: template('/usr/local/sbin/lab-nova-compute status {h}', { h }), okExitCodes: [0, 3], isRunning: (r) => r.exitCode === 0 },
        ...fileLog(s.logPath ?? `/var/log/nova/nova-compute-${host}.log`),
        initFiles: s.initFiles ?? [],
        afterInitFilesMoved: undefined,
      };
  }
}
