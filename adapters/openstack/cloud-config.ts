/**
 * Credentials and endpoint selection, resolved the way the OpenStack tools do it (openstacksdk /
 * python-openstackclient): a cloud from `clouds.yaml` (+ `secure.yaml`) named by `OS_CLOUD`, with
 * the `OS_*` variables layered on top as the client does; or the `OS_*` variables alone.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, type Problem } from '../../core/errors.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

/** Keystone v3 password auth, scoped to a project or a domain (or unscoped). */
export interface PasswordAuth {
  type: 'password';
  authUrl: string;
  username?: string;
  userId?: string;
  password: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  domainName?: string;
  domainId?: string;
}

/** Keystone v3 application credential (by id, or by name plus its user); the scope is the credential's. */
export interface ApplicationCredentialAuth {
  type: 'v3applicationcredential';
  authUrl: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret: string;
  username?: string;
  userId?: string;
  userDomainName?: string;
  userDomainId?: string;
}

/** One resolved cloud: how to authenticate and which endpoints to use. Frozen. */
export interface CloudConfig {
  /** The clouds.yaml entry name, or "envvars" when only OS_* variables were used. */
  name: string;
  auth: PasswordAuth | ApplicationCredentialAuth;
  regionName?: string;
  interface: EndpointInterface;
  /** PEM CA bundle path (clouds.yaml `cacert`, OS_CACERT). */
  cacert?: string;
  /** Skip TLS verification. Only when asked (`verify: false`, `insecure: true`, OS_INSECURE). */
  insecure: boolean;
  /** Files that contributed, for messages. */
  sources: string[];
}

export interface LoadCloudConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Cloud name; defaults to OS_CLOUD. */
  cloud?: string;
  cwd?: string;
  home?: string;
  /** Injected for tests; returns undefined when the file does not exist. */
  readFile?: (path: string) => string | undefined;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The search path of openstacksdk: OS_CLIENT_CONFIG_FILE first, then ./, the user's, /etc. */
export function configSearchPath(base: 'clouds' | 'secure', env: NodeJS.ProcessEnv, cwd: string, home: string): string[] {
  const explicit = base === 'clouds' ? env.OS_CLIENT_CONFIG_FILE : env.OS_CLIENT_SECURE_FILE;
  const userDir = env.XDG_CONFIG_HOME ? join(env.XDG_CONFIG_HOME, 'openstack') : join(home, '.config', 'openstack');
  const dirs = [cwd, userDir, '/etc/openstack'];
  const files = dirs.flatMap((d) => [join(d, `${base}.yaml`), join(d, `${base}.yml`)]);
  return explicit ? [resolve(cwd, explicit), ...files] : files;
}

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

function deepMerge(a: Dict, b: Dict): Dict {
  const out: Dict = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isDict(v) && isDict(out[k]) ? deepMerge(out[k] as Dict, v) : v;
  return out;
}

function loadYaml(paths: string[], read: (p: string) => string | undefined, problems: Problem[]): { path: string; doc: Dict } | undefined {
  for (const p of paths) {
    const text = read(p);
    if (text === undefined) continue;
    try {
      const doc: unknown = parseYaml(text);
      if (!isDict(doc)) {
        problems.push({ path: p, message: 'expected a YAML mapping with a "clouds" key' });
        return undefined;
      }
      return { path: p, doc };
    } catch (e) {
      problems.push({ path: p, message: `not valid YAML: ${(e as Error).message}` });
      return undefined;
    }
  }
  return undefined;
}

/** OS_* variable → clouds.yaml auth key (what keystoneauth's loaders accept). */
const ENV_AUTH: Record<string, string> = {
  OS_AUTH_URL: 'auth_url',
  OS_USERNAME: 'username',
  OS_USER_ID: 'user_id',
  OS_PASSWORD: 'password',
  OS_PROJECT_NAME: 'project_name',
  OS_TENANT_NAME: 'project_name',
  OS_PROJECT_ID: 'project_id',
  OS_TENANT_ID: 'project_id',
  OS_USER_DOMAIN_NAME: 'user_domain_name',
  OS_USER_DOMAIN_ID: 'user_domain_id',
  OS_PROJECT_DOMAIN_NAME: 'project_domain_name',
  OS_PROJECT_DOMAIN_ID: 'project_domain_id',
  OS_DOMAIN_NAME: 'domain_name',
  OS_DOMAIN_ID: 'domain_id',
  OS_DEFAULT_DOMAIN_NAME: 'default_domain_name',
  OS_DEFAULT_DOMAIN_ID: 'default_domain_id',
  OS_APPLICATION_CREDENTIAL_ID: 'application_credential_id',
  OS_APPLICATION_CREDENTIAL_NAME: 'application_credential_name',
  OS_APPLICATION_CREDENTIAL_SECRET: 'application_credential_secret',
};
const ENV_TOP: Record<string, string> = {
  OS_REGION_NAME: 'region_name',
  OS_INTERFACE: 'interface',
  OS_ENDPOINT_TYPE: 'interface',
  OS_CACERT: 'cacert',
  OS_INSECURE: 'insecure',
  OS_AUTH_TYPE: 'auth_type',
};

