/**
 * The per-cloud fence command (STONITH): an argv template such as
 * `[ipmitool, -I, lanplus, -H, "{bmc}", -U, admin, -E, chassis, power, off]`, its placeholders
 * filled from `{host}` and the host's own variables (`hosts.c01.bmc`), run by execa without a
 * shell. Only configuration fills the template: chat text reaches it only as a host name that
 * zod and Nova's service list have already accepted. Secrets come from the environment (ipmitool -E).
 */
import { execa } from 'execa';
import { ChatOpsError } from '../core/errors.js';

/** The `fence` key of a cloud (bot/config.ts). */
export interface FenceSettings {
  command: readonly string[];
  timeoutMs: number;
  /** Per-host template variables, e.g. { c01: { bmc: '10.0.0.101' } }. */
  hosts: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** What one fence run did; the runbook posts it in the thread and journals it. */
export interface FenceResult {
  argv: string[];
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** The last 1,000 characters of stdout and stderr, interleaved as printed. */
  output: string;
}

export interface Fence {
  /** The argv that fences `host`; refuses (INPUT_INVALID-like config error) when a variable is missing. */
  argvFor(host: string): string[];
  run(host: string, signal?: AbortSignal): Promise<FenceResult>;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function createFence(s: FenceSettings, env: NodeJS.ProcessEnv = process.env): Fence {
  const argvFor = (host: string): string[] => {
    const vars: Record<string, string> = { ...(s.hosts[host] ?? {}), host };
    return s.command.map((part) =>
      part.replace(PLACEHOLDER, (_, name: string) => {
        const v = vars[name];
        if (v === undefined) {
          throw new ChatOpsError(
            'CONFIG_INVALID',
            `the fence command needs {${name}} for ${host}: add fence.hosts.${host}.${name} to the cloud's configuration`,
            {
              details: { key: `fence.hosts.${host}.${name}` },
            },
          );
        }
        return v;
      }),
    );
  };
  return {
    argvFor,
    async run(host, signal) {
      const argv = argvFor(host);
      const [file, ...args] = argv as [string, ...string[]];
      const t0 = Date.now();
      const r = await execa(file, args, { reject: false, all: true, timeout: s.timeoutMs, env, stdin: 'ignore', ...(signal ? { cancelSignal: signal } : {}) });
      const all = String(r.all ?? '');
      return { argv, exitCode: r.exitCode ?? null, timedOut: r.timedOut, durationMs: Date.now() - t0, output: all.slice(-1000) };
    },
  };
}
