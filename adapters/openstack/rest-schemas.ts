/**
 * zod schemas of the REST responses: only the fields the adapter uses, everything else passed
 * through. Each maps to the normalised types of cloud.ts.
 */
import { z } from 'zod';
import type { ComputeService, InstanceAction, Migration, Network, Port, Server, ServerInterface, Subnet, Volume, VolumeAttachment } from './cloud.js';

const nstr = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

export const computeServiceSchema = z
  .object({
    id: z.union([z.string(), z.number()]).transform(String),
    host: z.string(),
    binary: z.string(),
    zone: z.string().nullish(),
    status: z.enum(['enabled', 'disabled']),
    state: z.enum(['up', 'down']),
    disabled_reason: nstr,
    forced_down: z.boolean().default(false),
    updated_at: nstr,
  })
  .passthrough()
  .transform((s): ComputeService => ({
    id: s.id,
    host: s.host,
    binary: s.binary,
    ...(s.zone ? { zone: s.zone } : {}),
    status: s.status,
    state: s.state,
    disabledReason: s.disabled_reason,
    forcedDown: s.forced_down,
    updatedAt: s.updated_at,
  }));
export const servicesBody = z.object({ services: z.array(computeServiceSchema) });
export const serviceBody = z.object({ service: computeServiceSchema });

export const serverSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.string(),
    tenant_id: z.string().optional(),
    'OS-EXT-STS:task_state': nstr,
    'OS-EXT-STS:power_state': z.number().nullish(),
    'OS-EXT-SRV-ATTR:host': nstr,
    'OS-EXT-SRV-ATTR:hypervisor_hostname': nstr,
    'OS-EXT-SRV-ATTR:instance_name': nstr,
    created: z.string().optional(),
  })
  .passthrough()
  .transform((s): Server => ({
    id: s.id,
    name: s.name,
    status: s.status,
    taskState: s['OS-EXT-STS:task_state'],
    powerState: s['OS-EXT-STS:power_state'] ?? null,
    host: s['OS-EXT-SRV-ATTR:host'],
    hypervisorHostname: s['OS-EXT-SRV-ATTR:hypervisor_hostname'],
    instanceName: s['OS-EXT-SRV-ATTR:instance_name'],
    ...(s.tenant_id ? { projectId: s.tenant_id } : {}),
    ...(s.created ? { createdAt: s.created } : {}),
  }));
const link = z.object({ rel: z.string(), href: z.string() }).passthrough();
export const serversBody = z.object({ servers: z.array(serverSchema), servers_links: z.array(link).optional() });
export const serverBody = z.object({ server: serverSchema });

export const migrationSchema = z
  .object({
    id: z.number(),
    uuid: z.string().optional(),
    instance_uuid: z.string(),
    status: z.string(),
    migration_type: z.string(),
    source_compute: nstr,
    dest_compute: nstr,
    created_at: z.string().optional(),
    updated_at: z.string().nullish(),
  })
  .passthrough()
  .transform((m): Migration => ({
    id: m.id,
    ...(m.uuid ? { uuid: m.uuid } : {}),
    serverId: m.instance_uuid,
    status: m.status,
    migrationType: m.migration_type,
    sourceCompute: m.source_compute,
    destCompute: m.dest_compute,
    ...(m.created_at ? { createdAt: m.created_at } : {}),
    ...(m.updated_at ? { updatedAt: m.updated_at } : {}),
  }));
export const migrationsBody = z.object({ migrations: z.array(migrationSchema), migrations_links: z.array(link).optional() });

const instanceActionEvent = z
  .object({
    event: z.string(),
    result: nstr,
    host: nstr,
    start_time: nstr,
    traceback: nstr,
    details: nstr,
  })
  .passthrough();
/** An instance action as the API (and `openstack server event show -f json`) names its fields. */
export const instanceActionSchema = z
  .object({
    action: z.string(),
    request_id: z.string(),
    message: nstr,
    start_time: z.string(),
    events: z.array(instanceActionEvent).optional(),
  })
  .passthrough()
  .transform((a): InstanceAction => ({
    action: a.action,
    requestId: a.request_id,
    message: a.message,
    startTime: a.start_time,
    ...(a.events
      ? {
          events: a.events.map((e) => ({
            event: e.event,
            result: e.result,
            host: e.host,
            startTime: e.start_time,
            traceback: e.traceback,
            details: e.details,
          })),
        }
      : {}),
  }));
export const instanceActionsBody = z.object({ instanceActions: z.array(instanceActionSchema) });
export const instanceActionBody = z.object({ instanceAction: instanceActionSchema });

