/**
 * known_hosts(5) as OpenSSH reads it: plain and hashed (`|1|salt|hmac`) host fields, comma-separated
 * patterns with `*`/`?` and `!` negation, `[host]:port` for ports other than 22, and the
 * `@revoked` marker. `@cert-authority` lines are read but never accept a key (host certificates are
 * not supported): such hosts show up as unknown.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { matchPattern } from './ssh-config.js';

/** One key line of a known_hosts file. */
export interface KnownHostEntry {
  marker: 'cert-authority' | 'revoked' | undefined;
  /** The host field as written: patterns, or one hashed `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  key: Buffer;
  file: string;
  line: number;
}

/** The outcome of checking a presented host key. */
export type HostKeyVerdict = { status: 'ok'; entry: KnownHostEntry } | { status: 'unknown' | 'changed' | 'revoked'; entry?: KnownHostEntry };

/** The key type named inside an SSH public key blob (its first string). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return 'invalid';
  const n = blob.readUInt32BE(0);
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString('latin1') : 'invalid';
}

/** `SHA256:…` as `ssh-keygen -lf` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Parse one file's text; lines that don't parse are skipped, as ssh does. */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const f = raw.trim().split(/\s+/);
    if (f[0] === undefined || f[0] === '' || f[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (f[0].startsWith('@')) {
      const m = f.shift()!;
      if (m === '@cert-authority') marker = 'cert-authority';
      else if (m === '@revoked') marker = 'revoked';
      else return;
    }
    const [hosts, keyType, b64] = f;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) return;
    const key = Buffer.from(b64, 'base64');
    if (keyTypeOfBlob(key) !== keyType) return;
    out.push({ marker, hosts, keyType, key, file, line: i + 1 });
  });
  return out;
}

/** The name known_hosts stores for a host and port: `host` for 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

/** Does an entry's host field name this host? */
export function entryMatches(hosts: string, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    const want = Buffer.from(hash, 'base64');
    return want.length === mac.length && timingSafeEqual(mac, want);
  }
  let hit = false;
  for (const p of hosts.toLowerCase().split(',')) {
    if (p.startsWith('!')) {
      if (matchPattern(p.slice(1), name)) return false;
    } else if (matchPattern(p, name)) hit = true;
  }
  return hit;
}

/** Read and parse every file that exists; missing files count as empty. */
export function loadKnownHosts(files: readonly string[]): KnownHostEntry[] {
  return files.flatMap((f) => (existsSync(f) ? parseKnownHosts(readFileSync(f, 'utf8'), f) : []));
}

/** Check a presented key against the entries for host:port. */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, blob: Buffer): HostKeyVerdict {
  const type = keyTypeOfBlob(blob);
  const mine = entries.filter((e) => entryMatches(e.hosts, host, port));
  const revoked = mine.find((e) => e.marker === 'revoked' && e.key.equals(blob));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = mine.filter((e) => e.marker === undefined);
  const same = plain.find((e) => e.key.equals(blob));
  if (same) return { status: 'ok', entry: same };
  const sameType = plain.find((e) => e.keyType === type);
  return sameType ? { status: 'changed', entry: sameType } : { status: 'unknown' };
}

const ALGOS: Record<string, readonly string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Host key algorithms to offer for host:port: those of the keys we know, so the server presents a
 * key we can check (OpenSSH orders them the same way). Undefined when none is known (offer all,
 * and the verifier will refuse whatever comes, with its fingerprint for the operator).
 */
export function hostKeyAlgorithms(entries: readonly KnownHostEntry[], host: string, port: number): string[] | undefined {
  const types = new Set(entries.filter((e) => e.marker === undefined && entryMatches(e.hosts, host, port)).map((e) => e.keyType));
  const algos = [...types].flatMap((t) => ALGOS[t] ?? []);
  return algos.length ? algos : undefined;
}
