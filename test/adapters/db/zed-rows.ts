/**
 * Realistic rows in the real Zed tables, shaped like what nova, neutron (ML2/linuxbridge, flat
 * provider network) and cinder (LVM) write: every NOT NULL column filled, foreign keys satisfied.
 */
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { ZedDatabases } from '../../helpers/zed-schema.js';

const PROJECT = '6f2c4a1e0b7d4c0e9a3f5b8d7c6e1a2b';
const USER = '0a1b2c3d4e5f40718293a4b5c6d7e8f9';

export class ZedRows {
  private mac = 0;
  private network?: { id: string; segmentId: string };
  constructor(
    private readonly z: ZedDatabases,
    private readonly c: Connection = z.admin,
  ) {}

  private t(db: 'nova' | 'neutron' | 'cinder', table: string): string {
    return `${mysql.escapeId(this.z.schemas[db])}.${mysql.escapeId(table)}`;
  }

  /** A nova instance as after a boot on `host` (node = host, as with the libvirt/fake drivers); `deleted` soft-deletes it. */
  async instance(host: string, opts: { node?: string; deleted?: boolean; name?: string } = {}): Promise<{ id: number; uuid: string }> {
    const uuid = randomUUID();
    const name = opts.name ?? `vm-${uuid.slice(0, 8)}`;
    const [r] = await this.c.query<ResultSetHeader>(
      `INSERT INTO ${this.t('nova', 'instances')} (created_at, updated_at, launched_at, user_id, project_id, image_ref, launch_index, power_state, vm_state, task_state,
         memory_mb, vcpus, root_gb, ephemeral_gb, hostname, host, node, launched_on, display_name, availability_zone, instance_type_id, uuid,
         root_device_name, config_drive, locked, os_type, architecture, vm_mode, progress, auto_disk_config, shutdown_terminate, disable_terminate,
         cleaned, deleted, hidden, reservation_id)
       VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP(), ?, ?, ?, 0, 1, 'active', NULL, 512, 1, 1, 0, ?, ?, ?, ?, ?, 'nova', 1, ?,
         '/dev/vda', '', 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, ?)`,
      [USER, PROJECT, '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', name, host, opts.node ?? host, host, name, uuid, `r-${uuid.slice(0, 8)}`],
    );
    const id = r.insertId;
    // Nova soft-deletes with deleted = id (so the unique keys keep working).
    if (opts.deleted)
      await this.c.query(`UPDATE ${this.t('nova', 'instances')} SET deleted = id, deleted_at = UTC_TIMESTAMP(), vm_state = 'deleted' WHERE id = ?`, [id]);
    return { id, uuid };
  }

  /** nova-compute's record of its hypervisor on `host` (libvirt: one node per host). */
  async computeNode(host: string, hypervisorHostname = host): Promise<void> {
    await this.c.query(
      `INSERT INTO ${this.t('nova', 'compute_nodes')} (created_at, updated_at, vcpus, memory_mb, local_gb, vcpus_used, memory_mb_used, local_gb_used, hypervisor_type,
         hypervisor_version, cpu_info, disk_available_least, free_ram_mb, free_disk_gb, current_workload, running_vms, hypervisor_hostname, deleted, host_ip, host,
         ram_allocation_ratio, cpu_allocation_ratio, uuid, disk_allocation_ratio, mapped)
       VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), 8, 16384, 100, 0, 512, 0, 'QEMU', 7002000, '{"arch": "x86_64"}', 100, 15872, 100, 0, 0, ?, 0, '127.0.0.1', ?, 1.0, 4.0, UUID(), 1.0, 1)`,
      [hypervisorHostname, host],
    );
  }

  private async stdAttr(resourceType: string): Promise<number> {
    const [r] = await this.c.query<ResultSetHeader>(
      `INSERT INTO ${this.t('neutron', 'standardattributes')} (resource_type, created_at, updated_at, description, revision_number) VALUES (?, UTC_TIMESTAMP(), UTC_TIMESTAMP(), '', 1)`,
      [resourceType],
    );
    return r.insertId;
  }

  /** The flat provider network every port of these tests sits on (created once). */
  async providerNetwork(): Promise<{ id: string; segmentId: string }> {
    if (this.network) return this.network;
    const id = randomUUID();
    const segmentId = randomUUID();
    await this.c.query(
      `INSERT INTO ${this.t('neutron', 'networks')} (project_id, id, name, status, admin_state_up, vlan_transparent, standard_attr_id, mtu) VALUES (?, ?, 'Public_AGILE', 'ACTIVE', 1, 0, ?, 1500)`,
      [PROJECT, id, await this.stdAttr('networks')],
    );
    await this.c.query(
      `INSERT INTO ${this.t('neutron', 'networksegments')} (id, network_id, network_type, physical_network, segmentation_id, is_dynamic, segment_index, standard_attr_id) VALUES (?, ?, 'flat', 'provider', NULL, 0, 0, ?)`,
      [segmentId, id, await this.stdAttr('segments')],
    );
    this.network = { id, segmentId };
    return this.network;
  }