function fromEnv(env: NodeJS.ProcessEnv): Dict {
  const auth: Dict = {};
  const top: Dict = {};
  for (const [k, key] of Object.entries(ENV_AUTH)) if (env[k]) auth[key] = env[k];
  for (const [k, key] of Object.entries(ENV_TOP)) if (env[k]) top[key] = env[k];
  return Object.keys(auth).length ? { ...top, auth } : top;
}

const str = z.string().min(1).optional();
const truthy = z
  .union([z.boolean(), z.string()])
  .optional()
  .transform((v) => (typeof v === 'string' ? /^(1|true|yes|on)$/i.test(v) : v));
const entrySchema = z
  .object({
    auth_type: z.string().optional(),
    auth: z.record(z.string(), z.unknown()).default({}),
    region_name: str,
    interface: z.string().optional(),
    endpoint_type: z.string().optional(),
    cacert: str,
    verify: truthy,
    insecure: truthy,
  })
  .passthrough();

/** Resolves the cloud, or throws a ConfigError that names every missing or wrong key. */
export function loadCloudConfig(opts: LoadCloudConfigOptions = {}): CloudConfig {
  const env = opts.env ?? process.env;
  const read = opts.readFile ?? readIfExists;
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? homedir();
  const cloudName = opts.cloud ?? env.OS_CLOUD;
  const problems: Problem[] = [];
  const sources: string[] = [];
  let entry: Dict = {};
  if (cloudName) {
    const clouds = loadYaml(configSearchPath('clouds', env, cwd, home), read, problems);
    const secure = loadYaml(configSearchPath('secure', env, cwd, home), read, problems);
    const c = clouds && isDict(clouds.doc.clouds) ? clouds.doc.clouds[cloudName] : undefined;
    if (!clouds && !problems.length)
      problems.push({ path: 'clouds.yaml', message: `OS_CLOUD=${cloudName} but no clouds.yaml in ${configSearchPath('clouds', env, cwd, home).join(', ')}` });
    else if (clouds && !isDict(c))
      problems.push({
        path: `${clouds.path}: clouds.${cloudName}`,
        message: `no cloud named "${cloudName}" (have: ${isDict(clouds.doc.clouds) ? Object.keys(clouds.doc.clouds).join(', ') : 'none'})`,
      });
    if (clouds && isDict(c)) {
      entry = c;
      sources.push(clouds.path);
      const s = secure && isDict(secure.doc.clouds) ? secure.doc.clouds[cloudName] : undefined;
      if (secure && isDict(s)) {
        entry = deepMerge(entry, s);
        sources.push(secure.path);
      }
    }
  }
  // As python-openstackclient does: OS_* variables override the named cloud's values.
  const envPart = fromEnv(env);
  if (Object.keys(envPart).length) sources.push('environment (OS_*)');
  entry = deepMerge(entry, envPart);
  if (!problems.length && !cloudName && !isDict(entry.auth)) {
    problems.push({
      path: 'OS_CLOUD / OS_AUTH_URL',
      message: 'no OpenStack credentials: set OS_CLOUD (with a clouds.yaml) or the OS_AUTH_URL/OS_USERNAME/OS_PASSWORD… variables',
    });
  }
  if (problems.length) throw new ConfigError(problems, 'OpenStack credentials');
  const parsed = entrySchema.safeParse(entry);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      sources.join(', '),
    );
  }
  const e = parsed.data;
  const auth = buildAuth(e.auth_type, e.auth, problems);
  const iface = (e.interface ?? e.endpoint_type ?? 'public').replace(/URL$/, '');
  if (!['public', 'internal', 'admin'].includes(iface)) problems.push({ path: 'interface', message: `expected public, internal or admin, got "${iface}"` });
  if (problems.length || !auth) throw new ConfigError(problems, sources.join(', ') || 'OpenStack credentials');
  return Object.freeze({
    name: cloudName ?? 'envvars',
    auth,
    ...(e.region_name ? { regionName: e.region_name } : {}),
    interface: iface as EndpointInterface,
    ...(e.cacert ? { cacert: e.cacert } : {}),
    insecure: e.insecure === true || e.verify === false,
    sources,
  });
}

