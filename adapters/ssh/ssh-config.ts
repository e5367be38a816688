/**
 * The subset of the OpenSSH client configuration (ssh_config(5)) that the adapter honours: Host
 * blocks with patterns and negations, HostName, Port, User, IdentityFile, ProxyJump,
 * UserKnownHostsFile, GlobalKnownHostsFile, StrictHostKeyChecking, Include. As in OpenSSH the first
 * value obtained for an option wins (IdentityFile accumulates). `Match` blocks are not evaluated:
 * they never apply, and are reported in `warnings`.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join, isAbsolute, basename } from 'node:path';
import { ConfigError } from '../../core/errors.js';

/** One `Host` (or implicit leading) block. */
export interface SshConfigBlock {
  /** Patterns of the Host line; `undefined` for a Match block (never applies). */
  patterns: readonly string[] | undefined;
  options: ReadonlyArray<{ key: string; args: readonly string[]; where: string }>;
}

export interface ParsedSshConfig {
  blocks: readonly SshConfigBlock[];
  warnings: readonly string[];
}

/** One hop of a ProxyJump chain, as written (`[user@]host[:port]`). */
export interface JumpSpec {
  host: string;
  user?: string;
  port?: number;
}

/** Everything needed to connect to one alias. */
export interface ResolvedHost {
  /** The name asked for (e.g. `c01`). */
  alias: string;
  /** The name or address actually connected to, and looked up in known_hosts. */
  hostName: string;
  port: number;
  user: string;
  /** Existing or not: the caller skips files that are missing, as ssh does. */
  identityFiles: readonly string[];
  /** Hops to go through first, in order; empty for a direct connection. */
  proxyJump: readonly JumpSpec[];
  userKnownHostsFiles: readonly string[];
  globalKnownHostsFiles: readonly string[];
  /** As configured; the adapter always behaves as `yes` (no trust on first use). */
  strictHostKeyChecking: string;
}

const KNOWN = new Set([
  'host',
  'match',
  'include',
  'hostname',
  'port',
  'user',
  'identityfile',
  'proxyjump',
  'userknownhostsfile',
  'globalknownhostsfile',
  'stricthostkeychecking',
]);

/** Split a line into words, honouring double quotes, and `key=value`. */
function words(line: string, where: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQ = false;
  let has = false;
  for (const ch of line) {
    if (ch === '"') {
      inQ = !inQ;
      has = true;
    } else if (!inQ && /\s/.test(ch)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (inQ) throw new ConfigError([{ path: where, message: 'unterminated double quote' }], 'ssh_config');
  if (has) out.push(cur);
  // "Key=value" / "Key = value": the first '=' ends the keyword.
  const first = out[0] ?? '';
  const eq = first.indexOf('=');
  if (eq > 0) {
    out.splice(0, 1, first.slice(0, eq), ...(first.slice(eq + 1) ? [first.slice(eq + 1)] : []));
  } else if (out[1]?.startsWith('=')) {
    const rest = out[1].slice(1);
    out.splice(1, 1, ...(rest ? [rest] : []));
  }
  return out;
}

/** Parse ssh_config text. `include` reads an Include target (glob already expanded). */
export function parseSshConfig(
  text: string,
  file = 'ssh_config',
  include?: (pattern: string) => Array<{ file: string; text: string }>,
  depth = 0,
): ParsedSshConfig {
  const blocks: Array<{ patterns: string[] | undefined; options: Array<{ key: string; args: string[]; where: string }> }> = [{ patterns: ['*'], options: [] }];
  const warnings: string[] = [];
  const problems: Array<{ path: string; message: string }> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [k, ...args] = words(line, where);
    const key = (k ?? '').toLowerCase();
    if (key === 'host') {
      if (args.length === 0) problems.push({ path: where, message: 'Host needs at least one pattern' });
      blocks.push({ patterns: args.map((a) => a.toLowerCase()), options: [] });
    } else if (key === 'match') {
      const all = args.length === 1 && args[0]?.toLowerCase() === 'all';
      if (!all) warnings.push(`${where}: Match blocks are not evaluated; this block is ignored`);
      blocks.push({ patterns: all ? ['*'] : undefined, options: [] });
    } else if (key === 'include') {
      if (depth > 8) problems.push({ path: where, message: 'Include nested too deeply' });
      else if (!include) warnings.push(`${where}: Include not followed`);
      else
        for (const inc of args.flatMap((a) => include(a))) {
          const sub = parseSshConfig(inc.text, inc.file, include, depth + 1);
          warnings.push(...sub.warnings);
          // Included options belong to the current block unless the file opens its own Host blocks.
          const [head, ...rest] = sub.blocks;
          blocks[blocks.length - 1]!.options.push(...(head?.options ?? []).map((o) => ({ ...o, args: [...o.args] })));
          for (const b of rest)
            blocks.push({ patterns: b.patterns ? [...b.patterns] : undefined, options: [...b.options.map((o) => ({ ...o, args: [...o.args] }))] });
        }
    } else if (!KNOWN.has(key)) {
      // Every other option is ssh's business, not ours (Ciphers, ControlMaster…): ignored on purpose.
    } else if (args.length === 0) {
      problems.push({ path: where, message: `${k} needs a value` });
    } else {
      blocks[blocks.length - 1]!.options.push({ key, args, where });
    }
  });
  if (problems.length) throw new ConfigError(problems, `ssh_config ${file}`);
  return { blocks, warnings };
}