  /** A port of an instance, bound by ML2 on `host` (binding + level 0, linuxbridge), plus `extraBindingHost` if given (an INACTIVE binding). */
  async port(deviceId: string, host: string, opts: { levels?: number; extraBindingHost?: string } = {}): Promise<string> {
    const net = await this.providerNetwork();
    const id = randomUUID();
    const n = ++this.mac;
    const mac = `fa:16:3e:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
    await this.c.query(
      `INSERT INTO ${this.t('neutron', 'ports')} (project_id, id, name, network_id, mac_address, admin_state_up, status, device_id, device_owner, standard_attr_id, ip_allocation) VALUES (?, ?, '', ?, ?, 1, 'ACTIVE', ?, 'compute:nova', ?, 'immediate')`,
      [PROJECT, id, net.id, mac, deviceId, await this.stdAttr('ports')],
    );
    const bind = async (h: string, status: string): Promise<void> => {
      await this.c.query(
        `INSERT INTO ${this.t('neutron', 'ml2_port_bindings')} (port_id, host, vif_type, vnic_type, profile, vif_details, status) VALUES (?, ?, 'bridge', 'normal', '', ?, ?)`,
        [id, h, '{"connectivity": "l2", "port_filter": true, "bridge_name": "brq' + net.id.slice(0, 11) + '"}', status],
      );
      for (let level = 0; level < (opts.levels ?? 1); level++) {
        await this.c.query(
          `INSERT INTO ${this.t('neutron', 'ml2_port_binding_levels')} (port_id, host, level, driver, segment_id) VALUES (?, ?, ?, 'linuxbridge', ?)`,
          [id, h, level, net.segmentId],
        );
      }
    };
    await bind(host, 'ACTIVE');
    if (opts.extraBindingHost) await bind(opts.extraBindingHost, 'INACTIVE');
    return id;
  }

  /** An LVM volume attached to an instance (cinder's new-style attachment record). `deleted` marks the attachment deleted (detached). */
  async attachedVolume(
    instanceUuid: string,
    attachedHost: string,
    mountpoint: string,
    opts: { deleted?: boolean } = {},
  ): Promise<{ volumeId: string; attachmentId: string }> {
    const volumeId = randomUUID();
    const attachmentId = randomUUID();
    await this.c.query(
      `INSERT INTO ${this.t('cinder', 'volumes')} (created_at, updated_at, deleted, id, user_id, project_id, host, size, availability_zone, status, attach_status, display_name,
         volume_type_id, bootable, multiattach, shared_targets, use_quota, provider_location)
       VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), 0, ?, ?, ?, 'controller@lvm#lvm', 1, 'nova', ?, ?, ?, '5c2a1f4e-8d3b-4a6c-9e7f-1b2c3d4e5f60', 0, 0, 0, 1, ?)`,
      [
        volumeId,
        USER,
        PROJECT,
        opts.deleted ? 'available' : 'in-use',
        opts.deleted ? 'detached' : 'attached',
        `vol-${volumeId.slice(0, 8)}`,
        `127.0.0.1:3260,iqn.2010-10.org.openstack:volume-${volumeId} 1`,
      ],
    );
    await this.c.query(
      `INSERT INTO ${this.t('cinder', 'volume_attachment')} (created_at, updated_at, deleted_at, deleted, id, volume_id, attached_host, instance_uuid, mountpoint, attach_time, detach_time, attach_mode, attach_status, connection_info, connector)
       VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(), NULL, 'rw', ?, '{"driver_volume_type": "iscsi"}', ?)`,
      [
        opts.deleted ? new Date().toISOString().slice(0, 19).replace('T', ' ') : null,
        opts.deleted ? 1 : 0,
        attachmentId,
        volumeId,
        attachedHost,
        instanceUuid,
        mountpoint,
        opts.deleted ? 'detached' : 'attached',
        JSON.stringify({ host: attachedHost }),
      ],
    );
    return { volumeId, attachmentId };
  }

  /** Every row of the tables the evacuation touches, every column, in key order: for before/after comparisons. */
  async snapshot(): Promise<Record<string, RowDataPacket[]>> {
    const out: Record<string, RowDataPacket[]> = {};
    for (const [db, table, order] of [
      ['nova', 'instances', 'id'],
      ['neutron', 'ports', 'id'],
      ['neutron', 'ml2_port_bindings', 'port_id, host'],
      ['neutron', 'ml2_port_binding_levels', 'port_id, host, level'],
    ] as const) {
      const [rows] = await this.c.query<RowDataPacket[]>(`SELECT * FROM ${this.t(db, table)} ORDER BY ${order}`);
      out[`${db}.${table}`] = rows;
    }
    return out;
  }

  /** Empties the tables the tests fill (children first). */
  async clear(): Promise<void> {
    for (const [db, table] of [
      ['neutron', 'ml2_port_binding_levels'],
      ['neutron', 'ml2_port_bindings'],
      ['neutron', 'ports'],
      ['nova', 'instances'],
      ['nova', 'compute_nodes'],
      ['cinder', 'volume_attachment'],
      ['cinder', 'volumes'],
    ] as const) {
      if (this.z.loaded.includes(db)) await this.c.query(`DELETE FROM ${this.t(db, table)}`);
    }
  }
}