function buildAuth(authType: string | undefined, a: Dict, problems: Problem[]): PasswordAuth | ApplicationCredentialAuth | undefined {
  const s = (k: string): string | undefined => (typeof a[k] === 'string' && a[k] !== '' ? (a[k] as string) : undefined);
  const rawUrl = s('auth_url');
  if (!rawUrl) problems.push({ path: 'auth.auth_url', message: 'the Keystone URL is required, e.g. https://keystone.example.com:5000/v3' });
  let authUrl = '';
  if (rawUrl) {
    try {
      const u = new URL(rawUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      // keystoneauth discovers the version; we speak only v3, so an unversioned URL gets /v3.
      authUrl = rawUrl.replace(/\/+$/, '');
      if (!/\/v3$/.test(authUrl)) authUrl = authUrl.replace(/\/v2\.0$/, '') + '/v3';
    } catch {
      problems.push({ path: 'auth.auth_url', message: `expected an http(s) URL, got "${rawUrl}"` });
    }
  }
  const type = (authType ?? (s('application_credential_secret') ? 'v3applicationcredential' : 'password')).replace(/^v3password$/, 'password');
  const user = {
    ...(s('username') ? { username: s('username') } : {}),
    ...(s('user_id') ? { userId: s('user_id') } : {}),
  };
  const userDomainName = s('user_domain_name') ?? (s('user_domain_id') ? undefined : s('default_domain_name'));
  const userDomainId = s('user_domain_id') ?? (userDomainName ? undefined : s('default_domain_id'));
  const dom = { ...(userDomainName ? { userDomainName } : {}), ...(userDomainId ? { userDomainId } : {}) };
  if (type === 'v3applicationcredential') {
    const secret = s('application_credential_secret');
    if (!secret) problems.push({ path: 'auth.application_credential_secret', message: 'required for application-credential auth' });
    if (!s('application_credential_id') && !(s('application_credential_name') && (user.userId || user.username))) {
      problems.push({
        path: 'auth.application_credential_id',
        message: 'expected application_credential_id, or application_credential_name with username/user_id',
      });
    }
    if (problems.length) return undefined;
    return {
      type,
      authUrl,
      applicationCredentialSecret: secret!,
      ...user,
      ...dom,
      ...(s('application_credential_id') ? { applicationCredentialId: s('application_credential_id') } : {}),
      ...(s('application_credential_name') ? { applicationCredentialName: s('application_credential_name') } : {}),
    };
  }
  if (type !== 'password') {
    problems.push({ path: 'auth_type', message: `unsupported auth type "${type}": expected password, v3password or v3applicationcredential` });
    return undefined;
  }
  if (!user.username && !user.userId) problems.push({ path: 'auth.username', message: 'expected username (or user_id) for password auth' });
  if (!s('password')) problems.push({ path: 'auth.password', message: 'expected a password (clouds.yaml, secure.yaml or OS_PASSWORD)' });
  if (user.username && !user.userId && !userDomainName && !userDomainId)
    problems.push({ path: 'auth.user_domain_name', message: 'a user given by name needs user_domain_name or user_domain_id (e.g. Default)' });
  const projectDomainName = s('project_domain_name') ?? (s('project_domain_id') ? undefined : s('default_domain_name'));
  const projectDomainId = s('project_domain_id') ?? (projectDomainName ? undefined : s('default_domain_id'));
  if (s('project_name') && !s('project_id') && !projectDomainName && !projectDomainId)
    problems.push({ path: 'auth.project_domain_name', message: 'a project given by name needs project_domain_name or project_domain_id (e.g. Default)' });
  if (problems.length) return undefined;
  const opt = (k: string, v: string | undefined) => (v ? { [k]: v } : {});
  return {
    type,
    authUrl,
    password: s('password')!,
    ...user,
    ...dom,
    ...opt('projectName', s('project_name')),
    ...opt('projectId', s('project_id')),
    ...opt('projectDomainName', s('project_id') ? undefined : projectDomainName),
    ...opt('projectDomainId', s('project_id') ? undefined : projectDomainId),
    ...opt('domainName', s('domain_name')),
    ...opt('domainId', s('domain_id')),
  };
}
