/**
 * SSH to compute nodes: one interface (RemoteShell), one implementation on ssh2 configured the
 * OpenSSH way (ssh_config + known_hosts, agent, IdentityFile, ProxyJump). One connection per
 * host is kept and reused; a dead one is replaced on the next command. Commands come only from
 * fixed templates (./ssh/shell-quote.ts) or the node presets (./ssh/node-presets.ts).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'ssh2';
import type { HostName } from '../core/values.js';
import { SshError } from './ssh/errors.js';
import { ChannelOpenError, runOnChannel, type RemoteResult } from './ssh/run-on-channel.js';
import { loadSshConfig, resolveHost, type ParsedSshConfig, type ResolvedHost } from './ssh/ssh-config.js';
import { remoteLine, sshEquivalent, type RemoteCommand } from './ssh/shell-quote.js';
import { forwardThrough, openLink, type LinkSettings } from './ssh/ssh-link.js';

export { HostKeyError, RemoteCommandError, SshError } from './ssh/errors.js';
export { arg, template, shellQuote, sshEquivalent, RemoteCommand, type TemplateArg } from './ssh/shell-quote.js';
export {
  nodeCommands,
  nodePresetSettings,
  fileExists,
  moveFile,
  PRESET_NAMES,
  type NodeCommands,
  type NodePresetSettings,
  type PresetName,
  type StatusCheck,
} from './ssh/node-presets.js';
export { amqpConnectedSince, parseAmqpConnections, parseLogTime, AMQP_CONNECTED, type AmqpConnection } from './ssh/nova-log.js';
export type { ResolvedHost } from './ssh/ssh-config.js';

export type { RemoteResult } from './ssh/run-on-channel.js';

/** Per-command options. */
export interface RunOptions {
  /** Kill the command and fail after this long (default: the shell's commandTimeoutMs). */
  timeoutMs?: number;
  /** Exit codes that count as success (default [0]); e.g. `systemctl is-active` exits 3 when stopped. */
  okExitCodes?: readonly number[];
  /** Run through `sudo -n` (default: the shell's `sudo` setting). */
  sudo?: boolean;
}

/** The SSH adapter's one interface. */
export interface RemoteShell {
  run(host: HostName, cmd: RemoteCommand, opts?: RunOptions): Promise<RemoteResult>;
  /** The command an operator would type for the same thing: `ssh c01 sudo systemctl stop nova-compute`. */
  equivalent(host: HostName, cmd: RemoteCommand, opts?: Pick<RunOptions, 'sudo'>): string;
  /**
   * Streams the stdout of `from.cmd` on one node into the stdin of `to.cmd` on another, through this
   * process (no SSH trust between the nodes): /node copy-instances. Resolves when both ended with an
   * allowed status; the bytes are never held in memory beyond the stream's buffers.
   */
  pipe?(from: { host: HostName; cmd: RemoteCommand }, to: { host: HostName; cmd: RemoteCommand }, opts?: RunOptions): Promise<PipeResult>;
  close(): Promise<void>;
}

/** What a finished pipe returns: the bytes that went through, and each end's result (stdout of the reader, stderr of both). */
export interface PipeResult {
  bytes: number;
  from: RemoteResult;
  to: RemoteResult;
}

/** Settings; every one has the OpenSSH-like default. */
export interface SshShellOptions {
  /** Default ~/.ssh/config (a missing file is an empty config). */
  sshConfigPath?: string;
  /** Instead of a file: an already parsed config. */
  sshConfig?: ParsedSshConfig;
  /** Replace the known_hosts files named by the config (default: UserKnownHostsFile + GlobalKnownHostsFile). */
  knownHostsFiles?: readonly string[];
  /** Default process.env.SSH_AUTH_SOCK; null disables the agent. */
  agentSocket?: string | null;
  sudo?: boolean;
  /** ≤ 10 s (default 10 s). */
  readyTimeoutMs?: number;
  /** Default 10 s × 3: a dead link is noticed within 40 s of the last packet. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Default 60 s. */
  commandTimeoutMs?: number;
  /** Per stream, default 1 MiB. */
  maxOutputBytes?: number;
  /** Also bound the command on the node with coreutils `timeout` (default true), so it dies even when the link does. */
  remoteTimeout?: boolean;
  /** Concurrent commands on one connection (OpenSSH MaxSessions is 10). Default 8. */
  maxChannels?: number;
}

interface Link {
  client: Client;
  dead: boolean;
  /** Fails the commands running on it when the link dies. */
  running: Set<(e: Error) => void>;
  slots: number;
  waiting: Array<() => void>;
}

/** Create the ssh2-backed RemoteShell. */
export function createRemoteShell(options: SshShellOptions = {}): SshRemoteShell {
  return new SshRemoteShell(options);
}

