/**
 * The Cloud interface over the real `openstack` client (python-openstackclient 6.0.0), run locally
 * or on a bastion through a CommandRunner, `-f json` parsed with zod. Where OSC 6.0.0 cannot do a
 * thing it falls back to REST and records it in `fallbacks`; where it lies in its exit code
 * (evacuate) it checks the resulting state instead.
 */
import type { z } from 'zod';
import { cliCommands as cmd, commandLine, type CliCommand } from './cli-commands.js';
import { movedAllocations } from './cloud.js';
import * as c from './cli-schemas.js';
import type {
  Allocations,
  BlockMigration,
  Cloud,
  ComputeService,
  Fallback,
  HostUsage,
  InstanceAction,
  Migration,
  MigrationFilter,
  Network,
  Port,
  PortFilter,
  PortSpec,
  PortUpdate,
  Server,
  ServerFilter,
  ServerInterface,
  ServerVolume,
  Subnet,
  Volume,
  VolumeAttachment,
} from './cloud.js';
import type { CommandRunner } from './command-runner.js';
import type { RequestBudget } from './request-budget.js';
import { EVENT_DETAILS_MICROVERSION, MICROVERSIONS } from './openstack-http.js';
import { OpenStackCliError, tail } from './openstack-errors.js';
import { instanceActionSchema, serverSchema, volumeSchema } from './rest-schemas.js';

export interface CliCloudOptions {
  runner: CommandRunner;
  /** Options placed after `openstack`, e.g. ['--os-cloud', 'lab']. */
  globalArgs?: string[];
  /** Used only where OSC 6.0.0 cannot do the job (clearing a port's device_id). */
  rest: Pick<Cloud, 'updatePort'>;
  timeoutMs?: number;
  /** Called on each fallback (for the operation's log). */
  onFallback?: (f: Fallback) => void;
  /** The cloud's request budget: each invocation takes a slot of the service it talks to. */
  budget?: RequestBudget;
}

/** The service an `openstack` command talks to (most of its requests), for the request budget. */
export function serviceOfCommand(argv: readonly string[]): string {
  let noun = '';
  for (let i = 1; i < argv.length && !noun; i++) {
    const a = argv[i]!;
    if (a.startsWith('--os-'))
      i++; // a global option and its value
    else if (!a.startsWith('-')) noun = a;
  }
  if (noun === 'resource') return 'placement';
  if (['port', 'network', 'subnet', 'floating'].includes(noun)) return 'network';
  if (noun === 'volume') return 'volume';
  if (noun === 'image') return 'image';
  return 'compute';
}

const REFUSED = /\(HTTP 4\d\d\)|\b4\d\d: Client Error|usage: openstack|error: argument|CommandError|No (?:\w+ )+(?:found|with a name or ID)/i;
const NOT_FOUND = /No (?:\w+ )+(?:found|with a name or ID)|could not be found|HTTP 404/i;

export class CliCloud implements Cloud {
  readonly backend = 'cli' as const;
  private readonly fallbackLog: Fallback[] = [];
  private readonly timeoutMs: number;

  constructor(private readonly o: CliCloudOptions) {
    this.timeoutMs = o.timeoutMs ?? 120_000;
  }

  get fallbacks(): readonly Fallback[] {
    return this.fallbackLog;
  }

