/**
 * The one interface the runbooks use to talk to an OpenStack cloud. Two implementations pass the
 * same contract suite: RestCloud (the APIs, with a cached token) and CliCloud (the `openstack`
 * client, locally or on a bastion). Values are normalised so callers never see which one ran.
 */

/** A nova-compute (or other) service row. */
export interface ComputeService {
  /** UUID (microversion ≥ 2.53). */
  id: string;
  host: string;
  binary: string;
  zone?: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  disabledReason: string | null;
  forcedDown: boolean;
  updatedAt: string | null;
}

export interface Server {
  id: string;
  name: string;
  status: string;
  taskState: string | null;
  powerState?: number | null;
  host: string | null;
  hypervisorHostname?: string | null;
  instanceName?: string | null;
  projectId?: string;
  /** When Nova created the server (ISO 8601). */
  createdAt?: string;
}

export interface Migration {
  id: number;
  uuid?: string;
  serverId: string;
  status: string;
  migrationType: string;
  sourceCompute: string | null;
  destCompute: string | null;
  createdAt?: string;
  /** When Nova last changed the record (ISO 8601; microversion ≥ 2.59). */
  updatedAt?: string;
}

/**
 * One step of an instance action as Nova records it (os-instance-actions events): for a failed
 * migration, the event that failed and why. `details` is the failure's message (compute 2.84+, e.g.
 * "No valid host was found. "); `traceback` (admins only) holds the frames, not the message.
 */
export interface InstanceActionEvent {
  event: string;
  result: string | null;
  host: string | null;
  startTime: string | null;
  traceback: string | null;
  details: string | null;
}

/** What was done to a server (os-instance-actions), newest first in lists; `events` only from getInstanceAction. */
export interface InstanceAction {
  action: string;
  requestId: string;
  message: string | null;
  startTime: string;
  events?: InstanceActionEvent[];
}

export interface FixedIp {
  subnetId: string;
  ipAddress: string;
}

export interface Port {
  id: string;
  name: string;
  networkId: string;
  macAddress: string;
  status: string;
  fixedIps: FixedIp[];
  deviceId: string;
  deviceOwner: string;
  bindingHostId: string;
  bindingProfile: Record<string, unknown>;
  bindingVifType?: string;
  /** When Neutron created the port (ISO 8601): a port older than its server was not made by Nova for it. */
  createdAt?: string;
  projectId?: string;
}

export interface Network {
  id: string;
  name: string;
  status?: string;
  subnetIds: string[];
}

export interface Subnet {
  id: string;
  name: string;
  networkId: string;
  cidr: string;
  ipVersion: number;
  /** The subnet's gateway address, or null when it has none. */
  gatewayIp: string | null;
  /** Ranges Neutron hands out addresses from when none is asked for (first and last address, inclusive). */
  allocationPools: { start: string; end: string }[];
}

/** A port attached to a server, as Nova sees it (os-interface). */
export interface ServerInterface {
  portId: string;
  networkId: string;
  fixedIps: FixedIp[];
  macAddress: string;
  state: string;
}

export interface Volume {
  id: string;
  name: string | null;
  status: string;
  size: number;
  attachments: { serverId: string; attachmentId?: string; device?: string | null; hostName?: string | null }[];
}

/** A volume attached to a server, as Nova sees it (os-volume_attachments). */
export interface ServerVolume {
  volumeId: string;
  serverId: string;
  device: string | null;
}

/** A Cinder attachment record (attachments API, volume microversion ≥ 3.27). */
export interface VolumeAttachment {
  id: string;
  volumeId: string;
  instanceId: string | null;
  status: string;
  attachedAt?: string | null;
}

/** Resources a consumer holds on each provider: { rpUuid: { VCPU: 1, MEMORY_MB: 64 } }. */
export type Allocations = Record<string, Record<string, number>>;

export interface HostUsage {
  providerId: string;
  providerName: string;
  usages: Record<string, number>;
  /** Consumers (instance/migration UUIDs) with resources on this provider. */
  allocations: Allocations;
}

/**
 * What a compute host's resource provider can still take (Placement inventories and usages): per
 * resource class, `capacity` = (total − reserved) × allocation_ratio and `used` = what its consumers hold.
 */
export interface HostCapacity {
  providerId: string;
  providerName: string;
  capacity: Record<string, number>;
  used: Record<string, number>;
}

export type BlockMigration = boolean | 'auto';

export interface ServerFilter {
  host: string;
  /** Page size for the paged list (limit/marker). */
  pageSize?: number;
}

export interface MigrationFilter {
  serverId?: string;
  host?: string;
  status?: string;
  migrationType?: 'live-migration' | 'migration' | 'evacuation' | 'resize';
  /** Only records Nova changed at or after this time (ISO 8601; `changes-since`, microversion ≥ 2.59). */
  changesSince?: string;
}

export interface PortFilter {
  networkId?: string;
  deviceId?: string;
  name?: string;
  /** Neutron `fixed_ips=ip_address=…` filter. */
  fixedIp?: string;
  subnetId?: string;
  deviceOwner?: string;
}

export interface PortSpec {
  networkId: string;
  name?: string;
  /** Ask for one address (optionally on one subnet): 409 if taken. */
  fixedIp?: { subnetId?: string; ipAddress?: string };
  deviceOwner?: string;
}