export const portSchema = z
  .object({
    id: z.string(),
    name: z.string().default(''),
    network_id: z.string(),
    mac_address: z.string(),
    status: z.string(),
    fixed_ips: z.array(z.object({ subnet_id: z.string(), ip_address: z.string() }).passthrough()).default([]),
    device_id: z.string().default(''),
    device_owner: z.string().default(''),
    'binding:host_id': z.string().nullish(),
    'binding:profile': z.record(z.string(), z.unknown()).nullish(),
    'binding:vif_type': z.string().nullish(),
    created_at: z.string().nullish(),
    project_id: z.string().nullish(),
  })
  .passthrough()
  .transform((p): Port => ({
    id: p.id,
    name: p.name,
    networkId: p.network_id,
    macAddress: p.mac_address,
    status: p.status,
    fixedIps: p.fixed_ips.map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address })),
    deviceId: p.device_id,
    deviceOwner: p.device_owner,
    bindingHostId: p['binding:host_id'] ?? '',
    bindingProfile: p['binding:profile'] ?? {},
    ...(p['binding:vif_type'] ? { bindingVifType: p['binding:vif_type'] } : {}),
    ...(p.created_at ? { createdAt: p.created_at } : {}),
    ...(p.project_id ? { projectId: p.project_id } : {}),
  }));
export const portsBody = z.object({ ports: z.array(portSchema) });
export const portBody = z.object({ port: portSchema });

export const networkSchema = z
  .object({ id: z.string(), name: z.string(), status: z.string().optional(), subnets: z.array(z.string()).default([]) })
  .passthrough()
  .transform((n): Network => ({ id: n.id, name: n.name, ...(n.status ? { status: n.status } : {}), subnetIds: n.subnets }));
export const networksBody = z.object({ networks: z.array(networkSchema) });
export const networkBody = z.object({ network: networkSchema });

const pools = z.array(z.object({ start: z.string(), end: z.string() }).passthrough()).nullish();
export const subnetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    network_id: z.string(),
    cidr: z.string(),
    ip_version: z.number(),
    gateway_ip: nstr,
    allocation_pools: pools,
  })
  .passthrough()
  .transform((s): Subnet => ({
    id: s.id,
    name: s.name,
    networkId: s.network_id,
    cidr: s.cidr,
    ipVersion: s.ip_version,
    gatewayIp: s.gateway_ip,
    allocationPools: (s.allocation_pools ?? []).map((p) => ({ start: p.start, end: p.end })),
  }));
export const subnetsBody = z.object({ subnets: z.array(subnetSchema) });

export const interfacesBody = z.object({
  interfaceAttachments: z.array(
    z
      .object({
        port_id: z.string(),
        net_id: z.string(),
        mac_addr: z.string(),
        port_state: z.string(),
        fixed_ips: z.array(z.object({ subnet_id: z.string(), ip_address: z.string() }).passthrough()).default([]),
      })
      .passthrough()
      .transform((i): ServerInterface => ({
        portId: i.port_id,
        networkId: i.net_id,
        macAddress: i.mac_addr,
        state: i.port_state,
        fixedIps: i.fixed_ips.map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address })),
      })),
  ),
});

export const volumeSchema = z
  .object({
    id: z.string(),
    name: nstr,
    status: z.string(),
    size: z.number(),
    attachments: z.array(z.object({ server_id: z.string(), attachment_id: z.string().optional(), device: nstr, host_name: nstr }).passthrough()).default([]),
  })
  .passthrough()
  .transform((v): Volume => ({
    id: v.id,
    name: v.name,
    status: v.status,
    size: v.size,
    attachments: v.attachments.map((a) => ({
      serverId: a.server_id,
      ...(a.attachment_id ? { attachmentId: a.attachment_id } : {}),
      device: a.device,
      hostName: a.host_name,
    })),
  }));
export const volumesBody = z.object({ volumes: z.array(volumeSchema) });
export const volumeBody = z.object({ volume: volumeSchema });

export const serverVolumesBody = z.object({
  volumeAttachments: z.array(z.object({ volumeId: z.string(), serverId: z.string(), device: nstr }).passthrough()),
});

export const attachmentSchema = z
  .object({
    id: z.string(),
    volume_id: z.string(),
    instance: nstr,
    status: z.string(),
    attached_at: nstr,
  })
  .passthrough()
  .transform((a): VolumeAttachment => ({ id: a.id, volumeId: a.volume_id, instanceId: a.instance, status: a.status, attachedAt: a.attached_at }));
export const attachmentsBody = z.object({ attachments: z.array(attachmentSchema) });

const resources = z.record(z.string(), z.number());
export const allocationsBody = z.object({ allocations: z.record(z.string(), z.object({ resources }).passthrough()) }).passthrough();
/** GET /allocations/{consumer} at placement 1.28: who owns it and its generation (absent while it holds nothing). */
export const consumerAllocationsBody = z
  .object({
    allocations: z.record(z.string(), z.object({ resources }).passthrough()),
    consumer_generation: z.number().nullish(),
    project_id: z.string().nullish(),
    user_id: z.string().nullish(),
  })
  .passthrough();
export const providersBody = z.object({ resource_providers: z.array(z.object({ uuid: z.string(), name: z.string() }).passthrough()) });
export const usagesBody = z.object({ usages: resources }).passthrough();
/** GET /resource_providers/{uuid}/inventories: per resource class its total, reserved and allocation ratio. */
export const inventoriesBody = z
  .object({
    inventories: z.record(z.string(), z.object({ total: z.number(), reserved: z.number().default(0), allocation_ratio: z.number().default(1) }).passthrough()),
  })
  .passthrough();