/** OpenSSH pattern: `*` and `?` wildcards, case-insensitive. */
export function matchPattern(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

/** A Host line applies when some pattern matches and no negated (`!`) pattern does. */
export function blockApplies(patterns: readonly string[] | undefined, name: string): boolean {
  if (!patterns) return false;
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchPattern(p.slice(1), name)) return false;
    } else if (matchPattern(p, name)) hit = true;
  }
  return hit;
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated; `none` = no jump. */
export function parseProxyJump(value: string, where = 'ProxyJump'): JumpSpec[] {
  if (value.toLowerCase() === 'none') return [];
  return value.split(',').map((hop) => {
    const m = /^(?:ssh:\/\/)?(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d{1,5}))?$/.exec(hop.trim());
    const port = m?.[3] === undefined ? undefined : Number(m[3]);
    if (!m || (port !== undefined && (port < 1 || port > 65535))) {
      throw new ConfigError([{ path: where, message: `expected [user@]host[:port], got "${hop}"` }], 'ssh_config');
    }
    return { host: m[2]!.replace(/^\[|\]$/g, ''), ...(m[1] ? { user: m[1] } : {}), ...(port ? { port } : {}) };
  });
}

/** Context for token and `~` expansion. */
export interface ExpandContext {
  home: string;
  localUser: string;
}

function expand(s: string, ctx: ExpandContext, h: { alias: string; hostName: string; user: string; port: number }): string {
  const t = s.replace(/%([%dhnpru])/g, (_m, c: string) =>
    c === '%' ? '%' : c === 'd' ? ctx.home : c === 'h' ? h.hostName : c === 'n' ? h.alias : c === 'p' ? String(h.port) : c === 'r' ? h.user : ctx.localUser,
  );
  return t === '~' ? ctx.home : t.startsWith('~/') ? join(ctx.home, t.slice(2)) : t;
}

/** Apply the config to `alias` as `ssh alias` would. */
export function resolveHost(cfg: ParsedSshConfig, alias: string, ctx: ExpandContext = defaultExpandContext()): ResolvedHost {
  const first = new Map<string, { args: readonly string[]; where: string }>();
  const identity: string[] = [];
  for (const b of cfg.blocks) {
    if (!blockApplies(b.patterns, alias.toLowerCase())) continue;
    for (const o of b.options) {
      if (o.key === 'identityfile') identity.push(o.args[0]!);
      else if (!first.has(o.key)) first.set(o.key, o);
    }
  }
  const get = (k: string) => first.get(k)?.args[0];
  const portRaw = get('port');
  const port = portRaw === undefined ? 22 : Number(portRaw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError([{ path: first.get('port')!.where, message: `Port must be 1-65535, got "${portRaw}"` }], 'ssh_config');
  }
  const user = get('user') ?? ctx.localUser;
  const hostName = (get('hostname') ?? alias).replace(/%h/g, alias).replace(/%%/g, '%');
  const h = { alias, hostName, user, port };
  const ids = identity.length ? identity : ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ed25519'];
  const pj = first.get('proxyjump');
  return {
    alias,
    hostName,
    port,
    user,
    identityFiles: ids.map((f) => expand(f, ctx, h)),
    proxyJump: pj ? parseProxyJump(pj.args[0]!, pj.where) : [],
    userKnownHostsFiles: (first.get('userknownhostsfile')?.args ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']).map((f) => expand(f, ctx, h)),
    globalKnownHostsFiles: first.get('globalknownhostsfile')?.args ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
    strictHostKeyChecking: get('stricthostkeychecking') ?? 'ask',
  };
}

export function defaultExpandContext(): ExpandContext {
  return { home: homedir(), localUser: userInfo().username };
}

/** Read an ssh_config file (following Include with `*` globs in the last path segment). Missing file = empty config. */
export function loadSshConfig(path: string, ctx: ExpandContext = defaultExpandContext()): ParsedSshConfig {
  if (!existsSync(path)) return { blocks: [], warnings: [] };
  const base = dirname(path);
  const include = (pattern: string) => {
    const p0 = pattern.startsWith('~/') ? join(ctx.home, pattern.slice(2)) : pattern;
    const p = isAbsolute(p0) ? p0 : join(base, p0);
    const dir = dirname(p);
    const leaf = basename(p);
    const names =
      leaf.includes('*') || leaf.includes('?')
        ? existsSync(dir)
          ? readdirSync(dir)
              .filter((n) => matchPattern(leaf, n))
              .sort()
          : []
        : [leaf];
    return names
      .map((n) => join(dir, n))
      .filter((f) => existsSync(f))
      .map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));
  };
  return parseSshConfig(readFileSync(path, 'utf8'), path, include);
}
