/**
 * The runbook's SQL, and only that: named, typed statements built from fixed templates. Callers
 * pass validated values; they never pass SQL. Tables are always qualified with the configured
 * schema, so statements on several databases can share one connection.
 */
import type { DbName } from './config.js';
import type { UpdateSpec } from './guarded-write.js';
import type { Session, SqlScalar } from './pools.js';

/** An instance as `select … from nova.instances where host = ? and deleted = 0` shows it. */
export interface InstanceOnHost {
  id: number;
  uuid: string;
  host: string | null;
  node: string | null;
  displayName: string | null;
  vmState: string | null;
  taskState: string | null;
  powerState: number | null;
}

/** One instance/volume pair of the runbook's volume query, rewritten for Zed's volume_attachment. */
export interface VolumeOnHost {
  instanceUuid: string;
  host: string | null;
  volumeId: string;
  volumeStatus: string | null;
  attachStatus: string | null;
  mountpoint: string | null;
  displayName: string | null;
  attachmentId: string;
}

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** Runbook 6.1: the non-deleted instances on a host (soft-deleted rows have deleted = id). */
export async function selectInstancesOnHost(s: Session, host: string): Promise<InstanceOnHost[]> {
  const rows = await s.rows(
    'nova',
    'instances-on-host',
    `SELECT id, uuid, host, node, display_name, vm_state, task_state, power_state FROM ${s.table('nova', 'instances')} ` +
      'WHERE host = ? AND deleted = 0 ORDER BY id',
    [host],
  );
  return rows.map((r) => ({
    id: Number(r['id']),
    uuid: String(r['uuid']),
    host: str(r['host']),
    node: str(r['node']),
    displayName: str(r['display_name']),
    vmState: str(r['vm_state']),
    taskState: str(r['task_state']),
    powerState: r['power_state'] === null || r['power_state'] === undefined ? null : Number(r['power_state']),
  }));
}

/**
 * Runbook 5.1 for Zed: `instance_uuid`, `attach_status` and `mountpoint` live in
 * `cinder.volume_attachment` now, so join it (not deleted) to volumes and nova.instances. One
 * statement when nova and cinder share a session; otherwise call with the instance list.
 */
export async function selectVolumesOnHostJoined(s: Session, host: string): Promise<VolumeOnHost[]> {
  const rows = await s.rows(
    ['nova', 'cinder'],
    'volumes-on-host',
    'SELECT i.uuid AS instance_uuid, i.host, v.id AS volume_id, v.status, a.attach_status, a.mountpoint, v.display_name, a.id AS attachment_id ' +
      `FROM ${s.table('cinder', 'volume_attachment')} a ` +
      `JOIN ${s.table('cinder', 'volumes')} v ON v.id = a.volume_id AND v.deleted = 0 ` +
      `JOIN ${s.table('nova', 'instances')} i ON i.uuid = a.instance_uuid AND i.deleted = 0 ` +
      'WHERE a.deleted = 0 AND i.host = ? ORDER BY i.id, a.mountpoint, v.id',
    [host],
  );
  return rows.map(volumeRow);
}

/** The cinder half of the volume query, for when cinder lives on another server than nova. */
export async function selectVolumesOfInstances(s: Session, instances: readonly { uuid: string; host: string | null }[]): Promise<VolumeOnHost[]> {
  if (instances.length === 0) return [];
  const rows = await s.rows(
    'cinder',
    'volumes-of-instances',
    'SELECT a.instance_uuid, v.id AS volume_id, v.status, a.attach_status, a.mountpoint, v.display_name, a.id AS attachment_id ' +
      `FROM ${s.table('cinder', 'volume_attachment')} a JOIN ${s.table('cinder', 'volumes')} v ON v.id = a.volume_id AND v.deleted = 0 ` +
      `WHERE a.deleted = 0 AND a.instance_uuid IN (${placeholders(instances.length)}) ORDER BY a.mountpoint, v.id`,
    instances.map((i) => i.uuid),
  );
  const order = new Map(instances.map((i, n) => [i.uuid, n]));
  return rows
    .map((r) => volumeRow({ ...r, host: instances.find((i) => i.uuid === r['instance_uuid'])?.host ?? null }))
    .sort((a, b) => (order.get(a.instanceUuid) ?? 0) - (order.get(b.instanceUuid) ?? 0));
}

/** A nova compute node (hypervisor) of a host, as `instances.node` must name it. */
export interface ComputeNode {
  hypervisorHostname: string;
  uuid: string | null;
}

