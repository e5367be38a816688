// The inspect runbook's node commands: chat text reaches them only as validated, single-quoted
// arguments; the node's answers are parsed into what the runbook shows; what the requester and
// the thread get (actions/instance/inspect-steps.ts describe) keeps content out of the thread.
import { describe, expect, it } from 'vitest';
import {
  disconnectDisk,
  exposeDisk,
  nodeIsClean,
  parseNodeState,
  parseProbe,
  parseRead,
  probeNode,
  readGuestPath,
  suspendDomain,
} from '../../../adapters/ssh/inspect-commands.js';
import { InputError } from '../../../core/errors.js';
import { describe as describeRead, type InspectPlanData } from '../../../actions/instance/inspect-steps.js';

const DIR = '/run/chatops-inspect/op-abcdefghijkl';
const DISK = '/var/lib/nova/instances/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/disk';
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('inspect node commands', () => {
  it('refuses guest paths that could climb out, hide options or carry shell syntax', () => {
    for (const bad of ['etc/fstab', '/a/../etc/shadow', '/home/.ssh', '/x;reboot', '/$(id)', "/a'b", '/a b', '/-rf', '/a\nb']) {
      expect(() => readGuestPath(DIR, bad, 100), bad).toThrow(InputError);
    }
  });

  it('quotes every argument: the guest path is one single-quoted word', () => {
    const cmd = readGuestPath(DIR, '/home/ubuntu/notes.txt', 16384);
    expect(cmd.text).toContain(`rel='/home/ubuntu/notes.txt'`);
    expect(cmd.text).toContain(`d='${DIR}'`);
    expect(cmd.text).toContain(`head -c '16384'`);
  });

  it('refuses a domain name with shell syntax', () => {
    expect(() => suspendDomain('instance-1; reboot')).toThrow(InputError);
    expect(suspendDomain('instance-0000002a').text).toBe(`virsh suspend 'instance-0000002a'`);
  });

  it('opens the disk read-only with force-share either way, and only takes qcow2 or raw', () => {
    for (const m of ['fuse', 'nbd'] as const) {
      const t = exposeDisk(m, DIR, DISK, 'qcow2').text;
      expect(t).toMatch(/read-only=on/);
      expect(t).toMatch(/force-share=on/);
      expect(t).toContain(`'${DISK}'`);
    }
    expect(exposeDisk('fuse', DIR, DISK, 'qcow2').text).toMatch(/losetup -f --show -r/);
    expect(exposeDisk('nbd', DIR, DISK, 'raw').text).toMatch(/qemu-nbd -r -c/);
    expect(() => exposeDisk('fuse', DIR, DISK, 'vmdk' as 'raw')).toThrow(InputError);
    expect(disconnectDisk(DIR).text).toMatch(/still mounted/);
  });

  it('reads the probe: tools, nbd, the state and the disks of the domain', () => {
    const out = [
      'tool:virsh',
      'missing:qemu-storage-daemon',
      'nbd:no',
      'state:paused',
      'blk: Type   Device   Target   Source',
      'blk:------------------------------------------------',
      `blk: file   disk     vda      ${DISK}`,
      'blk: file   cdrom    hdc      -',
      'blk:',
    ].join('\n');
    expect(parseProbe(out)).toEqual({
      tools: ['virsh'],
      missing: ['qemu-storage-daemon'],
      nbd: false,
      state: 'paused',
      disks: [{ target: 'vda', source: DISK }],
    });
    expect(probeNode('instance-0000002a').text).toContain(`virsh domstate 'instance-0000002a'`);
  });

  it('reads the node state and knows when nothing is left', () => {
    const s = parseNodeState(['dir:yes', 'mounted:no', 'loop:/dev/loop3', 'dev:/dev/loop3', 'qsd:4242', 'export:yes', 'state:paused'].join('\n'));
    expect(s).toEqual({ dir: true, mounted: false, loops: ['/dev/loop3'], dev: '/dev/loop3', qsd: '4242', export: true, state: 'paused' });
    expect(nodeIsClean(s)).toBe(false);
    expect(nodeIsClean(parseNodeState('dir:no\nmounted:no\nstate:running\n'))).toBe(true);
  });

  it('parses a listing whose names hold colons and spaces ("/" ends each entry), a file and a symlink', () => {
    const listing = parseRead(`kind:dir\nentries:2\nlisting:${b64('f:644:51:a: b.txt/l:777:11:shadow-link/')}\n`);
    expect(listing).toMatchObject({
      kind: 'dir',
      entries: 2,
      listing: [
        { type: 'f', mode: '644', size: 51, name: 'a: b.txt' },
        { type: 'l', name: 'shadow-link' },
      ],
    });
    const file = parseRead(`kind:file\nsize:5:600\nsha256:abc  -\ncontent:${b64('hello')}\n`);
    expect(file).toMatchObject({ kind: 'file', size: 5, mode: '600', sha256: 'abc' });
    expect(parseRead('kind:symlink\nat:/home/x\ntarget:/etc/shadow\n')).toEqual({ kind: 'symlink', at: '/home/x', target: '/etc/shadow' });
  });
});

describe('what the requester, the thread and the audit log get', () => {
  const d: InspectPlanData = {
    uuid: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
    name: 'web-1',
    host: 'c03',
    domain: 'instance-0000002a',
    disk: DISK,
    device: 'disk',
    format: 'qcow2',
    method: 'fuse',
    path: '/etc/app.conf',
    reason: 'INC-1 test',
    wasPaused: false,
    timeBoxMs: 600_000,
    workDir: '/run/chatops-inspect',
    requester: { userId: 'U0ALICE01', teamId: 'T0CHATOPS' },
  };

  it('shows a text file to the requester only; the thread and audit keep size and SHA-256', () => {
    const r = describeRead(d, { kind: 'file', size: 12, mode: '640', sha256: 'f'.repeat(64), content: Buffer.from('secret=hunter2') });
    expect(r.privateText).toContain('secret=hunter2');
    expect(r.threadLine).not.toContain('hunter2');
    expect(JSON.stringify(r.audit)).not.toContain('hunter2');
    expect(r.threadLine).toContain('f'.repeat(64));
  });

  it('never shows a binary file, and cannot be made to mention people or close its code block', () => {
    const bin = describeRead(d, { kind: 'file', size: 3, mode: '644', sha256: 'a'.repeat(64), content: Buffer.from([0, 1, 2]) });
    expect(bin.privateText).toMatch(/binary file: not shown/);
    const tricky = describeRead(d, { kind: 'file', size: 20, mode: '644', sha256: 'b'.repeat(64), content: Buffer.from('```\n<!channel> <@U0BOB0001>') });
    expect(tricky.privateText).not.toContain('<!channel>');
    expect(tricky.privateText.match(/```/g)).toHaveLength(2);
  });

  it('refuses a symlink with its target named, showing nothing', () => {
    const r = describeRead(d, { kind: 'symlink', at: '/etc/app.conf', target: '/etc/shadow' });
    expect(r.failure).toMatch(/symlinks are never followed/);
    expect(r.privateText).toBe('');
  });
});