export class SshRemoteShell implements RemoteShell {
  private readonly cfg: ParsedSshConfig;
  private readonly settings: LinkSettings;
  private readonly pool = new Map<string, Promise<Link>>();
  private closed = false;
  /** Connections opened so far (the reuse test and metrics read it). */
  connectionsOpened = 0;
  /** Handshake durations of the connections opened, in ms. */
  readonly handshakeMs: number[] = [];

  constructor(private readonly o: SshShellOptions) {
    this.cfg = o.sshConfig ?? loadSshConfig(o.sshConfigPath ?? join(homedir(), '.ssh', 'config'));
    const agent = o.agentSocket === null ? undefined : (o.agentSocket ?? process.env.SSH_AUTH_SOCK);
    this.settings = {
      readyTimeoutMs: Math.min(o.readyTimeoutMs ?? 10_000, 10_000),
      keepaliveIntervalMs: o.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: o.keepaliveCountMax ?? 3,
      agentSocket: agent || undefined,
      knownHostsFiles: o.knownHostsFiles,
    };
  }

  /** How the config resolves `host` (for plans and diagnostics). */
  resolve(host: HostName): ResolvedHost {
    return resolveHost(this.cfg, host);
  }

  equivalent(host: HostName, cmd: RemoteCommand, opts: Pick<RunOptions, 'sudo'> = {}): string {
    return sshEquivalent(host, cmd, opts.sudo ?? this.o.sudo ?? false);
  }

  async run(host: HostName, cmd: RemoteCommand, opts: RunOptions = {}): Promise<RemoteResult> {
    if (this.closed) throw new SshError(host, 'the SSH adapter is closed');
    const r = this.resolve(host);
    const timeoutMs = opts.timeoutMs ?? this.o.commandTimeoutMs ?? 60_000;
    const sudo = opts.sudo ?? this.o.sudo ?? false;
    const line = remoteLine(cmd, { sudo, remoteTimeoutSec: (this.o.remoteTimeout ?? true) ? Math.ceil(timeoutMs / 1000) + 1 : undefined });
    const display = `${sudo ? 'sudo ' : ''}${cmd.display}`;
    const limits = { timeoutMs, okExitCodes: opts.okExitCodes ?? [0], maxOutputBytes: this.o.maxOutputBytes ?? 1024 * 1024 };
    for (let attempt = 1; ; attempt++) {
      const link = await this.link(r, 0);
      await this.acquire(link);
      try {
        return await runOnChannel(link.client, link.running, { host, line, display }, limits);
      } catch (e) {
        // The channel never opened, so the command never started: when the connection is gone,
        // it is safe to try once on a new one. A server refusing a session is reported as is.
        if (e instanceof ChannelOpenError && attempt === 1 && (e.linkGone || link.dead)) {
          link.dead = true;
          link.client.destroy();
          continue;
        }
        throw e instanceof ChannelOpenError ? new SshError(host, `cannot open a session channel: ${e.message}`, { cause: e.cause }) : e;
      } finally {
        this.release(link);
      }
    }
  }

  async pipe(from: { host: HostName; cmd: RemoteCommand }, to: { host: HostName; cmd: RemoteCommand }, opts: RunOptions = {}): Promise<PipeResult> {
    if (this.closed) throw new SshError(from.host, 'the SSH adapter is closed');
    const timeoutMs = opts.timeoutMs ?? this.o.commandTimeoutMs ?? 60_000;
    const sudo = opts.sudo ?? this.o.sudo ?? false;
    const remoteTimeoutSec = (this.o.remoteTimeout ?? true) ? Math.ceil(timeoutMs / 1000) + 1 : undefined;
    const limits = { timeoutMs, okExitCodes: opts.okExitCodes ?? [0], maxOutputBytes: this.o.maxOutputBytes ?? 1024 * 1024 };
    const [src, dst] = [this.resolve(from.host), this.resolve(to.host)];
    const srcLink = await this.link(src, 0);
    const dstLink = await this.link(dst, 0);
    await this.acquire(srcLink);
    await this.acquire(dstLink).catch((e: Error) => {
      this.release(srcLink);
      throw e;
    });
    try {
      // The reader first: its stdin is open and waiting when the writer's first bytes arrive.
      let bytes = 0;
      let feed: ((chunk: Buffer) => boolean) | undefined;
      let endFeed: (() => void) | undefined;
      let pauseWriter: (() => void) | undefined;
      let resumeWriter: (() => void) | undefined;
      let readerReady!: () => void;
      const ready = new Promise<void>((r) => (readerReady = r));
      const reading = runOnChannel(
        dstLink.client,
        dstLink.running,
        { host: to.host, line: remoteLine(to.cmd, { sudo, remoteTimeoutSec }), display: `${sudo ? 'sudo ' : ''}${to.cmd.display}` },
        limits,
        (ch) => {
          feed = (b) => ch.write(b);
          endFeed = () => ch.end();
          ch.on('drain', () => resumeWriter?.());
          readerReady();
        },
      );
      let readerDone = false;
      const readerFailed = reading.then(
        () => {
          readerDone = true;
          return undefined;
        },
        (e: Error) => {
          readerDone = true;
          return e;
        },
      );
      const first = await Promise.race([ready.then(() => undefined), readerFailed]);
      if (first) throw first;
      const writing = runOnChannel(
        srcLink.client,
        srcLink.running,
        { host: from.host, line: remoteLine(from.cmd, { sudo, remoteTimeoutSec }), display: `${sudo ? 'sudo ' : ''}${from.cmd.display}` },
        limits,
        (ch) => {
          pauseWriter = () => ch.pause();
          resumeWriter = () => ch.resume();
          // a reader that failed stops the writer too; one that ended early lets it run out (discarded)
          void readerFailed.then((e) => {
            // Flowing again either way: a paused channel never ends, so it would never close (the
            // data is dropped, readerDone is set) — a writer paused on a full reader hung here.
            ch.resume();
            if (!e) return;
            try {
              ch.signal('KILL');
              ch.close();
            } catch {
              /* already gone */
            }
          });
        },
        (b) => {
          bytes += b.length;
          if (readerDone) return;
          if (feed && !feed(b)) pauseWriter?.();
        },
      );
      const wrote = await writing.finally(() => endFeed?.());
      const read = await reading;
      return { bytes, from: wrote, to: read };
    } finally {
      this.release(dstLink);
      this.release(srcLink);
    }
  }