/** The non-deleted compute nodes of a service host (one for libvirt; several for ironic-like drivers). */
export async function selectComputeNodes(s: Session, host: string): Promise<ComputeNode[]> {
  const rows = await s.rows(
    'nova',
    'compute-nodes-of-host',
    `SELECT hypervisor_hostname, uuid FROM ${s.table('nova', 'compute_nodes')} WHERE host = ? AND deleted = 0 ORDER BY id`,
    [host],
  );
  return rows.map((r) => ({ hypervisorHostname: String(r['hypervisor_hostname']), uuid: str(r['uuid']) }));
}

/** Where nova and neutron think an instance is; `consistent` when every ACTIVE binding is on `host`. */
export interface InstanceLocation {
  uuid: string;
  host: string | null;
  node: string | null;
  bindings: { portId: string; host: string; status: string }[];
  consistent: boolean;
}

/**
 * Reads back where instances are, by nova and by their ports' ML2 bindings: what a runner checks
 * after a write whose outcome is unknown, and what the invariant "host, node and bindings agree"
 * is checked with. Deleted or unknown instances are absent from the result.
 */
export async function selectInstanceLocations(nova: Session, neutron: Session, uuids: readonly string[]): Promise<InstanceLocation[]> {
  if (uuids.length === 0) return [];
  const inst = await nova.rows(
    'nova',
    'instance-locations.nova',
    `SELECT uuid, host, node FROM ${nova.table('nova', 'instances')} WHERE deleted = 0 AND uuid IN (${placeholders(uuids.length)}) ORDER BY id`,
    [...uuids],
  );
  const binds = await neutron.rows(
    'neutron',
    'instance-locations.neutron',
    `SELECT p.device_id, b.port_id, b.host, b.status FROM ${neutron.table('neutron', 'ml2_port_bindings')} b JOIN ${neutron.table('neutron', 'ports')} p ON p.id = b.port_id ` +
      `WHERE p.device_id IN (${placeholders(uuids.length)}) ORDER BY b.port_id, b.host`,
    [...uuids],
  );
  return inst.map((i) => {
    const bindings = binds
      .filter((b) => b['device_id'] === i['uuid'])
      .map((b) => ({ portId: String(b['port_id']), host: String(b['host']), status: String(b['status']) }));
    const host = str(i['host']);
    return { uuid: String(i['uuid']), host, node: str(i['node']), bindings, consistent: bindings.every((b) => b.status !== 'ACTIVE' || b.host === host) };
  });
}

/** What an evacuation by SQL moves (runbook 6.2–6.3, with `node` as the Zed check showed). */
export interface EvacuateTarget {
  from: string;
  to: string;
  /** Destination hypervisor node name (compute_nodes.hypervisor_hostname); defaults to `to`. */
  toNode: string;
  instanceUuids: readonly string[];
}

/** The three UPDATEs, in the order they run: nova first, then the ports of those instances. */
export function evacuateSpecs(t: EvacuateTarget): { instances: UpdateSpec; portBindings: UpdateSpec; portBindingLevels: UpdateSpec } {
  const uuids: SqlScalar[] = [...t.instanceUuids];
  const byDevice = (s: Session): string => `JOIN ${s.table('neutron', 'ports')} p ON p.id = t.port_id`;
  const portWhere = { sql: `t.host = ? AND p.device_id IN (${placeholders(uuids.length)})`, params: [t.from, ...uuids] };
  return {
    instances: {
      statement: 'evacuate.nova.instances',
      database: 'nova',
      table: 'instances',
      primaryKey: ['id'],
      set: { host: t.to, node: t.toNode },
      where: { sql: `t.host = ? AND t.deleted = 0 AND t.uuid IN (${placeholders(uuids.length)})`, params: [t.from, ...uuids] },
    },
    portBindings: {
      statement: 'evacuate.neutron.ml2_port_bindings',
      database: 'neutron',
      table: 'ml2_port_bindings',
      primaryKey: ['port_id', 'host'],
      set: { host: t.to },
      from: byDevice,
      where: portWhere,
    },
    portBindingLevels: {
      statement: 'evacuate.neutron.ml2_port_binding_levels',
      database: 'neutron',
      table: 'ml2_port_binding_levels',
      primaryKey: ['port_id', 'host', 'level'],
      set: { host: t.to },
      from: byDevice,
      where: portWhere,
    },
  };
}

