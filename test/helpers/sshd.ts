/**
 * Test harness: real Debian OpenSSH (`/usr/sbin/sshd -D -e -f <generated config>`) with generated
 * host and client keys, on a loopback address or inside a network namespace this harness creates
 * (with a veth pair to the test process's namespace). Everything it starts or creates is tracked
 * and removed by `cleanupAll()` (call it in afterAll; it also runs on process exit).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';

const cleanups: Array<() => void> = [];
let exitHooked = false;
function track(fn: () => void): void {
  cleanups.push(fn);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', cleanupAll);
  }
}

/** Undo everything started or created so far, newest first; never throws. */
export function cleanupAll(): void {
  while (cleanups.length) {
    try {
      cleanups.pop()!();
    } catch {
      /* best effort: keep cleaning */
    }
  }
}

/** A scratch directory removed at cleanup. */
export function scratchDir(prefix = 'ssh-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  track(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export type KeyType = 'ed25519' | 'ecdsa' | 'rsa';

/** ssh-keygen a key pair without passphrase; returns the public key line `type base64`. */
export function genKey(path: string, type: KeyType = 'ed25519'): string {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  execFileSync('ssh-keygen', ['-q', '-N', '', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-C', 'test', '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

/** Every process below `root` (from ps), deepest last. */
function descendants(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const line of execFileSync('ps', ['-e', '-o', 'pid=,ppid=']).toString().split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid && ppid) kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const k of kids.get(p) ?? []) {
      out.push(k);
      walk(k);
    }
  };
  walk(root);
  return out;
}

/** A running sshd. */
export interface Sshd {
  address: string;
  port: number;
  dir: string;
  /** Host public keys as `type base64`. */
  hostKeys: string[];
  /** The client private key that authorized_keys accepts. */
  clientKey: string;
  /** What sshd logged so far (it logs to stderr with -e). */
  log(): string;
  /** TCP connections sshd accepted ("Connection from" lines). */
  connections(): number;
  /** A known_hosts line for this server: `[addr]:port type key` (or as `name`). */
  knownHostsLines(name?: string): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  address: string;
  port: number;
  /** Run inside this network namespace (made by makeNetns). */
  netns?: string;
  hostKeyTypes?: KeyType[];
  logLevel?: 'VERBOSE' | 'DEBUG1';
  /** Reuse this directory's keys (for a restart or a second server with the same client key). */
  dir?: string;
  /** Reuse a client key made for another sshd. */
  clientKey?: string;
  /** More sshd_config lines (e.g. `MaxSessions 1`). */
  extraConfig?: string[];
}

/** Start sshd and wait until it listens. */
export async function startSshd(o: SshdOptions): Promise<Sshd> {
  const dir = o.dir ?? scratchDir('sshd-');
  const types = o.hostKeyTypes ?? ['ed25519'];
  const hostKeys = types.map((t) => {
    const p = join(dir, `ssh_host_${t}_key`);
    try {
      return readFileSync(`${p}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    } catch {
      return genKey(p, t);
    }
  });
  const clientKey = o.clientKey ?? join(dir, 'id_client');
  let clientPub: string;
  try {
    clientPub = readFileSync(`${clientKey}.pub`, 'utf8').trim();
  } catch {
    clientPub = genKey(clientKey, 'ed25519');
  }
  writeFileSync(join(dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });
  const conf = join(dir, `sshd_config.${o.port}`);
  writeFileSync(
    conf,
    [
      `ListenAddress ${o.address}:${o.port}`,
      ...types.map((t) => `HostKey ${join(dir, `ssh_host_${t}_key`)}`),
      'PidFile none',
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'MaxStartups 100',
      'ClientAliveInterval 0',
      `LogLevel ${o.logLevel ?? 'VERBOSE'}`,
      ...(o.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  execFileSync('mkdir', ['-p', '/run/sshd']);
  const argv = ['/usr/sbin/sshd', '-D', '-e', '-f', conf];
  const child: ChildProcess = o.netns
    ? spawn('ip', ['netns', 'exec', o.netns, ...argv], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => {
    log += b.toString();
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // Per-connection sshd children call setsid(), so killing the group is not enough: kill every
  // descendant too (as a crashed node would drop its sessions).
  const kill = () => {
    if (exited || !child.pid) return;
    for (const pid of [...descendants(child.pid), child.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  track(kill);
  await waitFor(`sshd on ${o.address}:${o.port} to listen (log: ${log})`, () => {
    if (exited) throw new Error(`sshd exited: ${log}`);
    return /Server listening on/.test(log);
  });
  return {
    address: o.address,
    port: o.port,
    dir,
    hostKeys,
    clientKey,
    log: () => log,
    connections: () => (log.match(/Connection from /g) ?? []).length,
    knownHostsLines: (name) => hostKeys.map((k) => `${name ?? (o.port === 22 ? o.address : `[${o.address}]:${o.port}`)} ${k}`).join('\n'),
    stop: async () => {
      kill();
      await waitFor('sshd to exit', () => exited, 5000);
    },
  };
}

/** A network namespace joined to ours by a veth pair: our end `hostAddr`, its end `nsAddr` (/30). */
export interface Netns {
  name: string;
  hostAddr: string;
  nsAddr: string;
  /** Take the namespace's end of the link down: packets vanish, no RST, no FIN (a cut cable). */
  cut(): void;
  remove(): void;
}

let netnsCount = 0;

/** Create a namespace (root needed). Addresses are link-local 169.254.X.Y/30, blackholed as a /24 so nothing leaks if the link goes. */
export function makeNetns(): Netns {
  const n = netnsCount++;
  const id = `${process.pid % 100000}${String.fromCharCode(97 + n)}`;
  const name = `sshtest-${id}`;
  const hostIf = `sth${id}`;
  const nsIf = `stn${id}`;
  const x = 20 + (process.pid % 200);
  const hostAddr = `169.254.${x}.${n * 4 + 1}`;
  const nsAddr = `169.254.${x}.${n * 4 + 2}`;
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'pipe'] });
  const remove = () => {
    try {
      const pids = execFileSync('ip', ['netns', 'pids', name]).toString().split(/\s+/).filter(Boolean);
      for (const p of pids) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    } catch {
      /* namespace already gone */
    }
    for (const a of [
      ['netns', 'del', name],
      ['link', 'del', hostIf],
    ]) {
      try {
        ip(...a);
      } catch {
        /* already gone */
      }
    }
  };
  track(remove);
  ip('netns', 'add', name);
  ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
  ip('link', 'set', nsIf, 'netns', name);
  ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
  ip('link', 'set', hostIf, 'up');
  ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf);
  ip('netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up');
  ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  try {
    ip('route', 'add', 'blackhole', `169.254.${x}.0/24`);
    track(() => {
      try {
        ip('route', 'del', 'blackhole', `169.254.${x}.0/24`);
      } catch {
        /* gone */
      }
    });
  } catch {
    /* another namespace of this process added it already */
  }
  return { name, hostAddr, nsAddr, cut: () => ip('netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'down'), remove };
}

/** A real ssh-agent on a private socket, holding `keys`; stopped at cleanup. */
export async function startAgent(keys: readonly string[]): Promise<{ socket: string; stop(): void }> {
  const socket = join(scratchDir('agent-'), 'agent.sock');
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = () => {
    if (!exited) child.kill('SIGKILL');
  };
  track(stop);
  await waitFor('ssh-agent socket', () => {
    if (exited) throw new Error('ssh-agent exited');
    try {
      execFileSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      return true;
    } catch (e) {
      // exit 1 = agent up but empty; 2 = cannot connect yet
      return (e as { status?: number }).status === 1;
    }
  });
  for (const k of keys) execFileSync('ssh-add', ['-q', k], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
  return { socket, stop };
}
