/**
 * The `openstack` command line for each Cloud operation, as an operator would type it (python-
 * openstackclient 6.x with OS_COMPUTE_API_VERSION=2.79). Plans show these; the CLI backend runs the
 * same argv (plus `-f json` and global options). One function per operation, shared by both.
 */
import type { BlockMigration, MigrationFilter, PortFilter, PortSpec, PortUpdate } from './cloud.js';

/** argv starting with "openstack", and notes for where the CLI alone does not do the whole job. */
export interface CliCommand {
  argv: string[];
  notes?: string[];
  /** A compute microversion this command needs instead of the pinned one. */
  computeVersion?: string;
}

const os = (...a: string[]): CliCommand => ({ argv: ['openstack', ...a] });
const opt = (flag: string, v: string | undefined): string[] => (v === undefined ? [] : [flag, v]);

/** OSC 6.0.0 tests `if parsed_args.device:`, so `--device ""` is silently ignored (runbook.md). */
export const DEVICE_CLEAR_NOTE =
  'python-openstackclient 6.0.0 ignores `--device ""` (an empty string is falsy), so device_id is cleared with the REST call PUT /v2.0/ports/<id> {"port":{"device_id":""}}';

export const cliCommands = {
  listComputeServices: (f: { host?: string; binary?: string } = {}) =>
    os('compute', 'service', 'list', '--long', ...opt('--host', f.host), ...opt('--service', f.binary)),
  disableComputeService: (host: string, binary: string, reason: string) =>
    os('compute', 'service', 'set', '--disable', '--disable-reason', reason, host, binary),
  enableComputeService: (host: string, binary: string) => os('compute', 'service', 'set', '--enable', host, binary),
  setComputeServiceForcedDown: (host: string, binary: string, down: boolean) => os('compute', 'service', 'set', down ? '--down' : '--up', host, binary),

  // --limit -1: all pages (without it the list stops at Nova's max_limit, 1000 by default).
  listServersOnHost: (host: string) => os('server', 'list', '--host', host, '--all-projects', '--long', '--limit', '-1'),
  getServer: (id: string) => os('server', 'show', id),
  listServersChangedSince: (since: string) => os('server', 'list', '--all-projects', '--long', '--changes-since', since, '--limit', '-1'),
  /** The chapter's `--live <host>` is gone from OSC 6.0.0: it is `--live-migration --host` (2.30+). */
  liveMigrateServer: (id: string, o: { host?: string; blockMigration: BlockMigration }) =>
    os(
      'server',
      'migrate',
      '--live-migration',
      ...opt('--host', o.host),
      ...(o.blockMigration === true ? ['--block-migration'] : o.blockMigration === false ? ['--shared-migration'] : []),
      id,
    ),
  migrateServer: (id: string, o: { host?: string } = {}) => os('server', 'migrate', ...opt('--host', o.host), id),
  confirmResize: (id: string) => os('server', 'resize', 'confirm', id),
  evacuateServer: (id: string, o: { host?: string } = {}): CliCommand => ({
    ...os('server', 'evacuate', ...opt('--host', o.host), id),
    notes: ['python-openstackclient 6.0.0 exits 1 after a successful evacuation (microversion ≥ 2.14 returns no body): check the server, not the exit code'],
  }),
  rebootServer: (id: string, type: 'SOFT' | 'HARD') => os('server', 'reboot', type === 'HARD' ? '--hard' : '--soft', id),
  startServer: (id: string) => os('server', 'start', id),
  stopServer: (id: string) => os('server', 'stop', id),

  listMigrations: (f: MigrationFilter) =>
    os(
      'server',
      'migration',
      'list',
      ...opt('--server', f.serverId),
      ...opt('--host', f.host),
      ...opt('--status', f.status),
      ...opt('--type', f.migrationType === 'migration' ? 'cold-migration' : f.migrationType),
      ...opt('--changes-since', f.changesSince),
    ),
  abortLiveMigration: (serverId: string, migrationId: number) => os('server', 'migration', 'abort', serverId, String(migrationId)),
  listInstanceActions: (serverId: string) => os('server', 'event', 'list', '--long', serverId),
  getInstanceAction: (serverId: string, requestId: string, computeVersion?: string): CliCommand => ({
    ...os('server', 'event', 'show', serverId, requestId),
    ...(computeVersion ? { computeVersion } : {}),
  }),

  listPorts: (f: PortFilter = {}) => {
    const fixed = [...(f.subnetId ? [`subnet=${f.subnetId}`] : []), ...(f.fixedIp ? [`ip-address=${f.fixedIp}`] : [])].join(',');
    return os(
      'port',
      'list',
      ...opt('--network', f.networkId),
      ...opt('--device-id', f.deviceId),
      ...opt('--device-owner', f.deviceOwner),
      ...opt('--name', f.name),
      ...(fixed ? ['--fixed-ip', fixed] : []),
    );
  },
  getPort: (id: string) => os('port', 'show', id),
  createPort: (spec: PortSpec) => {
    const ip = spec.fixedIp;
    const fixed = ip ? [...(ip.subnetId ? [`subnet=${ip.subnetId}`] : []), ...(ip.ipAddress ? [`ip-address=${ip.ipAddress}`] : [])].join(',') : '';
    return os(
      'port',
      'create',
      '--network',
      spec.networkId,
      ...(fixed ? ['--fixed-ip', fixed] : []),
      ...opt('--device-owner', spec.deviceOwner),
      spec.name ?? '',
    );
  },
  /**
   * `port set` for the fields it handles; an empty binding host becomes `port unset --host`, and an
   * empty device id has no working CLI form in OSC 6.0.0 (see DEVICE_CLEAR_NOTE).
   */
  updatePort: (id: string, c: PortUpdate): CliCommand[] => {
    const set = [
      ...opt('--name', c.name),
      ...(c.deviceId ? ['--device', c.deviceId] : c.deviceId === '' ? ['--device', ''] : []),
      ...opt('--device-owner', c.deviceOwner),
      ...(c.bindingHostId ? ['--host', c.bindingHostId] : []),
      ...(c.bindingProfile !== undefined ? ['--no-binding-profile'] : []),
    ];
    const out: CliCommand[] = [];
    if (set.length) out.push({ argv: ['openstack', 'port', 'set', ...set, id], ...(c.deviceId === '' ? { notes: [DEVICE_CLEAR_NOTE] } : {}) });
    if (c.bindingHostId === '') out.push(os('port', 'unset', '--host', id));
    return out;
  },
  deletePort: (id: string) => os('port', 'delete', id),
  findNetwork: (nameOrId: string) => os('network', 'show', nameOrId),
  listSubnets: (f: { networkId?: string; name?: string }) => os('subnet', 'list', '--long', ...opt('--network', f.networkId), ...opt('--name', f.name)),
  /** OSC 6.0.0 has no `server interface list`: the ports whose device is the server stand for it. */
  listServerInterfaces: (serverId: string) => os('port', 'list', '--server', serverId),
  attachInterface: (serverId: string, portId: string) => os('server', 'add', 'port', serverId, portId),
  detachInterface: (serverId: string, portId: string) => os('server', 'remove', 'port', serverId, portId),

  getVolume: (id: string) => os('volume', 'show', id),
  listVolumes: (f: { name?: string; status?: string } = {}) =>
    os('volume', 'list', '--all-projects', '--long', ...opt('--name', f.name), ...opt('--status', f.status)),
  listServerVolumes: (serverId: string) => os('server', 'volume', 'list', serverId),
  attachVolume: (serverId: string, volumeId: string, device?: string) => os('server', 'add', 'volume', ...opt('--device', device), serverId, volumeId),
  detachVolume: (serverId: string, volumeId: string) => os('server', 'remove', 'volume', serverId, volumeId),
  /** The CLI filters attachments by volume only; by server the backend filters the list itself. */
  listVolumeAttachments: (f: { volumeId?: string }) =>
    os('--os-volume-api-version', '3.27', 'volume', 'attachment', 'list', '--all-projects', ...opt('--volume-id', f.volumeId)),

  getConsumerAllocations: (consumerId: string) => os('--os-placement-api-version', '1.28', 'resource', 'provider', 'allocation', 'show', consumerId),
  findResourceProvider: (name: string) => os('--os-placement-api-version', '1.28', 'resource', 'provider', 'list', '--name', name),
  getProviderUsage: (rpId: string) => os('--os-placement-api-version', '1.28', 'resource', 'provider', 'usage', 'show', rpId),
  /** A full replacement of the consumer's allocations (osc-placement reads the consumer generation itself at 1.28). */
  setConsumerAllocations: (consumerId: string, allocations: Record<string, Record<string, number>>, owner: { projectId: string; userId: string }) =>
    os(
      '--os-placement-api-version',
      '1.28',
      'resource',
      'provider',
      'allocation',
      'set',
      ...Object.entries(allocations).flatMap(([rp, r]) => ['--allocation', [`rp=${rp}`, ...Object.entries(r).map(([k, v]) => `${k}=${v}`)].join(',')]),
      '--project-id',
      owner.projectId,
      '--user-id',
      owner.userId,
      consumerId,
    ),
  getProviderAllocations: (rpId: string) => os('--os-placement-api-version', '1.28', 'resource', 'provider', 'show', '--allocations', rpId),
} as const;

/** Shell-quoted command line for display (POSIX single quotes where needed; "" for empty). */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (a === '' ? '""' : /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