/**
 * Of the requested instances, those that really move: on the source host and not deleted. Only
 * their ports' bindings move (a deleted instance's or another host's ports are left alone).
 */
export async function selectMovingUuids(s: Session, t: EvacuateTarget, lock: boolean): Promise<string[]> {
  const rows = await s.rows(
    'nova',
    'evacuate.moving-instances',
    `SELECT uuid FROM ${s.table('nova', 'instances')} WHERE host = ? AND deleted = 0 AND uuid IN (${placeholders(t.instanceUuids.length)}) ORDER BY id${lock ? ' FOR UPDATE' : ''}`,
    [t.from, ...t.instanceUuids],
  );
  return rows.map((r) => String(r['uuid']));
}

/** A port of a moving instance that already has a binding on the destination (e.g. INACTIVE, left by an aborted live migration). */
export interface DestinationBinding {
  portId: string;
  deviceId: string;
  status: string;
}

/**
 * Bindings on the destination host for the ports of these instances. ml2_port_bindings' primary
 * key is (port_id, host), so moving a binding onto such a row fails (duplicate key, all rolled
 * back): the plan shows them so the operator can clear them first.
 */
export async function selectDestinationBindings(s: Session, t: EvacuateTarget): Promise<DestinationBinding[]> {
  const rows = await s.rows(
    'neutron',
    'evacuate.destination-bindings',
    `SELECT b.port_id, p.device_id, b.status FROM ${s.table('neutron', 'ml2_port_bindings')} b JOIN ${s.table('neutron', 'ports')} p ON p.id = b.port_id ` +
      `JOIN ${s.table('neutron', 'ml2_port_bindings')} src ON src.port_id = b.port_id AND src.host = ? ` +
      `WHERE b.host = ? AND p.device_id IN (${placeholders(t.instanceUuids.length)}) ORDER BY b.port_id`,
    [t.from, t.to, ...t.instanceUuids],
  );
  return rows.map((r) => ({ portId: String(r['port_id']), deviceId: String(r['device_id']), status: String(r['status']) }));
}

/** Privileges a runbook operation needs, table by table (checked by the preflight). */
export interface NeededPrivilege {
  database: DbName;
  table: string;
  privilege: 'SELECT' | 'UPDATE';
  columns: string[];
}

export const EVACUATE_PRIVILEGES: readonly NeededPrivilege[] = [
  { database: 'nova', table: 'instances', privilege: 'SELECT', columns: ['id', 'uuid', 'host', 'node', 'deleted'] },
  { database: 'nova', table: 'instances', privilege: 'UPDATE', columns: ['host', 'node'] },
  { database: 'nova', table: 'compute_nodes', privilege: 'SELECT', columns: ['host', 'hypervisor_hostname', 'uuid', 'deleted'] },
  { database: 'neutron', table: 'ports', privilege: 'SELECT', columns: ['id', 'device_id'] },
  { database: 'neutron', table: 'ml2_port_bindings', privilege: 'SELECT', columns: ['port_id', 'host'] },
  { database: 'neutron', table: 'ml2_port_bindings', privilege: 'UPDATE', columns: ['host'] },
  { database: 'neutron', table: 'ml2_port_binding_levels', privilege: 'SELECT', columns: ['port_id', 'host', 'level'] },
  { database: 'neutron', table: 'ml2_port_binding_levels', privilege: 'UPDATE', columns: ['host'] },
];

export const READ_PRIVILEGES: readonly NeededPrivilege[] = [
  {
    database: 'nova',
    table: 'instances',
    privilege: 'SELECT',
    columns: ['id', 'uuid', 'host', 'node', 'deleted', 'display_name', 'vm_state', 'task_state', 'power_state'],
  },
  {
    database: 'cinder',
    table: 'volume_attachment',
    privilege: 'SELECT',
    columns: ['id', 'volume_id', 'instance_uuid', 'attach_status', 'mountpoint', 'deleted'],
  },
  { database: 'cinder', table: 'volumes', privilege: 'SELECT', columns: ['id', 'status', 'display_name', 'deleted'] },
];

function volumeRow(r: Record<string, SqlScalar>): VolumeOnHost {
  return {
    instanceUuid: String(r['instance_uuid']),
    host: str(r['host']),
    volumeId: String(r['volume_id']),
    volumeStatus: str(r['status']),
    attachStatus: str(r['attach_status']),
    mountpoint: str(r['mountpoint']),
    displayName: str(r['display_name']),
    attachmentId: String(r['attachment_id']),
  };
}

function str(v: SqlScalar | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}