/** Port fields to change. Empty strings / {} clear them (the way to detach a port). */
export interface PortUpdate {
  name?: string;
  deviceId?: string;
  deviceOwner?: string;
  bindingHostId?: string;
  bindingProfile?: Record<string, never>;
}

/**
 * Where a backend could not do the thing itself: it used REST instead (`rest`), or judged the result
 * by the resulting state rather than by the CLI's exit code (`state-check`).
 */
export interface Fallback {
  operation: string;
  reason: string;
  via: 'rest' | 'state-check';
}

export interface Cloud {
  readonly backend: 'rest' | 'cli';
  /** Fallbacks taken so far (empty for REST). */
  readonly fallbacks: readonly Fallback[];

  listComputeServices(filter?: { host?: string; binary?: string }): Promise<ComputeService[]>;
  /** The service on a host, or undefined when there is none. */
  getComputeService(host: string, binary?: string): Promise<ComputeService | undefined>;
  disableComputeService(host: string, binary: string, reason: string): Promise<ComputeService>;
  enableComputeService(host: string, binary: string): Promise<ComputeService>;
  /** Force the service down (true) or back up (false); refused while `done` evacuations remain. */
  setComputeServiceForcedDown(host: string, binary: string, down: boolean): Promise<ComputeService>;

  /** Every server on a host across all projects (all pages). */
  listServersOnHost(filter: ServerFilter): Promise<Server[]>;
  getServer(id: string): Promise<Server | undefined>;
  /**
   * Every server Nova changed at or after `since` (ISO 8601), across projects and hosts, deleted ones
   * included (status `DELETED`): the batched observation of an operation's moves reads this once a tick.
   */
  listServersChangedSince(since: string): Promise<Server[]>;
  liveMigrateServer(id: string, opts: { host?: string; blockMigration: BlockMigration }): Promise<void>;
  migrateServer(id: string, opts?: { host?: string }): Promise<void>;
  confirmResize(id: string): Promise<void>;
  /** Rebuild on another host after its own died (service forced down first). */
  evacuateServer(id: string, opts?: { host?: string }): Promise<void>;
  rebootServer(id: string, type: 'SOFT' | 'HARD'): Promise<void>;
  startServer(id: string): Promise<void>;
  stopServer(id: string): Promise<void>;

  listMigrations(filter: MigrationFilter): Promise<Migration[]>;
  abortLiveMigration(serverId: string, migrationId: number): Promise<void>;
  /** The server's actions, newest first (`openstack server event list`). */
  listInstanceActions(serverId: string): Promise<InstanceAction[]>;
  /** One action with its events (`openstack server event show`); undefined when Nova has none by that id. */
  getInstanceAction(serverId: string, requestId: string): Promise<InstanceAction | undefined>;

  listPorts(filter?: PortFilter): Promise<Port[]>;
  getPort(id: string): Promise<Port | undefined>;
  createPort(spec: PortSpec): Promise<Port>;
  /** Several ports; REST creates them in one atomic request. */
  createPorts(specs: PortSpec[]): Promise<Port[]>;
  updatePort(id: string, changes: PortUpdate): Promise<Port>;
  deletePort(id: string): Promise<void>;
  findNetwork(nameOrId: string): Promise<Network | undefined>;
  listSubnets(filter: { networkId?: string; name?: string }): Promise<Subnet[]>;
  /** The ports Nova has attached to a server (os-interface). */
  listServerInterfaces(serverId: string): Promise<ServerInterface[]>;
  /** Attach an existing port to a server (Nova binds it; the call returns before the port is ACTIVE). */
  attachInterface(serverId: string, portId: string): Promise<void>;
  /** Detach a port from a server through Nova; the port itself survives (it was created beforehand). */
  detachInterface(serverId: string, portId: string): Promise<void>;

  getVolume(id: string): Promise<Volume | undefined>;
  listVolumes(filter?: { name?: string; status?: string }): Promise<Volume[]>;
  listServerVolumes(serverId: string): Promise<ServerVolume[]>;
  attachVolume(serverId: string, volumeId: string, device?: string): Promise<void>;
  detachVolume(serverId: string, volumeId: string): Promise<void>;
  listVolumeAttachments(filter: { instanceId?: string; volumeId?: string }): Promise<VolumeAttachment[]>;

  /** Placement allocations of one consumer (instance or migration UUID). */
  getConsumerAllocations(consumerId: string): Promise<Allocations>;
  /** Usage and allocations of the resource provider named after a compute host. */
  getHostUsage(hostName: string): Promise<HostUsage | undefined>;
  /**
   * Moves a consumer's allocations off provider `from` onto provider `to` (one PUT of all its
   * allocations, with the consumer generation read just before, so a concurrent change fails the
   * call instead of being overwritten). Idempotent: nothing on `from` is a no-op; a consumer that
   * already holds resources on `to` just loses those on `from`. Returns the allocations now held.
   */
  moveConsumerAllocations(consumerId: string, from: string, to: string): Promise<Allocations>;
}

/** The allocations a consumer should hold after moving `from` → `to` (undefined: nothing to do). */
export function movedAllocations(current: Allocations, from: string, to: string): Allocations | undefined {
  const moving = current[from];
  if (!moving) return undefined;
  const next: Allocations = {};
  for (const [rp, r] of Object.entries(current)) if (rp !== from) next[rp] = { ...r };
  if (!next[to]) next[to] = { ...moving };
  return next;
}