  /** Runs one command; `write` decides what a timeout means. Returns parsed JSON when `schema` is given. */
  private async run<T>(
    command: CliCommand,
    o: { write: boolean; schema?: z.ZodType<T>; allowNotFound?: boolean; acceptExit?: boolean },
  ): Promise<T | undefined> {
    const [, ...rest] = command.argv;
    const version = command.computeVersion ?? MICROVERSIONS.compute;
    const argv = ['openstack', ...(this.o.globalArgs ?? []), '--os-compute-api-version', version, ...rest, ...(o.schema ? ['-f', 'json'] : [])];
    await this.o.budget?.acquire(serviceOfCommand(command.argv));
    const r = await this.o.runner.run(argv, { timeoutMs: this.timeoutMs, env: { OS_COMPUTE_API_VERSION: version } });
    const base = { argv, exitCode: r.exitCode, stderrTail: tail(r.stderr), durationMs: r.durationMs, where: this.o.runner.where };
    if (r.timedOut) {
      throw new OpenStackCliError('openstack command timed out', { ...base, outcome: o.write ? 'unknown' : 'rejected' });
    }
    if (r.exitCode !== 0 && !o.acceptExit) {
      if (o.allowNotFound && NOT_FOUND.test(r.stderr)) return undefined;
      // An HTTP 4xx (novaclient "(HTTP 409)", openstacksdk "ConflictException: 409: Client Error"),
      // a usage error or a failed look-up means nothing was done; anything else after a write
      // leaves the outcome open.
      const refused = REFUSED.test(r.stderr);
      throw new OpenStackCliError('openstack command failed', { ...base, outcome: !o.write || refused ? 'rejected' : 'unknown' });
    }
    if (!o.schema) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      throw new OpenStackCliError('openstack printed no JSON', { ...base, stderrTail: tail(r.stdout || r.stderr), outcome: o.write ? 'unknown' : 'rejected' });
    }
    const p = o.schema.safeParse(json);
    if (!p.success) {
      const i = p.error.issues[0];
      throw new OpenStackCliError(`unexpected openstack output (${i?.path.join('.')}: ${i?.message})`, {
        ...base,
        stderrTail: tail(r.stdout, 400),
        outcome: o.write ? 'unknown' : 'rejected',
      });
    }
    return p.data;
  }

  private read<T>(command: CliCommand, schema: z.ZodType<T>): Promise<T> {
    return this.run(command, { write: false, schema }) as Promise<T>;
  }
  private async write(command: CliCommand): Promise<void> {
    await this.run(command, { write: true });
  }

  private fallback(operation: string, reason: string, via: Fallback['via'] = 'rest'): void {
    const f: Fallback = { operation, reason, via };
    this.fallbackLog.push(f);
    this.o.onFallback?.(f);
  }

  // --- compute services (OSC's `compute service set` prints nothing: read the result back) ---------

  listComputeServices(f: { host?: string; binary?: string } = {}): Promise<ComputeService[]> {
    return this.read(cmd.listComputeServices(f), c.cliServices);
  }
  async getComputeService(host: string, binary = 'nova-compute'): Promise<ComputeService | undefined> {
    return (await this.listComputeServices({ host, binary }))[0];
  }
  private async setService(command: CliCommand, host: string, binary: string): Promise<ComputeService> {
    await this.write(command);
    const s = await this.getComputeService(host, binary);
    if (!s)
      throw new OpenStackCliError(`no ${binary} on ${host} after ${commandLine(command.argv)}`, {
        argv: command.argv,
        stderrTail: '',
        durationMs: 0,
        where: this.o.runner.where,
        outcome: 'rejected',
      });
    return s;
  }
  disableComputeService(host: string, binary: string, reason: string): Promise<ComputeService> {
    return this.setService(cmd.disableComputeService(host, binary, reason), host, binary);
  }
  enableComputeService(host: string, binary: string): Promise<ComputeService> {
    return this.setService(cmd.enableComputeService(host, binary), host, binary);
  }
  setComputeServiceForcedDown(host: string, binary: string, down: boolean): Promise<ComputeService> {
    return this.setService(cmd.setComputeServiceForcedDown(host, binary, down), host, binary);
  }

  // --- servers --------------------------------------------------------------------------------

  listServersOnHost(f: ServerFilter): Promise<Server[]> {
    // One call: OSC pages through all results itself, and --long carries task state and host.
    return this.read(cmd.listServersOnHost(f.host), c.cliServerList);
  }
  listServersChangedSince(since: string): Promise<Server[]> {
    return this.read(cmd.listServersChangedSince(since), c.cliServerList);
  }
  async getServer(id: string): Promise<Server | undefined> {
    return this.run(cmd.getServer(id), { write: false, schema: serverSchema, allowNotFound: true });
  }
  liveMigrateServer(id: string, o: { host?: string; blockMigration: BlockMigration }): Promise<void> {
    return this.write(cmd.liveMigrateServer(id, o));
  }
  migrateServer(id: string, o: { host?: string } = {}): Promise<void> {
    return this.write(cmd.migrateServer(id, o));
  }
  confirmResize(id: string): Promise<void> {
    return this.write(cmd.confirmResize(id));
  }
  async evacuateServer(id: string, o: { host?: string } = {}): Promise<void> {
    // OSC 6.0.0 exits 1 after a *successful* evacuation ('TupleWithMeta' object has no attribute
    // 'to_dict'). Decide by the state: a new evacuation record for this server means Nova took it.
    const before = new Set((await this.listMigrations({ serverId: id, migrationType: 'evacuation' })).map((m) => m.id));
    const command = cmd.evacuateServer(id, o);
    try {
      await this.run(command, { write: true });
    } catch (e) {
      if (!(e instanceof OpenStackCliError) || (e.outcome === 'rejected' && REFUSED.test(e.stderrTail))) throw e;
      const after = await this.listMigrations({ serverId: id, migrationType: 'evacuation' });
      if (!after.some((m) => !before.has(m.id))) throw e;
      this.fallback('evacuateServer', `exit ${e.exitCode ?? '?'} ignored: Nova recorded the evacuation (OSC 6.0.0 bug)`, 'state-check');
    }
  }
  rebootServer(id: string, type: 'SOFT' | 'HARD'): Promise<void> {
    return this.write(cmd.rebootServer(id, type));
  }
  startServer(id: string): Promise<void> {
    return this.write(cmd.startServer(id));
  }
  stopServer(id: string): Promise<void> {
    return this.write(cmd.stopServer(id));
  }

  listMigrations(f: MigrationFilter): Promise<Migration[]> {
    return this.read(cmd.listMigrations(f), c.cliMigrations);
  }
  abortLiveMigration(serverId: string, migrationId: number): Promise<void> {
    return this.write(cmd.abortLiveMigration(serverId, migrationId));
  }
  async listInstanceActions(serverId: string): Promise<InstanceAction[]> {
    return (await this.read(cmd.listInstanceActions(serverId), c.cliInstanceActions)).sort((a, b) => b.startTime.localeCompare(a.startTime));
  }
  async getInstanceAction(serverId: string, requestId: string): Promise<InstanceAction | undefined> {
    // 2.84 adds each event's `details`; a cloud older than Ussuri refuses it, and gets the pinned version
    try {
      return await this.run(cmd.getInstanceAction(serverId, requestId, EVENT_DETAILS_MICROVERSION), {
        write: false,
        schema: instanceActionSchema,
        allowNotFound: true,
      });
    } catch (e) {
      if (!(e instanceof OpenStackCliError) || !/version/i.test(e.stderrTail)) throw e;
      return this.run(cmd.getInstanceAction(serverId, requestId), { write: false, schema: instanceActionSchema, allowNotFound: true });
    }
  }

  // --- network --------------------------------------------------------------------------------

  async listPorts(f: PortFilter = {}): Promise<Port[]> {
    // `port list` has no device_id/binding columns: list ids, then show each.
    const rows = await this.read(cmd.listPorts(f), c.cliIdList);
    const out: Port[] = [];
    for (const r of rows) {
      const p = await this.getPort(r.ID);
      if (p) out.push(p);
    }
    return out;
  }
  getPort(id: string): Promise<Port | undefined> {
    return this.run(cmd.getPort(id), { write: false, schema: c.cliPort, allowNotFound: true });
  }
  async createPort(spec: PortSpec): Promise<Port> {
    return (await this.run(cmd.createPort(spec), { write: true, schema: c.cliPort }))!;
  }
  async createPorts(specs: PortSpec[]): Promise<Port[]> {
    // The CLI has no bulk create: one call per port. Neutron's bulk request is all-or-nothing, so
    // keep that promise here: on a failure, delete what this call created, then report it.
    const made: Port[] = [];
    try {
      for (const s of specs) made.push(await this.createPort(s));
      return made;
    } catch (e) {
      for (const p of made) await this.deletePort(p.id).catch(() => undefined);
      throw e;
    }
  }
  async updatePort(id: string, ch: PortUpdate): Promise<Port> {
    const { deviceId, ...rest } = ch;
    const cliPart: PortUpdate = { ...rest, ...(deviceId ? { deviceId } : {}) };
    for (const command of cmd.updatePort(id, cliPart)) await this.write(command);
    if (deviceId === '') {
      this.fallback('updatePort', 'python-openstackclient 6.0.0 ignores `port set --device ""`: device_id cleared by REST PUT /v2.0/ports/{id}');
      return this.o.rest.updatePort(id, { deviceId: '' });
    }
    const p = await this.getPort(id);
    if (!p)
      throw new OpenStackCliError(`port ${id} vanished after update`, {
        argv: cmd.getPort(id).argv,
        stderrTail: '',
        durationMs: 0,
        where: this.o.runner.where,
        outcome: 'rejected',
      });
    return p;
  }
  deletePort(id: string): Promise<void> {
    return this.write(cmd.deletePort(id));
  }
  async findNetwork(nameOrId: string): Promise<Network | undefined> {
    const n = await this.run(cmd.findNetwork(nameOrId), { write: false, schema: c.cliNetwork, allowNotFound: true });
    return n && { id: n.id, name: n.name, ...(n.status ? { status: n.status } : {}), subnetIds: n.subnets ?? [] };
  }
  listSubnets(f: { networkId?: string; name?: string }): Promise<Subnet[]> {
    return this.read(cmd.listSubnets(f), c.cliSubnets);
  }

  async listServerInterfaces(serverId: string): Promise<ServerInterface[]> {
    const rows = await this.read(cmd.listServerInterfaces(serverId), c.cliIdList);
    const out: ServerInterface[] = [];
    for (const r of rows) {
      const p = await this.getPort(r.ID);
      if (p) out.push({ portId: p.id, networkId: p.networkId, fixedIps: p.fixedIps, macAddress: p.macAddress, state: p.status });
    }
    return out;
  }
  attachInterface(serverId: string, portId: string): Promise<void> {
    return this.write(cmd.attachInterface(serverId, portId));
  }
  detachInterface(serverId: string, portId: string): Promise<void> {
    return this.write(cmd.detachInterface(serverId, portId));
  }

  // --- volumes --------------------------------------------------------------------------------

  getVolume(id: string): Promise<Volume | undefined> {
    return this.run(cmd.getVolume(id), { write: false, schema: volumeSchema, allowNotFound: true });
  }
  async listVolumes(f: { name?: string; status?: string } = {}): Promise<Volume[]> {
    const rows = await this.read(cmd.listVolumes(f), c.cliIdList);
    const out: Volume[] = [];
    for (const r of rows) {
      const v = await this.getVolume(r.ID);
      if (v) out.push(v);
    }
    return out;
  }
  listServerVolumes(serverId: string): Promise<ServerVolume[]> {
    return this.read(cmd.listServerVolumes(serverId), c.cliServerVolumes);
  }
  attachVolume(serverId: string, volumeId: string, device?: string): Promise<void> {
    return this.write(cmd.attachVolume(serverId, volumeId, device));
  }
  detachVolume(serverId: string, volumeId: string): Promise<void> {
    return this.write(cmd.detachVolume(serverId, volumeId));
  }
  async listVolumeAttachments(f: { instanceId?: string; volumeId?: string }): Promise<VolumeAttachment[]> {
    const all = await this.read(cmd.listVolumeAttachments(f), c.cliAttachments);
    return f.instanceId ? all.filter((a) => a.instanceId === f.instanceId) : all;
  }

  // --- placement (osc-placement) ------------------------------------------------------------------

  async getConsumerAllocations(consumerId: string): Promise<Allocations> {
    const rows = await this.read(cmd.getConsumerAllocations(consumerId), c.cliConsumerAllocations);
    return Object.fromEntries(rows.map((r) => [r.resource_provider, r.resources]));
  }
  async moveConsumerAllocations(consumerId: string, from: string, to: string): Promise<Allocations> {
    const rows = await this.read(cmd.getConsumerAllocations(consumerId), c.cliConsumerAllocations);
    const held: Allocations = Object.fromEntries(rows.map((r) => [r.resource_provider, r.resources]));
    const next = movedAllocations(held, from, to);
    if (!next) return held;
    const owner = rows.find((r) => r.project_id && r.user_id);
    if (!owner?.project_id || !owner.user_id) {
      throw new OpenStackCliError(`consumer ${consumerId}: placement shows no project/user for its allocations`, {
        argv: cmd.getConsumerAllocations(consumerId).argv,
        stderrTail: '',
        durationMs: 0,
        where: this.o.runner.where,
        outcome: 'rejected',
      });
    }
    await this.run(cmd.setConsumerAllocations(consumerId, next, { projectId: owner.project_id, userId: owner.user_id }), {
      write: true,
      schema: c.cliConsumerAllocations,
    });
    return next;
  }

  async getHostUsage(hostName: string): Promise<HostUsage | undefined> {
    const rp = (await this.read(cmd.findResourceProvider(hostName), c.cliProviders))[0];
    if (!rp) return undefined;
    const usages = await this.read(cmd.getProviderUsage(rp.uuid), c.cliUsages);
    const shown = await this.read(cmd.getProviderAllocations(rp.uuid), c.cliProviderAllocations);
    return {
      providerId: rp.uuid,
      providerName: rp.name,
      usages: Object.fromEntries(usages.map((u) => [u.resource_class, u.usage])),
      allocations: Object.fromEntries(Object.entries(shown.allocations ?? {}).map(([k, a]) => [k, a.resources])),
    };
  }
}
