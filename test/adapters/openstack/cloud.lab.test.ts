/**
 * The contract every Cloud backend passes against the real lab (OpenStack Zed, fake-driver computes
 * c01 and c02, or c04 and c05 in the lane lab-c04c05: LAB_PAIR, test/lab/lab-helpers.ts): REST and
 * the `openstack` CLI, same assertions, on objects created here and removed afterwards. Both hosts
 * are left enabled and up.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cloud, Port } from '../../../adapters/openstack/cloud.js';
import type { RestCloud } from '../../../adapters/openstack/rest-cloud.js';
import { novaReason } from '../../../actions/steps/migrate-instances.js';
import { isChatOpsError } from '../../../core/errors.js';
import { PAIR } from '../../lab/lab-helpers.js';
import { labClouds, labInfo, LabSeeder, serverSettled, waitFor } from './lab-fixtures.js';

const { a: A, b: B } = PAIR;
const HOSTS = [A, B] as const;

describe.each(['rest', 'cli'] as const)('Cloud contract: %s backend', (backend) => {
  let rest: RestCloud;
  let cloud: Cloud;
  let seed: LabSeeder;

  async function restoreHosts(): Promise<void> {
    for (const h of HOSTS) {
      const s = await rest.getComputeService(h);
      if (s?.status === 'disabled') await rest.enableComputeService(h, 'nova-compute');
      if (s?.forcedDown) await waitFor(`${h} forced up`, () => rest.setComputeServiceForcedDown(h, 'nova-compute', false), 90_000);
    }
  }

  beforeAll(async () => {
    const c = labClouds(labInfo());
    rest = c.rest;
    cloud = backend === 'rest' ? c.rest : c.cli;
    seed = new LabSeeder(rest);
    await restoreHosts();
  });

  afterAll(async () => {
    await seed?.cleanup();
    await restoreHosts();
    const states = await Promise.all(HOSTS.map((h) => rest.getComputeService(h)));
    await rest?.close();
    expect(states.map((s) => `${s?.host}:${s?.status}:${s?.state}:${s?.forcedDown}`)).toEqual([`${A}:enabled:up:false`, `${B}:enabled:up:false`]);
  });

  it('lists compute services and disables/enables one with a reason', async () => {
    const all = await cloud.listComputeServices({ binary: 'nova-compute' });
    // two pairs on the fake driver (c01/c02, c04/c05) and c03 (libvirt, for /instance inspect)
    expect(all.map((s) => s.host).sort()).toEqual(['c01', 'c02', 'c03', 'c04', 'c05']);
    expect(await cloud.getComputeService('nowhere')).toBeUndefined();
    const off = await cloud.disableComputeService(B, 'nova-compute', `${backend} contract maintenance`);
    expect(off).toMatchObject({ host: B, status: 'disabled', disabledReason: `${backend} contract maintenance` });
    expect((await rest.getComputeService(B))?.status).toBe('disabled');
    const on = await cloud.enableComputeService(B, 'nova-compute');
    expect(on).toMatchObject({ status: 'enabled', disabledReason: null });
  });

  it('lists the servers on a host across projects and shows one', async () => {
    const a = await seed.server(A);
    const b = await seed.server(A);
    const onA = await cloud.listServersOnHost({ host: A, pageSize: 1 });
    expect(onA.map((s) => s.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(onA.every((s) => s.host === A)).toBe(true);
    expect(await cloud.getServer(a.id)).toMatchObject({ id: a.id, status: 'ACTIVE', host: A, taskState: null });
    expect(await cloud.getServer('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('live-migrates to a named host and back through the scheduler, and lists the migrations', async () => {
    const s = await seed.server(A);
    await cloud.liveMigrateServer(s.id, { host: B, blockMigration: 'auto' });
    await serverSettled(rest, s.id, 'ACTIVE', B);
    // Until the record is "completed" the source still holds the move; the scheduler then finds no host.
    await waitFor('first live migration completed', async () =>
      (await rest.listMigrations({ serverId: s.id })).every((m) => m.status === 'completed') ? true : undefined,
    );
    await cloud.liveMigrateServer(s.id, { blockMigration: true });
    await serverSettled(rest, s.id, 'ACTIVE', A);
    // The migration record turns "completed" a moment after the server is ACTIVE on its new host.
    const migs = await waitFor('both live migrations completed', async () => {
      const m = await cloud.listMigrations({ serverId: s.id, migrationType: 'live-migration' });
      return m.length === 2 && m.every((x) => x.status === 'completed') ? m : undefined;
    });
    expect(migs.map((m) => `${m.sourceCompute}->${m.destCompute}:${m.status}`).sort()).toEqual([`${A}->${B}:completed`, `${B}->${A}:completed`]);
    const byHost = await cloud.listMigrations({ host: B, status: 'completed' });
    expect(byHost.some((m) => m.serverId === s.id)).toBe(true);
  });

  it("reads a server's actions and their events: why Nova refused a live migration", async () => {
    const s = await seed.server(A);
    await rest.disableComputeService(B, 'nova-compute', 'contract test: refuse migrations');
    try {
      await cloud.liveMigrateServer(s.id, { host: B, blockMigration: 'auto' });
      await waitFor('the refused migration recorded as error', async () =>
        (await rest.listMigrations({ serverId: s.id })).some((m) => m.status === 'error') ? true : undefined,
      );
    } finally {
      await rest.enableComputeService(B, 'nova-compute');
    }
    const actions = await cloud.listInstanceActions(s.id);
    expect(actions.map((a) => a.action)).toEqual(['live-migration', 'create']);
    expect(actions[0]!.requestId).toMatch(/^req-/);
    const action = await waitFor('the failed event', async () => {
      const a = await cloud.getInstanceAction(s.id, actions[0]!.requestId);
      return a?.events?.some((e) => e.result === 'Error') ? a : undefined;
    });
    const failed = action.events!.find((e) => e.result === 'Error')!;
    expect(failed.event).toBe('conductor_live_migrate_instance');
    // compute 2.84's details; the traceback (admins) has the frames down to the scheduler call
    expect(failed.details).toMatch(/^No valid host was found/);
    expect(failed.traceback).toMatch(/select_destinations/);
    expect(await novaReason(cloud, s.id)).toBe('conductor_live_migrate_instance on controller failed: No valid host was found.');
    expect(await cloud.getInstanceAction(s.id, 'req-00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(await serverSettled(rest, s.id, 'ACTIVE', A)).toMatchObject({ host: A });
  });

  it('refuses to abort a live migration that is not running (the fake driver finishes in under a second)', async () => {
    const s = await seed.server(B);
    const e = await cloud.abortLiveMigration(s.id, 999_999).catch((x: unknown) => x);
    expect(isChatOpsError(e) && (e as { outcome?: string }).outcome).toBe('rejected');
  });

  it('cold-migrates, confirms the resize, stops, starts and reboots', async () => {
    const s = await seed.server(A);
    await cloud.migrateServer(s.id, { host: B });
    await serverSettled(rest, s.id, 'VERIFY_RESIZE', B);
    await cloud.confirmResize(s.id);
    await serverSettled(rest, s.id, 'ACTIVE', B);
    await cloud.stopServer(s.id);
    await serverSettled(rest, s.id, 'SHUTOFF');
    await cloud.startServer(s.id);
    await serverSettled(rest, s.id, 'ACTIVE');
    await cloud.rebootServer(s.id, 'SOFT');
    await serverSettled(rest, s.id, 'ACTIVE');
    await cloud.rebootServer(s.id, 'HARD');
    const after = await serverSettled(rest, s.id, 'ACTIVE', B);
    expect(after.powerState).toBe(1);
  });

  it('forces a host down, evacuates its server, and brings the host back up', async () => {
    const s = await seed.server(A);
    const down = await cloud.setComputeServiceForcedDown(A, 'nova-compute', true);
    expect(down).toMatchObject({ forcedDown: true, state: 'down' });
    await cloud.evacuateServer(s.id, { host: B });
    await serverSettled(rest, s.id, 'ACTIVE', B);
    const ev = await cloud.listMigrations({ serverId: s.id, migrationType: 'evacuation' });
    expect(ev.map((m) => `${m.sourceCompute}->${m.destCompute}`)).toEqual([`${A}->${B}`]);
    if (backend === 'cli') expect(cloud.fallbacks.map((f) => f.operation)).toContain('evacuateServer');
    // `--up` is refused while `done` evacuations remain: c01's compute must restart and clean up.
    const refused = await cloud.setComputeServiceForcedDown(A, 'nova-compute', false).catch((x: unknown) => x);
    expect(isChatOpsError(refused)).toBe(true);
    await execa('/usr/local/sbin/lab-nova-compute', ['restart', A], { timeout: 90_000 });
    const up = await waitFor(`${A} forced up`, () => cloud.setComputeServiceForcedDown(A, 'nova-compute', false), 120_000);
    expect(up).toMatchObject({ forcedDown: false });
    await waitFor(`${A} up`, async () => ((await rest.getComputeService(A))?.state === 'up' ? true : undefined));
  });

  it('creates, finds, updates and deletes ports, one at a time and in bulk', async () => {
    const net = await cloud.findNetwork('Public_AGILE');
    expect(net?.name).toBe('Public_AGILE');
    const v4 = (await cloud.listSubnets({ networkId: net!.id })).find((x) => x.ipVersion === 4)!;
    expect(v4.cidr).toBe('192.0.2.0/24');
    // A free address, asked for by value (the runbook's way to recover a lost IP).
    let ip = '';
    for (let i = 200; i <= 250 && !ip; i++) if ((await rest.listPorts({ fixedIp: `192.0.2.${i}` })).length === 0) ip = `192.0.2.${i}`;
    const p = await cloud.createPort({ networkId: net!.id, name: `${seed.prefix}-fixed`, fixedIp: { subnetId: v4.id, ipAddress: ip } });
    seed.ports.add(p.id);
    expect(p.fixedIps).toEqual([{ subnetId: v4.id, ipAddress: ip }]);
    expect((await cloud.listPorts({ fixedIp: ip })).map((x) => x.id)).toEqual([p.id]);
    const taken = await cloud.createPort({ networkId: net!.id, fixedIp: { subnetId: v4.id, ipAddress: ip } }).catch((x: unknown) => x);
    expect(isChatOpsError(taken) && (taken as { outcome?: string }).outcome).toBe('rejected');
    const renamed = await cloud.updatePort(p.id, { name: "don't delete" });
    expect(renamed.name).toBe("don't delete");
    const bulk = await cloud.createPorts([0, 1, 2].map(() => ({ networkId: net!.id, name: `${seed.prefix}-ip-recovery` })));
    bulk.forEach((x) => seed.ports.add(x.id));
    expect(new Set(bulk.map((x) => x.fixedIps.find((f) => f.subnetId === v4.id)?.ipAddress)).size).toBe(3);
    expect((await cloud.listPorts({ name: `${seed.prefix}-ip-recovery`, networkId: net!.id })).length).toBe(3);
    for (const x of [...bulk, p]) await cloud.deletePort(x.id);
    expect(await cloud.getPort(p.id)).toBeUndefined();
  });

  it("detaches a server's port so it can be reused (device id, owner, host and profile cleared)", async () => {
    const net = (await cloud.findNetwork('Public_AGILE'))!;
    const port = await rest.createPort({ networkId: net.id, name: `${seed.prefix}-detach` });
    seed.ports.add(port.id);
    const s = await seed.server(A, { portId: port.id });
    const bound = await waitFor('port bound', async () => {
      const p = await cloud.getPort(port.id);
      return p?.deviceId === s.id && p.bindingHostId === A ? p : undefined;
    });
    expect(bound.deviceOwner).toBe('compute:nova');
    const cleared: Port = await cloud.updatePort(port.id, { deviceId: '', deviceOwner: '', bindingHostId: '', bindingProfile: {} });
    const now = await rest.getPort(port.id);
    for (const p of [cleared, now!]) expect(p).toMatchObject({ deviceId: '', deviceOwner: '', bindingHostId: '', bindingProfile: {} });
    if (backend === 'cli') expect(cloud.fallbacks.some((f) => f.operation === 'updatePort' && f.via === 'rest')).toBe(true);
  });

  it("reads a network's subnets with gateway and pools, and finds ports by IPv6 address and device owner", async () => {
    const net = (await cloud.findNetwork('Public_AGILE'))!;
    const subnets = await cloud.listSubnets({ networkId: net.id });
    expect(subnets.map((x) => `${x.ipVersion} ${x.cidr} gw ${x.gatewayIp} ${x.allocationPools.map((p) => `${p.start}-${p.end}`).join(',')}`).sort()).toEqual([
      '4 192.0.2.0/24 gw 192.0.2.1 192.0.2.10-192.0.2.250',
      '6 2001:db8:a61e::/64 gw 2001:db8:a61e::1 2001:db8:a61e::10-2001:db8:a61e::ffff',
    ]);
    const owner = `chatops:contract-${seed.prefix}`;
    const p = await rest.createPort({ networkId: net.id, name: `${seed.prefix}-v6`, deviceOwner: owner });
    seed.ports.add(p.id);
    const v6 = p.fixedIps.find((f) => f.ipAddress.includes(':'))!.ipAddress;
    expect((await cloud.listPorts({ fixedIp: v6 })).map((x) => x.id)).toEqual([p.id]);
    expect((await cloud.listPorts({ deviceOwner: owner })).map((x) => x.id)).toEqual([p.id]);
    expect(await cloud.listPorts({ deviceOwner: `${owner}-none` })).toEqual([]);
  });

  it('attaches a port to a server and detaches it through Nova; the port survives', async () => {
    const net = (await cloud.findNetwork('Public_AGILE'))!;
    const port = await rest.createPort({ networkId: net.id, name: `${seed.prefix}-iface` });
    seed.ports.add(port.id);
    const s = await seed.server(B);
    await cloud.attachInterface(s.id, port.id);
    const bound = await waitFor('port attached', async () => {
      const p = await rest.getPort(port.id);
      return p?.deviceId === s.id && p.bindingHostId === B ? p : undefined;
    });
    expect(bound.deviceOwner).toBe('compute:nova');
    const ifaces = await waitFor('Nova lists the interface', async () => {
      const l = await cloud.listServerInterfaces(s.id);
      return l.some((i) => i.portId === port.id) ? l : undefined;
    });
    expect(ifaces.find((i) => i.portId === port.id)).toMatchObject({ networkId: net.id, fixedIps: port.fixedIps, macAddress: port.macAddress });
    await cloud.detachInterface(s.id, port.id);
    const free = await waitFor('port detached', async () => {
      const p = await rest.getPort(port.id);
      return p && p.deviceId === '' ? p : undefined;
    });
    expect(free).toMatchObject({ id: port.id, deviceOwner: '', bindingHostId: '', fixedIps: port.fixedIps });
    expect((await cloud.listServerInterfaces(s.id)).map((i) => i.portId)).not.toContain(port.id);
  });

  it('attaches and detaches a volume through Nova and sees the Cinder attachment', async () => {
    const s = await seed.server(B);
    const vol = await seed.volume();
    await cloud.attachVolume(s.id, vol);
    const inUse = await waitFor('volume in-use', async () => {
      const v = await cloud.getVolume(vol);
      return v?.status === 'in-use' ? v : undefined;
    });
    expect(inUse.attachments.map((a) => a.serverId)).toEqual([s.id]);
    expect((await cloud.listServerVolumes(s.id)).map((v) => v.volumeId)).toEqual([vol]);
    const atts = await cloud.listVolumeAttachments({ instanceId: s.id });
    expect(atts.map((a) => `${a.volumeId}:${a.status}`)).toEqual([`${vol}:attached`]);
    expect((await cloud.listVolumes({ name: `${seed.prefix}-vol-0` })).map((v) => v.id)).toEqual([vol]);
    await cloud.detachVolume(s.id, vol);
    await waitFor('volume available', async () => ((await rest.getVolume(vol))?.status === 'available' ? true : undefined));
    // Cinder says available once nova-compute deleted the attachment; Nova drops its own record of the
    // volume (the block device mapping) a moment later: a CI run read it in between
    await waitFor("Nova's list without the volume", async () => ((await cloud.listServerVolumes(s.id)).length === 0 ? true : undefined));
  });

  it('reads Placement allocations for a server and a host', async () => {
    const s = await seed.server(A);
    const usage = await cloud.getHostUsage(A);
    expect(usage?.providerName).toBe(A);
    expect(usage?.allocations[s.id]).toMatchObject({ VCPU: 1, MEMORY_MB: 64 });
    expect(usage!.usages.VCPU).toBeGreaterThanOrEqual(1);
    expect(await cloud.getConsumerAllocations(s.id)).toEqual({ [usage!.providerId]: expect.objectContaining({ VCPU: 1 }) });
    expect(await cloud.getHostUsage('no-such-host')).toBeUndefined();
  });
});
