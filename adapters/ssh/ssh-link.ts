/**
 * Opens one authenticated ssh2 connection to a resolved host, directly or over a socket forwarded
 * through a jump host. The host key is checked against known_hosts before authentication; an
 * unknown, changed or revoked key fails with HostKeyError (no trust on first use).
 */
import { readFileSync, existsSync } from 'node:fs';
import type { Duplex } from 'node:stream';
// ssh2 is CommonJS: Node's ESM loader only sees its default export (named imports fail at run time).
import ssh2 from 'ssh2';
import type { AuthMethod, AnyAuthMethod, Client, ConnectConfig } from 'ssh2';
import { HostKeyError, SshError } from './errors.js';
import { checkHostKey, fingerprint, hostKeyAlgorithms, keyTypeOfBlob, loadKnownHosts } from './known-hosts.js';
import type { ResolvedHost } from './ssh-config.js';

/** Timing and auth settings shared by every connection. */
export interface LinkSettings {
  /** Handshake (TCP connect to authenticated) limit. */
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** ssh-agent socket, or undefined for none. */
  agentSocket: string | undefined;
  /** When set, replaces the files named by UserKnownHostsFile/GlobalKnownHostsFile. */
  knownHostsFiles: readonly string[] | undefined;
}

/** Auth methods in the order ssh tries them: the agent, then each readable unencrypted IdentityFile. */
function authMethods(r: ResolvedHost, s: LinkSettings): { methods: AuthMethod[]; skipped: string[] } {
  const methods: AuthMethod[] = [];
  const skipped: string[] = [];
  if (s.agentSocket) methods.push({ type: 'agent', username: r.user, agent: s.agentSocket } as AnyAuthMethod);
  for (const f of r.identityFiles) {
    if (!existsSync(f)) continue;
    let text: Buffer;
    try {
      text = readFileSync(f);
    } catch (e) {
      skipped.push(`${f}: ${(e as Error).message}`);
      continue;
    }
    const parsed = ssh2.utils.parseKey(text);
    if (parsed instanceof Error) {
      // Encrypted keys need a passphrase we don't ask for: use the agent for those.
      skipped.push(`${f}: ${parsed.message}`);
      continue;
    }
    methods.push({ type: 'publickey', username: r.user, key: text } as AnyAuthMethod);
  }
  return { methods, skipped };
}

/** A live connection and what it was opened for. */
export interface OpenedLink {
  client: Client;
  handshakeMs: number;
}

/** Connect and authenticate. `sock` is a channel forwarded by a jump host, when there is one. */
export function openLink(r: ResolvedHost, s: LinkSettings, sock?: Duplex, via?: string): Promise<OpenedLink> {
  const files = s.knownHostsFiles ?? [...r.userKnownHostsFiles, ...r.globalKnownHostsFiles];
  const entries = loadKnownHosts(files);
  const { methods, skipped } = authMethods(r, s);
  const where = `${r.alias} (${r.user}@${r.hostName}:${r.port}${via ? ` via ${via}` : ''})`;
  if (methods.length === 0) {
    return Promise.reject(
      new SshError(r.alias, `no usable key: no ssh-agent and no readable unencrypted IdentityFile (${r.identityFiles.join(', ')})`, {
        details: { skipped },
      }),
    );
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let rejected: HostKeyError | undefined;
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      client.removeAllListeners('ready');
      client.destroy();
      reject(e);
    };
    client.once('ready', () => {
      settled = true;
      resolve({ client, handshakeMs: Math.round(performance.now() - started) });
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (rejected) return fail(rejected);
      const msg =
        err.level === 'client-timeout' && /handshake/i.test(err.message)
          ? `no SSH handshake within ${s.readyTimeoutMs} ms (is something other than sshd listening, or is the link dead?)`
          : err.level === 'client-authentication'
            ? `authentication as ${r.user} failed (tried: ${methods.map((m) => m.type).join(', ')})`
            : err.message;
      fail(new SshError(r.alias, `${msg}: ${where}`, { cause: err, details: { level: err.level, hostName: r.hostName, port: r.port, via } }));
    });
    client.on('close', () => fail(rejected ?? new SshError(r.alias, `connection closed before it was ready: ${where}`)));
    const algos = hostKeyAlgorithms(entries, r.hostName, r.port);
    const cfg: ConnectConfig = {
      host: r.hostName,
      port: r.port,
      username: r.user,
      readyTimeout: s.readyTimeoutMs,
      keepaliveInterval: s.keepaliveIntervalMs,
      keepaliveCountMax: s.keepaliveCountMax,
      authHandler: methods,
      ...(sock ? { sock } : {}),
      ...(algos ? { algorithms: { serverHostKey: algos as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } } : {}),
      hostVerifier: (key: Buffer) => {
        const v = checkHostKey(entries, r.hostName, r.port, key);
        if (v.status === 'ok') return true;
        rejected = new HostKeyError(r.alias, v.status, {
          port: r.port,
          keyType: keyTypeOfBlob(key),
          fingerprint: fingerprint(key),
          knownHostsFiles: files,
          ...(via ? { via } : {}),
          ...(v.entry ? { knownAt: `${v.entry.file}:${v.entry.line}` } : {}),
        });
        return false;
      },
    };
    try {
      client.connect(cfg);
    } catch (e) {
      fail(new SshError(r.alias, `cannot start connection: ${(e as Error).message}`, { cause: e }));
    }
  });
}

/** Open a TCP channel from a connected jump host to host:port (ssh -J / direct-tcpip). */
export function forwardThrough(jump: Client, jumpName: string, host: string, port: number, target: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      if (err)
        reject(
          new SshError(target, `jump host ${jumpName} could not open a channel to ${host}:${port}: ${err.message}`, { cause: err, details: { via: jumpName } }),
        );
      else resolve(stream);
    });
  });
}
