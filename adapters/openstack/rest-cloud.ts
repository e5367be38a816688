/**
 * The Cloud interface over the OpenStack REST APIs (Nova at a pinned microversion, Neutron v2.0,
 * Cinder v3, Placement), with one cached Keystone token.
 */
import { systemClock, type Clock } from '../../core/clock.js';
import { movedAllocations } from './cloud.js';
import type {
  Allocations,
  BlockMigration,
  Cloud,
  ComputeService,
  Fallback,
  HostCapacity,
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
import type { CloudConfig } from './cloud-config.js';
import { KeystoneSession } from './keystone-session.js';
import { OpenStackApiError } from './openstack-errors.js';
import { EVENT_DETAILS_MICROVERSION, OpenStackHttp, type OpenStackHttpOptions } from './openstack-http.js';
import * as s from './rest-schemas.js';
import { Transport } from './transport.js';

export interface RestCloudOptions extends OpenStackHttpOptions {
  clock?: Clock;
  renewMarginMs?: number;
}

const enc = encodeURIComponent;

export class RestCloud implements Cloud {
  readonly backend = 'rest' as const;
  readonly fallbacks: readonly Fallback[] = [];
  /** The authenticated HTTP layer (tests and the lab seeding use it for calls outside the interface). */
  readonly http: OpenStackHttp;
  private readonly transport: Transport;

  constructor(config: CloudConfig, opts: RestCloudOptions = {}) {
    this.transport = new Transport({ ...(config.cacert ? { cacert: config.cacert } : {}), insecure: config.insecure });
    const session = new KeystoneSession(config, this.transport, {
      clock: opts.clock ?? systemClock,
      ...(opts.renewMarginMs !== undefined ? { renewMarginMs: opts.renewMarginMs } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
    this.http = new OpenStackHttp(session, this.transport, opts);
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  // --- compute services -------------------------------------------------------------------------

  async listComputeServices(filter: { host?: string; binary?: string } = {}): Promise<ComputeService[]> {
    const r = await this.http.get('compute', '/os-services', { query: { host: filter.host, binary: filter.binary }, schema: s.servicesBody });
    return r.services;
  }

  async getComputeService(host: string, binary = 'nova-compute'): Promise<ComputeService | undefined> {
    return (await this.listComputeServices({ host, binary }))[0];
  }

  private async updateService(host: string, binary: string, body: Record<string, unknown>): Promise<ComputeService> {
    const svc = await this.getComputeService(host, binary);
    if (!svc) {
      throw new OpenStackApiError(`no ${binary} service on host ${host}`, {
        method: 'GET',
        url: `/os-services?host=${host}&binary=${binary}`,
        status: 404,
        outcome: 'rejected',
      });
    }
    const r = await this.http.put('compute', `/os-services/${enc(svc.id)}`, { body, schema: s.serviceBody });
    return r.service;
  }

  disableComputeService(host: string, binary: string, reason: string): Promise<ComputeService> {
    return this.updateService(host, binary, { status: 'disabled', disabled_reason: reason });
  }
  enableComputeService(host: string, binary: string): Promise<ComputeService> {
    return this.updateService(host, binary, { status: 'enabled' });
  }
  setComputeServiceForcedDown(host: string, binary: string, down: boolean): Promise<ComputeService> {
    return this.updateService(host, binary, { forced_down: down });
  }

  // --- servers ----------------------------------------------------------------------------------

  async listServersOnHost(filter: ServerFilter): Promise<Server[]> {
    const limit = filter.pageSize ?? 200;
    const out: Server[] = [];
    let marker: string | undefined;
    for (;;) {
      const r = await this.http.get('compute', '/servers/detail', { query: { host: filter.host, all_tenants: 1, limit, marker }, schema: s.serversBody });
      out.push(...r.servers);
      const next = r.servers_links?.some((l) => l.rel === 'next');
      if (!next || r.servers.length === 0) return out;
      marker = r.servers.at(-1)!.id;
    }
  }

  async listServersChangedSince(since: string): Promise<Server[]> {
    const out: Server[] = [];
    let marker: string | undefined;
    for (;;) {
      const r = await this.http.get('compute', '/servers/detail', {
        query: { all_tenants: 1, 'changes-since': since, limit: 200, marker },
        schema: s.serversBody,
      });
      out.push(...r.servers);
      if (!r.servers_links?.some((l) => l.rel === 'next') || r.servers.length === 0) return out;
      marker = r.servers.at(-1)!.id;
    }
  }

  async getServer(id: string): Promise<Server | undefined> {
    return (await this.http.get('compute', `/servers/${enc(id)}`, { schema: s.serverBody, allow404: true }))?.server;
  }

  private async action(id: string, body: Record<string, unknown>): Promise<void> {
    await this.http.post('compute', `/servers/${enc(id)}/action`, { body });
  }

  liveMigrateServer(id: string, opts: { host?: string; blockMigration: BlockMigration }): Promise<void> {
    return this.action(id, { 'os-migrateLive': { host: opts.host ?? null, block_migration: opts.blockMigration } });
  }
  migrateServer(id: string, opts: { host?: string } = {}): Promise<void> {
    return this.action(id, { migrate: opts.host ? { host: opts.host } : null });
  }
  confirmResize(id: string): Promise<void> {
    return this.action(id, { confirmResize: null });
  }
  evacuateServer(id: string, opts: { host?: string } = {}): Promise<void> {
    return this.action(id, { evacuate: opts.host ? { host: opts.host } : {} });
  }
  rebootServer(id: string, type: 'SOFT' | 'HARD'): Promise<void> {
    return this.action(id, { reboot: { type } });
  }
  startServer(id: string): Promise<void> {
    return this.action(id, { 'os-start': null });
  }
  stopServer(id: string): Promise<void> {
    return this.action(id, { 'os-stop': null });
  }

  async listMigrations(f: MigrationFilter): Promise<Migration[]> {
    const out: Migration[] = [];
    let marker: string | undefined;
    for (;;) {
      const r = await this.http.get('compute', '/os-migrations', {
        query: {
          instance_uuid: f.serverId,
          host: f.host,
          status: f.status,
          migration_type: f.migrationType,
          'changes-since': f.changesSince,
          limit: 500,
          marker,
        },
        schema: s.migrationsBody,
      });
      out.push(...r.migrations);
      const last = r.migrations.at(-1);
      if (!r.migrations_links?.some((l) => l.rel === 'next') || !last?.uuid) return out;
      marker = last.uuid;
    }
  }

  async abortLiveMigration(serverId: string, migrationId: number): Promise<void> {
    await this.http.delete('compute', `/servers/${enc(serverId)}/migrations/${migrationId}`);
  }
  async listInstanceActions(serverId: string): Promise<InstanceAction[]> {
    const r = await this.http.get('compute', `/servers/${enc(serverId)}/os-instance-actions`, { schema: s.instanceActionsBody, allow404: true });
    return (r?.instanceActions ?? []).sort((a, b) => b.startTime.localeCompare(a.startTime));
  }
  async getInstanceAction(serverId: string, requestId: string): Promise<InstanceAction | undefined> {
    const path = `/servers/${enc(serverId)}/os-instance-actions/${enc(requestId)}`;
    // 2.84 adds each event's `details`; a cloud older than Ussuri answers 406, and gets the pinned version
    try {
      return (await this.http.get('compute', path, { schema: s.instanceActionBody, allow404: true, microversion: EVENT_DETAILS_MICROVERSION }))?.instanceAction;
    } catch (e) {
      if (!(e instanceof OpenStackApiError) || (e.status !== 406 && e.status !== 400)) throw e;
      return (await this.http.get('compute', path, { schema: s.instanceActionBody, allow404: true }))?.instanceAction;
    }
  }

  // --- network ----------------------------------------------------------------------------------

  async listPorts(f: PortFilter = {}): Promise<Port[]> {
    const fixed = [...(f.fixedIp ? [`ip_address=${f.fixedIp}`] : []), ...(f.subnetId ? [`subnet_id=${f.subnetId}`] : [])];
    const r = await this.http.get('network', '/ports', {
      query: { network_id: f.networkId, device_id: f.deviceId, device_owner: f.deviceOwner, name: f.name, fixed_ips: fixed.length ? fixed : undefined },
      schema: s.portsBody,
    });
    return r.ports;
  }

  async getPort(id: string): Promise<Port | undefined> {
    return (await this.http.get('network', `/ports/${enc(id)}`, { schema: s.portBody, allow404: true }))?.port;
  }

  async createPort(spec: PortSpec): Promise<Port> {
    return (await this.http.post('network', '/ports', { body: { port: portBody(spec) }, schema: s.portBody })).port;
  }

  async createPorts(specs: PortSpec[]): Promise<Port[]> {
    if (specs.length === 0) return [];
    // Neutron's bulk create: one request, all ports or none.
    return (await this.http.post('network', '/ports', { body: { ports: specs.map(portBody) }, schema: s.portsBody })).ports;
  }

  async updatePort(id: string, c: PortUpdate): Promise<Port> {
    const body: Record<string, unknown> = {};
    if (c.name !== undefined) body.name = c.name;
    if (c.deviceId !== undefined) body.device_id = c.deviceId;
    if (c.deviceOwner !== undefined) body.device_owner = c.deviceOwner;
    if (c.bindingHostId !== undefined) body['binding:host_id'] = c.bindingHostId;
    if (c.bindingProfile !== undefined) body['binding:profile'] = c.bindingProfile;
    return (await this.http.put('network', `/ports/${enc(id)}`, { body: { port: body }, schema: s.portBody })).port;
  }

  async deletePort(id: string): Promise<void> {
    await this.http.delete('network', `/ports/${enc(id)}`);
  }

  async findNetwork(nameOrId: string): Promise<Network | undefined> {
    const byId = /^[0-9a-f-]{36}$/.test(nameOrId)
      ? await this.http.get('network', `/networks/${enc(nameOrId)}`, { schema: s.networkBody, allow404: true })
      : undefined;
    if (byId) return byId.network;
    const r = await this.http.get('network', '/networks', { query: { name: nameOrId }, schema: s.networksBody });
    if (r.networks.length > 1) {
      throw new OpenStackApiError(`network name "${nameOrId}" is ambiguous (${r.networks.length} networks); use its id`, {
        method: 'GET',
        url: '/v2.0/networks',
        outcome: 'rejected',
      });
    }
    return r.networks[0];
  }

  async listSubnets(f: { networkId?: string; name?: string }): Promise<Subnet[]> {
    return (await this.http.get('network', '/subnets', { query: { network_id: f.networkId, name: f.name }, schema: s.subnetsBody })).subnets;
  }

  async listServerInterfaces(serverId: string): Promise<ServerInterface[]> {
    return (await this.http.get('compute', `/servers/${enc(serverId)}/os-interface`, { schema: s.interfacesBody })).interfaceAttachments;
  }

  async attachInterface(serverId: string, portId: string): Promise<void> {
    await this.http.post('compute', `/servers/${enc(serverId)}/os-interface`, { body: { interfaceAttachment: { port_id: portId } } });
  }

  async detachInterface(serverId: string, portId: string): Promise<void> {
    await this.http.delete('compute', `/servers/${enc(serverId)}/os-interface/${enc(portId)}`);
  }

  // --- volumes ----------------------------------------------------------------------------------

  async getVolume(id: string): Promise<Volume | undefined> {
    return (await this.http.get('volume', `/volumes/${enc(id)}`, { schema: s.volumeBody, allow404: true }))?.volume;
  }

  async listVolumes(f: { name?: string; status?: string } = {}): Promise<Volume[]> {
    return (await this.http.get('volume', '/volumes/detail', { query: { all_tenants: 1, name: f.name, status: f.status }, schema: s.volumesBody })).volumes;
  }

  async listServerVolumes(serverId: string): Promise<ServerVolume[]> {
    const r = await this.http.get('compute', `/servers/${enc(serverId)}/os-volume_attachments`, { schema: s.serverVolumesBody });
    return r.volumeAttachments.map((a) => ({ volumeId: a.volumeId, serverId: a.serverId, device: a.device }));
  }

  async attachVolume(serverId: string, volumeId: string, device?: string): Promise<void> {
    await this.http.post('compute', `/servers/${enc(serverId)}/os-volume_attachments`, {
      body: { volumeAttachment: { volumeId, ...(device ? { device } : {}) } },
    });
  }

  async detachVolume(serverId: string, volumeId: string): Promise<void> {
    await this.http.delete('compute', `/servers/${enc(serverId)}/os-volume_attachments/${enc(volumeId)}`);
  }

  async listVolumeAttachments(f: { instanceId?: string; volumeId?: string }): Promise<VolumeAttachment[]> {
    const r = await this.http.get('volume', '/attachments/detail', {
      query: { all_tenants: 1, instance_id: f.instanceId, volume_id: f.volumeId },
      schema: s.attachmentsBody,
    });
    return r.attachments;
  }

  // --- placement --------------------------------------------------------------------------------

  async getConsumerAllocations(consumerId: string): Promise<Allocations> {
    const r = await this.http.get('placement', `/allocations/${enc(consumerId)}`, { schema: s.allocationsBody });
    return Object.fromEntries(Object.entries(r.allocations).map(([rp, a]) => [rp, a.resources]));
  }

  async moveConsumerAllocations(consumerId: string, from: string, to: string): Promise<Allocations> {
    const cur = await this.http.get('placement', `/allocations/${enc(consumerId)}`, { schema: s.consumerAllocationsBody });
    const held = Object.fromEntries(Object.entries(cur.allocations).map(([rp, a]) => [rp, a.resources]));
    const next = movedAllocations(held, from, to);
    if (!next) return held;
    // 1.28: the generation makes the PUT fail (409) if anyone changed the consumer since the GET
    await this.http.put('placement', `/allocations/${enc(consumerId)}`, {
      body: {
        allocations: Object.fromEntries(Object.entries(next).map(([rp, resources]) => [rp, { resources }])),
        consumer_generation: cur.consumer_generation ?? null,
        project_id: cur.project_id,
        user_id: cur.user_id,
      },
    });
    return next;
  }

  /** Placement's capacity and usage of a host's provider (see readHostCapacity). */
  getHostCapacity(hostName: string): Promise<HostCapacity | undefined> {
    return readHostCapacity(this.http, hostName);
  }

  async getHostUsage(hostName: string): Promise<HostUsage | undefined> {
    const rps = await this.http.get('placement', '/resource_providers', { query: { name: hostName }, schema: s.providersBody });
    const rp = rps.resource_providers[0];
    if (!rp) return undefined;
    const usages = await this.http.get('placement', `/resource_providers/${enc(rp.uuid)}/usages`, { schema: s.usagesBody });
    const allocs = await this.http.get('placement', `/resource_providers/${enc(rp.uuid)}/allocations`, { schema: s.allocationsBody });
    return {
      providerId: rp.uuid,
      providerName: rp.name,
      usages: usages.usages,
      allocations: Object.fromEntries(Object.entries(allocs.allocations).map(([c, a]) => [c, a.resources])),
    };
  }
}

/**
 * REST only (not part of the Cloud interface; the compute watcher reads it through REST whatever the
 * commands' backend): the capacity Placement still has on a host's resource provider, three calls.
 */
export async function readHostCapacity(http: OpenStackHttp, hostName: string): Promise<HostCapacity | undefined> {
  const rps = await http.get('placement', '/resource_providers', { query: { name: hostName }, schema: s.providersBody });
  const rp = rps.resource_providers[0];
  if (!rp) return undefined;
  const [inv, usages] = await Promise.all([
    http.get('placement', `/resource_providers/${enc(rp.uuid)}/inventories`, { schema: s.inventoriesBody }),
    http.get('placement', `/resource_providers/${enc(rp.uuid)}/usages`, { schema: s.usagesBody }),
  ]);
  const capacity = Object.fromEntries(Object.entries(inv.inventories).map(([rc, i]) => [rc, Math.floor((i.total - i.reserved) * i.allocation_ratio)]));
  return { providerId: rp.uuid, providerName: rp.name, capacity, used: usages.usages };
}

function portBody(spec: PortSpec): Record<string, unknown> {
  const ip = spec.fixedIp;
  return {
    network_id: spec.networkId,
    ...(spec.name !== undefined ? { name: spec.name } : {}),
    ...(spec.deviceOwner !== undefined ? { device_owner: spec.deviceOwner } : {}),
    ...(ip ? { fixed_ips: [{ ...(ip.subnetId ? { subnet_id: ip.subnetId } : {}), ...(ip.ipAddress ? { ip_address: ip.ipAddress } : {}) }] } : {}),
  };
}
