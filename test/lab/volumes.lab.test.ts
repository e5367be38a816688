// Runbook §5 on the real lab: list a host's instance/volume pairs (the SQL join that works on
// Zed), remove a volume from a server and add it back on the same device.
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootServer, cleanup, osJson, osOk, requireLab, uniquePrefix, waitFor } from './lab-helpers.js';

const P = uniquePrefix('vol');

interface VolumeView {
  id: string;
  status: string;
  attachments: { server_id: string; device: string }[];
}

async function volumeStatus(id: string, status: string): Promise<VolumeView> {
  return waitFor(
    `volume ${id} ${status}`,
    async () => {
      const v = await osJson<VolumeView>(['volume', 'show', id]);
      if (v.status.startsWith('error')) throw new Error(`volume ${id} went to ${v.status}`);
      return v.status === status ? v : undefined;
    },
    { timeoutMs: 90_000 },
  );
}

/** The runbook's instance/volume query, rewritten for volume_attachment (read-only). */
async function pairsOnHost(host: string): Promise<{ uuid: string; volume: string; attach_status: string; mountpoint: string }[]> {
  const db = await createConnection({ host: '127.0.0.1', user: 'root', password: '' });
  try {
    const [rows] = await db.query(
      `select i.uuid, v.id as volume, a.attach_status, a.mountpoint
         from cinder.volume_attachment a
         join cinder.volumes v on v.id = a.volume_id and v.deleted = 0
         join nova.instances i on i.uuid = a.instance_uuid and i.deleted = 0
        where a.deleted = 0 and i.host = ?`,
      [host],
    );
    return rows as { uuid: string; volume: string; attach_status: string; mountpoint: string }[];
  } finally {
    await db.end();
  }
}

describe('volumes (openstack CLI against the lab)', () => {
  let server = '';
  let volume = '';
  let device = '';

  beforeAll(async () => {
    await requireLab();
    server = await bootServer(`${P}vm`, 'c01', { network: 'Public_AGILE' });
    volume = (await osJson<{ id: string }>(['volume', 'create', '--size', '1', `${P}data`])).id;
    await volumeStatus(volume, 'available');
  });
  afterAll(() => cleanup(P));

  it('adds a volume to a server; the SQL join lists the pair and its mount point on c01', async () => {
    // Nova picks the device name itself (the fake driver's root is /dev/sda, so this becomes /dev/sdb)
    await osOk(['server', 'add', 'volume', server, volume]);
    const v = await volumeStatus(volume, 'in-use');
    expect(v.attachments).toHaveLength(1);
    expect(v.attachments[0]).toMatchObject({ server_id: server });
    device = v.attachments[0]!.device;
    expect(device).toMatch(/^\/dev\/[sv]d[b-z]$/);
    const pairs = await pairsOnHost('c01');
    expect(pairs).toContainEqual(expect.objectContaining({ uuid: server, volume, attach_status: 'attached', mountpoint: device }));
  });

  it('removes the volume (detach goes through with the service token) and adds it back on the same device', async () => {
    await osOk(['server', 'remove', 'volume', server, volume]);
    const free = await volumeStatus(volume, 'available');
    expect(free.attachments).toEqual([]);
    expect((await pairsOnHost('c01')).filter((p) => p.volume === volume)).toEqual([]);

    await osOk(['server', 'add', 'volume', server, volume, '--device', device]);
    const back = await volumeStatus(volume, 'in-use');
    expect(back.attachments[0]).toMatchObject({ server_id: server, device });
  });
});
