/**
 * Helpers of the lab suite: the real `openstack` CLI against the lab (cloud "lab" from the lab's
 * clouds.yaml), REST with one token where the CLI cannot (bulk port create, clearing device_id),
 * SSH to the lab's compute hosts, bounded polling, and a unique name prefix per test file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { waitFor as waitUntil } from '../helpers/wait-for.js';

export const LAB = process.env['LAB'] ?? '/var/lib/openstack-lab';
export const CLOUDS_YAML = `${LAB}/clouds.yaml`;
export const SSH_CONFIG = `${LAB}/ssh/ssh_config`;
const OPENSTACK = '/usr/bin/openstack';
/** Service endpoints of the lab (all on 127.0.0.1). */
export const NOVA_URL = 'http://127.0.0.1:8774/v2.1';
export const NEUTRON_URL = 'http://127.0.0.1:9696/v2.0';
export const PLACEMENT_URL = 'http://127.0.0.1:8778';
export const GLANCE_URL = 'http://127.0.0.1:9292';
export const CINDER_URL = 'http://127.0.0.1:8776/v3';
const REPO = new URL('../../', import.meta.url).pathname;

const cliEnv = {
  OS_CLIENT_CONFIG_FILE: CLOUDS_YAML,
  OS_CLOUD: 'lab',
  // OSC 6.0 defaults to compute 2.1: --nic none needs 2.37, --down 2.11, migrate --host 2.30
  OS_COMPUTE_API_VERSION: '2.79',
  PYTHONWARNINGS: 'ignore',
};

/** A fake-driver compute host of the lab. */
export type PairHost = 'c01' | 'c02' | 'c04' | 'c05';

/**
 * The two fake-driver hosts a lab file works on: c01/c02, or c04/c05 (LAB_PAIR=c04,c05, which the
 * lane lab-c04c05 of vitest.config.ts sets) so that two lanes of host-changing files run side by
 * side. The pairs are kept apart by a Placement trait (lab/lib/pairs.py): the ordinary flavors
 * forbid it, m1.pair2 requires it and only c04/c05 have it, so whatever Nova schedules on its own
 * (a drain without a target, an evacuation) stays inside the pair its servers were booted in.
 * `a` is where a file boots its servers, `b` where they go.
 */
export const PAIR: { a: PairHost; b: PairHost } = (() => {
  const v = process.env['LAB_PAIR'] ?? 'c01,c02';
  if (v === 'c01,c02') return { a: 'c01', b: 'c02' };
  if (v === 'c04,c05') return { a: 'c04', b: 'c05' };
  throw new Error(`LAB_PAIR must be "c01,c02" or "c04,c05", got "${v}"`);
})();

/** The flavor that lands on host: m1.pair2 on c04/c05, m1.tiny elsewhere. */
export function flavorFor(host: PairHost): string {
  return host === 'c04' || host === 'c05' ? 'm1.pair2' : 'm1.tiny';
}

/** A unique prefix for everything one test file creates, so that cleanup removes only its own. */
export function uniquePrefix(tag: string): string {
  return `lt-${tag}-${randomBytes(3).toString('hex')}-`;
}

