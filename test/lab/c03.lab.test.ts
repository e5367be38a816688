// The lab's libvirt host c03 is real: a server booted there is a QEMU process on this machine whose
// disk is a qcow2 overlay on a Glance base in c03's instances path; ordinary flavors never land there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { candidates, cleanup, osJson, requireLab, Rest, sshHost, uniquePrefix, waitServer } from './lab-helpers.js';

const P = uniquePrefix('c03');
const REPO = new URL('../../', import.meta.url).pathname;

describe('c03: the libvirt compute host', () => {
  let id = '';
  let domain = '';
  beforeAll(async () => {
    await requireLab(['c03']); // c03 only: c01/c02 belong to the other lock
    const s = await osJson<{ id: string }>([
      'server',
      'create',
      '--flavor',
      'm1.inspect',
      '--image',
      'inspect-ext4',
      '--nic',
      'none',
      '--availability-zone',
      'inspect',
      `${P}guest`,
    ]);
    id = s.id;
    await waitServer(id, 'ACTIVE', 'c03');
    domain = String((await osJson<Record<string, unknown>>(['server', 'show', id]))['OS-EXT-SRV-ATTR:instance_name']);
  });
  afterAll(() => cleanup(P));

  it('runs the server as a QEMU process whose disk is a qcow2 overlay in instances-c03', async () => {
    expect(domain).toMatch(/^instance-[0-9a-f]{8}$/);
    const state = await sshHost('c03', `virsh domstate ${domain}`);
    expect(state.stdout.trim()).toBe('running');
    const disk = `/var/lib/nova/instances-c03/${id}/disk`;
    // -U: the running guest's QEMU holds the image's write lock
    const info = JSON.parse((await sshHost('c03', `qemu-img info -U --output=json ${disk}`)).stdout) as Record<string, unknown>;
    expect(info['format']).toBe('qcow2');
    expect(String(info['full-backing-filename'] ?? info['backing-filename'])).toMatch(/^\/var\/lib\/nova\/instances-c03\/_base\/[0-9a-f]{40}$/);
    const qemu = await sshHost('c03', `pgrep -a -f 'guest=${domain},'`);
    expect(qemu.exitCode).toBe(0);
    expect(qemu.stdout).toMatch(/qemu-system-x86_64/);
    expect(qemu.stdout).toContain(disk);
    // the session says which host it is on, as on c01/c02
    expect((await sshHost('c03', 'echo $LAB_HOST')).stdout.trim()).toBe('c03');
  });

  it('keeps ordinary flavors off c03: Placement never offers it without the trait m1.inspect requires', async () => {
    const rest = await Rest.login();
    const c03 = await candidates(rest, 'resources=VCPU:1,MEMORY_MB:64,DISK_GB:1&required=CUSTOM_LAB_INSPECT');
    expect(c03).toHaveLength(1);
    const ordinary = await candidates(rest, 'resources=VCPU:1,MEMORY_MB:64,DISK_GB:1&required=!CUSTOM_LAB_INSPECT');
    expect(ordinary.length).toBeGreaterThanOrEqual(2); // c01 and c02
    expect(ordinary).not.toContain(c03[0]);
    const tiny = await osJson<{ properties: Record<string, string> }>(['flavor', 'show', 'm1.tiny']);
    expect(tiny.properties['trait:CUSTOM_LAB_INSPECT']).toBe('forbidden');
  });

  it('lab/status knows c03', async () => {
    const r = await execa('bash', [`${REPO}lab/status`], { reject: false });
    expect(r.stdout).toMatch(/nova-compute c03: enabled, up, \d+ servers/);
    expect(r.stdout).toMatch(/^libvirtd\s+\d+\s+running/m);
    expect(r.stdout).toMatch(/libvirt \(c03\): [1-9]\d* domains running/);
  });
});