  /** One connection per resolved destination (user@host:port via jumps), shared and reused. */
  private link(r: ResolvedHost, depth: number): Promise<Link> {
    const key = `${r.user}@${r.hostName}:${r.port}${r.proxyJump.length ? ` via ${r.proxyJump.map((j) => `${j.user ?? ''}@${j.host}:${j.port ?? ''}`).join(',')}` : ''}`;
    const pooled = this.pool.get(key);
    if (pooled) {
      return pooled.then((l) => {
        if (!l.dead) return l;
        if (this.pool.get(key) === pooled) this.pool.delete(key);
        return this.link(r, depth);
      });
    }
    const p = this.open(r, depth);
    this.pool.set(key, p);
    p.catch(() => {
      if (this.pool.get(key) === p) this.pool.delete(key);
    });
    return p;
  }

  private async open(r: ResolvedHost, depth: number): Promise<Link> {
    if (depth > 5) throw new SshError(r.alias, 'ProxyJump chain longer than 5 hops (a loop?)');
    let sock;
    let via: string | undefined;
    const last = r.proxyJump[r.proxyJump.length - 1];
    if (last) {
      const base = resolveHost(this.cfg, last.host);
      // Earlier hops of this chain come first; a single hop keeps its own ProxyJump, as ssh -J does.
      const jr: ResolvedHost = {
        ...base,
        ...(last.user ? { user: last.user } : {}),
        ...(last.port ? { port: last.port } : {}),
        proxyJump: r.proxyJump.length > 1 ? r.proxyJump.slice(0, -1) : base.proxyJump,
      };
      via = jr.alias;
      const jl = await this.link(jr, depth + 1);
      sock = await forwardThrough(jl.client, jr.alias, r.hostName, r.port, r.alias);
    }
    const { client, handshakeMs } = await openLink(r, this.settings, sock, via);
    this.connectionsOpened++;
    this.handshakeMs.push(handshakeMs);
    const link: Link = { client, dead: false, running: new Set(), slots: this.o.maxChannels ?? 8, waiting: [] };
    const down = (e: Error) => {
      link.dead = true;
      for (const f of [...link.running]) f(e);
    };
    client.on('error', (e: Error) => down(new SshError(r.alias, e.message, { cause: e })));
    client.on('close', () => down(new SshError(r.alias, 'connection closed')));
    if (this.closed) client.end();
    return link;
  }

  private acquire(link: Link): Promise<void> {
    if (link.slots > 0) {
      link.slots--;
      return Promise.resolve();
    }
    return new Promise((res) => link.waiting.push(res));
  }

  private release(link: Link): void {
    const next = link.waiting.shift();
    if (next) next();
    else link.slots++;
  }

  /** Close every connection (waits up to 2 s each for a clean close). */
  async close(): Promise<void> {
    this.closed = true;
    const links = await Promise.allSettled([...this.pool.values()]);
    this.pool.clear();
    await Promise.all(
      links.map((s) => {
        if (s.status !== 'fulfilled' || s.value.dead) return undefined;
        const c = s.value.client;
        return new Promise<void>((res) => {
          const t = setTimeout(() => {
            c.destroy();
            res();
          }, 2000);
          c.once('close', () => {
            clearTimeout(t);
            res();
          });
          c.end();
        });
      }),
    );
  }
}
