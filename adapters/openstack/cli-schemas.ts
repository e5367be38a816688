/**
 * zod schemas of `openstack … -f json` output (python-openstackclient 6.0.0): list commands give
 * arrays keyed by column header ("Forced Down"), show commands give the resource's own field names.
 */
import { z } from 'zod';
import type { ComputeService, InstanceAction, Migration, Port, Server, ServerVolume, Subnet, VolumeAttachment } from './cloud.js';

const nstr = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

export const cliServices = z.array(
  z
    .object({
      ID: z.union([z.string(), z.number()]).transform(String),
      Binary: z.string(),
      Host: z.string(),
      Zone: z.string().nullish(),
      Status: z.enum(['enabled', 'disabled']),
      State: z.enum(['up', 'down']),
      'Updated At': nstr,
      'Disabled Reason': nstr,
      'Forced Down': z.boolean().nullish(),
    })
    .passthrough()
    .transform((s): ComputeService => ({
      id: s.ID,
      host: s.Host,
      binary: s.Binary,
      ...(s.Zone ? { zone: s.Zone } : {}),
      status: s.Status,
      state: s.State,
      disabledReason: s['Disabled Reason'],
      forcedDown: s['Forced Down'] ?? false,
      updatedAt: s['Updated At'],
    })),
);

/** `server list --long` (JSON keeps the raw power state number). */
export const cliServerList = z.array(
  z
    .object({
      ID: z.string(),
      Name: z.string(),
      Status: z.string(),
      'Task State': nstr,
      'Power State': z.number().nullish(),
      Host: nstr,
    })
    .passthrough()
    .transform((s): Server => ({
      id: s.ID,
      name: s.Name,
      status: s.Status,
      taskState: s['Task State'],
      powerState: s['Power State'] ?? null,
      host: s.Host,
    })),
);

export const cliMigrations = z.array(
  z
    .object({
      Id: z.number(),
      UUID: z.string().optional(),
      'Server UUID': z.string(),
      Status: z.string(),
      Type: z.string(),
      'Source Compute': nstr,
      'Dest Compute': nstr,
      'Created At': z.string().optional(),
      'Updated At': z.string().nullish(),
    })
    .passthrough()
    .transform((m): Migration => ({
      id: m.Id,
      ...(m.UUID ? { uuid: m.UUID } : {}),
      serverId: m['Server UUID'],
      status: m.Status,
      migrationType: m.Type,
      sourceCompute: m['Source Compute'],
      destCompute: m['Dest Compute'],
      ...(m['Created At'] ? { createdAt: m['Created At'] } : {}),
      ...(m['Updated At'] ? { updatedAt: m['Updated At'] } : {}),
    })),
);

/** `openstack server event list --long -f json` (OSC 6: title-case columns). */
export const cliInstanceActions = z.array(
  z
    .object({
      'Request ID': z.string(),
      Action: z.string(),
      'Start Time': z.string(),
      Message: nstr,
    })
    .passthrough()
    .transform((a): InstanceAction => ({ action: a.Action, requestId: a['Request ID'], message: a.Message, startTime: a['Start Time'] })),
);

export const cliIdList = z.array(z.object({ ID: z.string() }).passthrough());

export const cliPort = z
  .object({
    id: z.string(),
    name: z.string().nullish(),
    network_id: z.string(),
    mac_address: z.string(),
    status: z.string(),
    fixed_ips: z.array(z.object({ subnet_id: z.string(), ip_address: z.string() }).passthrough()).nullish(),
    device_id: z.string().nullish(),
    device_owner: z.string().nullish(),
    binding_host_id: z.string().nullish(),
    binding_profile: z.record(z.string(), z.unknown()).nullish(),
    binding_vif_type: z.string().nullish(),
    created_at: z.string().nullish(),
    project_id: z.string().nullish(),
  })
  .passthrough()
  .transform((p): Port => ({
    id: p.id,
    name: p.name ?? '',
    networkId: p.network_id,
    macAddress: p.mac_address,
    status: p.status,
    fixedIps: (p.fixed_ips ?? []).map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address })),
    deviceId: p.device_id ?? '',
    deviceOwner: p.device_owner ?? '',
    bindingHostId: p.binding_host_id ?? '',
    bindingProfile: p.binding_profile ?? {},
    ...(p.binding_vif_type ? { bindingVifType: p.binding_vif_type } : {}),
    ...(p.created_at ? { createdAt: p.created_at } : {}),
    ...(p.project_id ? { projectId: p.project_id } : {}),
  }));

export const cliNetwork = z.object({ id: z.string(), name: z.string(), status: z.string().optional(), subnets: z.array(z.string()).nullish() }).passthrough();

/** `subnet list --long`: the pools and the gateway come only with --long. */
export const cliSubnets = z.array(
  z
    .object({
      ID: z.string(),
      Name: z.string(),
      Network: z.string(),
      Subnet: z.string(),
      Gateway: nstr,
      'Allocation Pools': z.array(z.object({ start: z.string(), end: z.string() }).passthrough()).nullish(),
    })
    .passthrough()
    .transform((s): Subnet => ({
      id: s.ID,
      name: s.Name,
      networkId: s.Network,
      cidr: s.Subnet,
      ipVersion: s.Subnet.includes(':') ? 6 : 4,
      gatewayIp: s.Gateway,
      allocationPools: (s['Allocation Pools'] ?? []).map((p) => ({ start: p.start, end: p.end })),
    })),
);

export const cliServerVolumes = z.array(
  z
    .object({ Device: nstr, 'Server ID': z.string(), 'Volume ID': z.string() })
    .passthrough()
    .transform((v): ServerVolume => ({ volumeId: v['Volume ID'], serverId: v['Server ID'], device: v.Device })),
);

export const cliAttachments = z.array(
  z
    .object({ ID: z.string(), 'Volume ID': z.string(), 'Server ID': nstr, Status: z.string() })
    .passthrough()
    .transform((a): VolumeAttachment => ({ id: a.ID, volumeId: a['Volume ID'], instanceId: a['Server ID'], status: a.Status })),
);

const resources = z.record(z.string(), z.number());
export const cliConsumerAllocations = z.array(
  z.object({ resource_provider: z.string(), resources, project_id: z.string().nullish(), user_id: z.string().nullish() }).passthrough(),
);
export const cliProviders = z.array(z.object({ uuid: z.string(), name: z.string() }).passthrough());
export const cliUsages = z.array(z.object({ resource_class: z.string(), usage: z.number() }).passthrough());
export const cliProviderAllocations = z.object({ allocations: z.record(z.string(), z.object({ resources }).passthrough()).nullish() }).passthrough();