/** Result of one CLI call; tests assert on exitCode where the CLI's behaviour is the point. */
export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `openstack ARGS` against the lab; never throws on a non-zero exit. */
export async function os(args: string[], opts: { cloud?: string } = {}): Promise<CliResult> {
  const r = await execa(OPENSTACK, args, {
    env: { ...cliEnv, OS_CLOUD: opts.cloud ?? 'lab' },
    reject: false,
    timeout: 120_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs `openstack ARGS` and fails with the CLI's stderr when it exits non-zero. */
export async function osOk(args: string[], opts: { cloud?: string } = {}): Promise<string> {
  const r = await os(args, opts);
  if (r.exitCode !== 0) throw new Error(`openstack ${args.join(' ')} exited ${r.exitCode}: ${r.stderr.slice(-600)}`);
  return r.stdout;
}

/** `openstack ARGS -f json`, parsed. */
export async function osJson<T = Record<string, unknown>>(args: string[], opts: { cloud?: string } = {}): Promise<T> {
  return JSON.parse(await osOk([...args, '-f', 'json'], opts)) as T;
}

/** Runs a command on a lab compute host over SSH with the lab's ssh_config (the bot's files). */
export async function sshHost(host: PairHost | 'c03', command: string): Promise<CliResult> {
  const r = await execa('ssh', ['-F', SSH_CONFIG, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', host, command], { reject: false, timeout: 90_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The one waitFor (test/helpers/wait-for.ts) with the lab's patience: 90 s, probing at most every second. */
export const waitFor: typeof waitUntil = (what, probe, options = {}) =>
  waitUntil(what, probe, { timeoutMs: 90_000, intervalMs: 1000, ...(typeof options === 'number' ? { timeoutMs: options } : options) });

/**
 * Fails fast, with the fix, when the lab is not running; then waits (bounded) until the compute
 * hosts the test uses are up, enabled and not forced down. A test waits only for its own hosts:
 * the c03 files run under the c03 lock while another test may hold c01 down under the c01/c02 lock.
 */
export async function requireLab(which?: readonly (PairHost | 'c03')[]): Promise<void> {
  // `beforeAll(() => requireLab())` calls it with vitest's suite as its argument: anything but a list means the default
  const hosts: readonly string[] = Array.isArray(which) ? which : [PAIR.a, PAIR.b];
  if (!existsSync(CLOUDS_YAML)) throw new Error(`${CLOUDS_YAML} missing: run "npm run lab:up" (bash lab/up) first`);
  const r = await fetch('http://127.0.0.1:5000/v3').catch(() => undefined);
  if (!r?.ok) throw new Error('keystone on 127.0.0.1:5000 does not answer: run "npm run lab:up" (bash lab/up)');
  // the lab is shared: a previous test may still be bringing a host back; wait for ours (bounded)
  const rest = await labRest();
  await waitFor(
    `nova-compute ${hosts.join(' and ')} up, enabled and not forced down`,
    async () => {
      const { body } = await rest.call<{ services: { host: string; status: string; state: string; forced_down: boolean }[] }>(
        'GET',
        `${NOVA_URL}/os-services?binary=nova-compute`,
      );
      const ready = body.services.filter((x) => hosts.includes(x.host) && x.status === 'enabled' && x.state === 'up' && !x.forced_down);
      return ready.length === hosts.length;
    },
    { timeoutMs: 180_000, intervalMs: 2000 },
  );
  for (const h of hosts) await waitSchedulable(h);
}

/**
 * Waits until Placement lets the scheduler pick host: its provider no longer carries
 * COMPUTE_STATUS_DISABLED. Nova sets that trait when the service is disabled and clears it when it is
 * enabled — by a message to the host's nova-compute, which a compute still starting does not get; its
 * next resource update (within a minute) clears it then. Until then every boot there is "No valid host"
 * (CI 2026-12-04: two boots on c04 right after scheduled-drain's restoreHost).
 */
export async function waitSchedulable(host: string): Promise<void> {
  const r = await labRest();
  const placement = 'placement 1.6'; // traits
  // the provider is the compute node (same UUID), named after the hypervisor: c03's is the machine's hostname
  const nodes = (await r.call<{ hypervisors: { id: string; service: { host: string } }[] }>('GET', `${NOVA_URL}/os-hypervisors/detail`)).body.hypervisors;
  const rp = nodes.find((h) => h.service.host === host);
  if (!rp) throw new Error(`Nova has no hypervisor on host ${host}`);
  await waitFor(
    `${host}'s resource provider without COMPUTE_STATUS_DISABLED (Nova's enable reaches Placement through its nova-compute)`,
    async () =>
      !(await r.call<{ traits: string[] }>('GET', `${PLACEMENT_URL}/resource_providers/${rp.id}/traits`, undefined, placement)).body.traits.includes(
        'COMPUTE_STATUS_DISABLED',
      ),
    { timeoutMs: 150_000, intervalMs: 1000 },
  );
}

/** Deletes everything named with prefix (servers, volumes, ports, networks; all projects). */
export async function cleanup(prefix: string): Promise<void> {
  await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { timeout: 300_000 });
}

/** `n` servers with no port and no volume on host, in one lab/seed run (REST, batched boots); their ids. */
export async function seedPlainServers(prefix: string, n: number, host: PairHost = PAIR.a): Promise<string[]> {
  const seeded = await execa(
    'bash',
    [`${REPO}lab/seed`, '--servers', String(n), '--net-servers', '0', '--ports', '0', '--no-volume', '--prefix', prefix, '--host', host],
    { reject: false, timeout: 600_000 },
  );
  if (seeded.exitCode !== 0) throw new Error(`lab/seed failed: ${seeded.stderr.slice(-800)}`);
  return (JSON.parse(seeded.stdout) as { servers: string[] }).servers;
}

const named = new Map<string, Promise<string>>();
/** The id of a flavor, image or network by its name, asked once per test file. */
function idOf(kind: 'flavor' | 'image' | 'network', name: string): Promise<string> {
  const key = `${kind}:${name}`;
  let id = named.get(key);
  if (!id) {
    id = (async () => {
      const rest = await labRest();
      const q = encodeURIComponent(name);
      const found =
        kind === 'flavor'
          ? (await rest.call<{ flavors: { id: string; name: string }[] }>('GET', `${NOVA_URL}/flavors?is_public=None`)).body.flavors.find(
              (f) => f.name === name,
            )
          : kind === 'image'
            ? (await rest.call<{ images: { id: string }[] }>('GET', `${GLANCE_URL}/v2/images?name=${q}`)).body.images[0]
            : (await rest.call<{ networks: { id: string }[] }>('GET', `${NEUTRON_URL}/networks?name=${q}`)).body.networks[0];
      if (!found) throw new Error(`the lab has no ${kind} named ${name}`);
      return found.id;
    })();
    id.catch(() => named.delete(key));
    named.set(key, id);
  }
  return id;
}

/**
 * Boots a server on host (fake driver) and waits until it is ACTIVE; returns its id. REST, as
 * `openstack server create --flavor … --image cirros (--network N | --nic none) --availability-zone
 * nova:<host>` would ask (the fixtures of many files: a CLI run is ~1.6 s of CPU).
 */
export async function bootServer(name: string, host: PairHost, opts: { network?: string } = {}): Promise<string> {
  const boot = async (): Promise<string> => {
    const [flavorRef, imageRef, network] = await Promise.all([
      idOf('flavor', flavorFor(host)),
      idOf('image', 'cirros'),
      opts.network ? idOf('network', opts.network) : undefined,
    ]);
    const server = { name, flavorRef, imageRef, networks: network ? [{ uuid: network }] : 'none', availability_zone: `nova:${host}` };
    const r = await (await labRest()).call<{ server?: { id: string } }>('POST', `${NOVA_URL}/servers`, { server });
    if (r.status !== 202 || !r.body.server) throw new Error(`POST /servers ${name} on ${host}: ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
    return r.body.server.id;
  };
  // A build that fails is fixture trouble, not what a test looks at: it is deleted and booted once
  // more, and what Nova said of the first one is printed (a CI run lost a whole file to one ERROR).
  const first = await boot();
  try {
    await waitBuilt(first);
    return first;
  } catch (e) {
    if (!(e instanceof ServerError)) throw e;
    console.warn(`bootServer ${name} on ${host}: ${e.message}; deleting it and booting again`);
    await (await labRest()).call('DELETE', `${NOVA_URL}/servers/${first}`);
    await waitFor(`server ${first} deleted`, async () => (await (await labRest()).call('GET', `${NOVA_URL}/servers/${first}`)).status === 404);
  }
  const second = await boot();
  await waitBuilt(second);
  return second;
}

/** A server went to ERROR; the message carries Nova's fault (code, message) when it has one. */
export class ServerError extends Error {}

/** The fields of `server show` the tests look at. */
export interface ServerView {
  status: string;
  host: string;
  taskState: string | null;
  /** Nova's fault, for a server in ERROR: " (fault <code>: <message>)", or "" when it recorded none. */
  fault: string;
}

export async function showServer(id: string): Promise<ServerView> {
  // REST, not `openstack server show`: the waits below ask every second, and each CLI run is a Python
  // start-up (~1.5 s of CPU) on a CI machine whose two cores the lab's lanes keep busy
  const r = await labRest().then((rest) => rest.call<{ server?: Record<string, unknown> }>('GET', `${NOVA_URL}/servers/${id}`));
  if (r.status !== 200 || !r.body.server) throw new Error(`GET /servers/${id}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  const s = r.body.server;
  const fault = s['fault'] as { code?: number; message?: string } | undefined;
  return {
    status: String(s['status']),
    host: String(s['OS-EXT-SRV-ATTR:host']),
    taskState: (s['OS-EXT-STS:task_state'] as string | null) ?? null,
    fault: fault?.message ? ` (fault ${fault.code ?? '?'}: ${fault.message})` : '',
  };
}

let shared: Promise<Rest> | undefined;
/** One admin token for this test file's helpers (Keystone's tokens last an hour; a file, minutes). */
function labRest(): Promise<Rest> {
  shared ??= Rest.login().catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

/**
 * Waits until the server has status (and no task in progress). ERROR is not final here (the bot may
 * still be fixing the server): it is named, with Nova's fault, if time runs out.
 */
export async function waitServer(id: string, status: string, host?: string): Promise<ServerView> {
  return waitFor(
    `server ${id} ${status}${host ? ` on ${host}` : ''}`,
    async () => {
      const s = await showServer(id);
      if (s.status === 'ERROR' && status !== 'ERROR') throw new ServerError(`server ${id} went to ERROR${s.fault}`);
      return s.status === status && !s.taskState && (!host || s.host === host) ? s : undefined;
    },
    { timeoutMs: 120_000 },
  );
}

/** Waits for a new server to be built: ACTIVE, or a ServerError as soon as it goes to ERROR. */
async function waitBuilt(id: string): Promise<void> {
  const s = await waitFor(
    `server ${id} built`,
    async () => {
      const v = await showServer(id);
      return (v.status === 'ACTIVE' && !v.taskState) || v.status === 'ERROR' ? v : undefined;
    },
    { timeoutMs: 120_000 },
  );
  if (s.status === 'ERROR') throw new ServerError(`server ${id} went to ERROR${s.fault}`);
}

/** One compute service as `compute service list --long` shows it. */
export interface ComputeService {
  Host: string;
  Status: string;
  State: string;
  'Forced Down': boolean;
  'Disabled Reason': string | null;
}

export async function computeService(host: PairHost): Promise<ComputeService> {
  const list = await osJson<ComputeService[]>(['compute', 'service', 'list', '--service', 'nova-compute', '--host', host, '--long']);
  const s = list[0];
  if (!s) throw new Error(`no nova-compute service on ${host}`);
  return s;
}

/** A nova-compute service as Nova's API has it (REST: the waits ask every second or two, a CLI run costs ~1.5 s of CPU). */
export interface NovaService {
  id: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  forcedDown: boolean;
}

export async function novaService(host: PairHost | 'c03'): Promise<NovaService> {
  const r = await labRest().then((rest) =>
    rest.call<{ services: { id: string; status: NovaService['status']; state: NovaService['state']; forced_down: boolean }[] }>(
      'GET',
      `${NOVA_URL}/os-services?binary=nova-compute&host=${host}`,
    ),
  );
  const s = r.body.services?.[0];
  if (!s) throw new Error(`no nova-compute service on ${host} (${r.status})`);
  return { id: s.id, status: s.status, state: s.state, forcedDown: s.forced_down };
}

/** A volume's status as Cinder has it (REST: for waits; the volume is the admin project's, as the CLI creates it). */
export async function volumeStatus(id: string): Promise<string> {
  const rest = await labRest();
  const r = await rest.call<{ volume?: { status: string } }>('GET', `${CINDER_URL}/${rest.projectId}/volumes/${id}`, undefined, 'volume 3.0');
  if (r.status !== 200 || !r.body.volume) throw new Error(`GET volume ${id}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body.volume.status;
}

/** Makes host's nova-compute run, enabled and not forced down (what every lab test must leave behind). */
export async function restoreHost(host: PairHost): Promise<void> {
  await sshHost(host, 'lab-nova-compute start');
  // force-up is refused (400) until the restarted compute has completed its evacuation records
  // REST, as `openstack compute service set --up <host> nova-compute`, then `--enable`
  const rest = await labRest();
  const { id } = await novaService(host);
  const put = (body: object) => rest.call<unknown>('PUT', `${NOVA_URL}/os-services/${id}`, body);
  await waitFor(`${host} forced up`, async () => (await put({ forced_down: false })).status === 200, { timeoutMs: 120_000, intervalMs: 2000 });
  const enabled = await put({ status: 'enabled' });
  if (enabled.status !== 200) throw new Error(`enabling ${host}'s nova-compute: ${enabled.status} ${JSON.stringify(enabled.body).slice(0, 300)}`);
  await waitFor(`${host} up`, async () => (await novaService(host)).state === 'up', { timeoutMs: 60_000 });
  await waitSchedulable(host);
}

/** A Keystone token and the REST calls the CLI cannot make (bulk create, clearing device_id). */
export class Rest {
  /** `projectId`: the admin project the token is scoped to (Cinder's URLs name it). */
  private constructor(
    readonly token: string,
    readonly projectId: string,
  ) {}

  static async login(): Promise<Rest> {
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'admin' } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    };
    const r = await fetch('http://127.0.0.1:5000/v3/auth/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const token = r.headers.get('x-subject-token');
    if (r.status !== 201 || !token) throw new Error(`keystone login failed: ${r.status}`);
    const { token: t } = (await r.json()) as { token: { project: { id: string } } };
    return new Rest(token, t.project.id);
  }

  /** `version`: the OpenStack-API-Version header (Nova's 2.79 unless said). */
  async call<T = unknown>(method: string, url: string, body?: unknown, version = 'compute 2.79'): Promise<{ status: number; body: T }> {
    const r = await fetch(url, {
      method,
      headers: { 'x-auth-token': this.token, 'content-type': 'application/json', 'openstack-api-version': version },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
}

/** Resource providers Placement offers for a request (what the scheduler asks before filters run). */
export async function candidates(rest: Rest, query: string): Promise<string[]> {
  const r = await fetch(`http://127.0.0.1:8778/allocation_candidates?${query}`, {
    headers: { 'x-auth-token': rest.token, 'openstack-api-version': 'placement 1.22' },
  });
  if (r.status !== 200) throw new Error(`GET allocation_candidates?${query}: ${r.status} ${(await r.text()).slice(0, 300)}`);
  const body = (await r.json()) as { provider_summaries: Record<string, unknown> };
  return Object.keys(body.provider_summaries);
}
