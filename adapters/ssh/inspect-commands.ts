/**
 * The commands of the inspect runbook on a libvirt compute node, each a fixed template (see
 * shell-quote.ts) whose arguments are validated and single-quoted. Everything the node holds for
 * one inspection lives in one private directory (`<workDir>/<opId>`): the mount point `mnt`, the
 * FUSE export `disk.raw`, the export's `qsd.pid`, the block device in `dev`. So every clean-up and
 * every "is it still attached?" reads the node itself, and works after a crash of the bot.
 *
 * Facts these templates are built on (measured with libvirt 9 / QEMU 7.2):
 * - The paused guest's QEMU holds the image's write lock: a plain `qemu-nbd -c` or `qemu-img info`
 *   fails; the disk is opened read-only with `force-share=on`.
 * - A failed guest's ext4 usually needs journal recovery: mount `ro,noload` (norecovery for xfs).
 * - Where the kernel has no nbd module, a `qemu-storage-daemon` FUSE export plus a read-only loop
 *   device and `partx -a` gives the same block device (`auto` picks it when /dev/nbd0 is absent).
 * - A path inside the guest is walked one name at a time on the node, and any symlink on the way
 *   (an absolute one points at the node's own files once mounted) is reported, never followed.
 */
import { arg, template, type RemoteCommand } from './shell-quote.js';

export const EXPOSE_METHODS = ['auto', 'nbd', 'fuse'] as const;
export type ExposeMethod = (typeof EXPOSE_METHODS)[number];
export const DISK_FORMATS = ['qcow2', 'raw'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

/** Tools each way of exposing the disk needs on the node (besides a POSIX shell and coreutils). */
export const TOOLS = {
  common: ['virsh', 'qemu-img', 'mount', 'umount', 'mountpoint', 'find', 'stat', 'sha256sum', 'base64', 'readlink', 'partx'],
  fuse: ['qemu-storage-daemon', 'losetup'],
  nbd: ['qemu-nbd'],
} as const;

/** Where one inspection's files live on the node. */
export function inspectDir(workDir: string, opId: string): string {
  return `${workDir.replace(/\/+$/, '')}/${opId}`;
}

/** Plan-time look at the node: which tools exist, is there an nbd device, the domain's state and disks. */
export function probeNode(domain: string): RemoteCommand {
  return template(
    'for t in virsh qemu-img qemu-storage-daemon qemu-nbd losetup partx mount umount mountpoint find stat sha256sum base64 readlink; do if command -v $t >/dev/null 2>&1; then echo tool:$t; else echo missing:$t; fi; done; if [ -e /dev/nbd0 ]; then echo nbd:yes; else echo nbd:no; fi; if command -v virsh >/dev/null 2>&1; then virsh domstate {dom} 2>&1 | head -n 1 | sed -e s/^/state:/; virsh domblklist {dom} --details 2>/dev/null | sed -e s/^/blk:/; fi',
    { dom: arg.domain(domain) },
  );
}

/** The disk's format as QEMU sees it (`-U`: the running guest holds the lock). */
export function diskInfo(disk: string): RemoteCommand {
  return template('qemu-img info -U --output=json {disk}', {
    disk: arg.path(disk),
  });
}

/** What the node holds for this inspection now: the directory, the mount, the devices, the export, the domain. */
export function nodeState(dir: string, domain: string): RemoteCommand {
  return template(
    'd={dir}; if [ -d $d ]; then echo dir:yes; else echo dir:no; fi; if mountpoint -q $d/mnt 2>/dev/null; then echo mounted:yes; else echo mounted:no; fi; losetup -l -n -O NAME,BACK-FILE 2>/dev/null | while read n f rest; do if [ x$f = x$d/disk.raw ]; then echo loop:$n; fi; done; if [ -s $d/dev ]; then sed -e s/^/dev:/ $d/dev; fi; if [ -s $d/qsd.pid ]; then read p < $d/qsd.pid; if kill -0 $p 2>/dev/null; then echo qsd:$p; fi; fi; if mountpoint -q $d/disk.raw 2>/dev/null; then echo export:yes; fi; virsh domstate {dom} 2>&1 | head -n 1 | sed -e s/^/state:/',
    { dir: arg.path(dir), dom: arg.domain(domain) },
  );
}

export function suspendDomain(domain: string): RemoteCommand {
  return template('virsh suspend {dom}', { dom: arg.domain(domain) });
}

export function resumeDomain(domain: string): RemoteCommand {
  return template('virsh resume {dom}', { dom: arg.domain(domain) });
}

/**
 * Expose the disk read-only as a block device and write its name to `dir/dev`. Starts by removing
 * what a broken earlier attempt may have left (same directory), so a re-run is safe.
 */
export function exposeDisk(method: 'nbd' | 'fuse', dir: string, disk: string, format: DiskFormat): RemoteCommand {
  const args = {
    dir: arg.path(dir),
    disk: arg.path(disk),
    fmt: arg.choice(format, DISK_FORMATS),
  };
  if (method === 'fuse') {
    return template(
      'set -e; d={dir}; mkdir -p -m 700 $d $d/mnt; rm -f $d/dev; : > $d/disk.raw; qemu-storage-daemon --daemonize --pidfile $d/qsd.pid --blockdev driver=file,node-name=f0,filename={disk},read-only=on,force-share=on --blockdev driver={fmt},node-name=d0,file=f0,read-only=on,force-share=on --export type=fuse,id=e0,node-name=d0,mountpoint=$d/disk.raw,writable=off; losetup -f --show -r $d/disk.raw > $d/dev.new; read dev < $d/dev.new; partx -a $dev 2>/dev/null || true; mv $d/dev.new $d/dev; ls $dev*',
      args,
    );
  }
  return template(
    'set -e; d={dir}; mkdir -p -m 700 $d $d/mnt; rm -f $d/dev; dev=; for n in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do if [ -e /dev/nbd$n ] && [ ! -e /sys/block/nbd$n/pid ]; then dev=/dev/nbd$n; break; fi; done; if [ -z $dev ]; then echo no free nbd device >&2; exit 3; fi; echo $dev > $d/dev.new; qemu-nbd -r -c $dev --image-opts driver={fmt},file.driver=file,file.filename={disk},force-share=on,read-only=on; mv $d/dev.new $d/dev; ls $dev*',
    args,
  );
}

/** Mount the first partition (or the whole device when it has none) read-only, without journal replay. */
export function mountDisk(dir: string): RemoteCommand {
  return template(
    'set -e; d={dir}; read dev < $d/dev; p=p1; if [ -b $dev$p ]; then part=$dev$p; else part=$dev; fi; if ! mountpoint -q $d/mnt; then mount -o ro,noload,nosuid,nodev,noexec $part $d/mnt 2>/dev/null || mount -o ro,norecovery,nosuid,nodev,noexec $part $d/mnt; fi; echo mounted:$part',
    { dir: arg.path(dir) },
  );
}

/** Unmount if mounted; exit 0 either way. */
export function unmountDisk(dir: string): RemoteCommand {
  return template('d={dir}; if mountpoint -q $d/mnt 2>/dev/null; then umount $d/mnt; fi; echo unmounted', { dir: arg.path(dir) });
}

/**
 * Detach every device and stop the export that belong to this inspection, then remove its
 * directory. Refuses (exit 4) while the file system is still mounted. Idempotent.
 */
export function disconnectDisk(dir: string): RemoteCommand {
  return template(
    'd={dir}; if mountpoint -q $d/mnt 2>/dev/null; then echo still mounted: $d/mnt >&2; exit 4; fi; losetup -l -n -O NAME,BACK-FILE 2>/dev/null | while read n f rest; do if [ x$f = x$d/disk.raw ]; then partx -d $n 2>/dev/null; losetup -d $n; fi; done; if [ -s $d/dev ]; then read dev < $d/dev; case $dev in /dev/nbd*) qemu-nbd -d $dev;; esac; fi; if [ -s $d/qsd.pid ]; then read p < $d/qsd.pid; if kill $p 2>/dev/null; then timeout 10 tail --pid=$p -s 0.05 -f /dev/null || kill -9 $p 2>/dev/null || true; fi; fi; if mountpoint -q $d/disk.raw 2>/dev/null; then umount -l $d/disk.raw; fi; rm -f $d/disk.raw $d/dev $d/dev.new $d/qsd.pid; if [ -d $d ]; then rmdir $d/mnt 2>/dev/null || true; rmdir $d; fi; echo disconnected',
    { dir: arg.path(dir) },
  );
}

/**
 * Read `path` inside the mounted guest file system: walk it one name at a time and stop at the
 * first symlink (reported with its target, not followed) or missing name; list a directory
 * (type, mode, size, name; names end with "/", the one character a name cannot hold), or show a
 * regular file's size, mode, SHA-256 of all of it and the first `cap` bytes in base64.
 */
export function readGuestPath(dir: string, path: string, cap: number): RemoteCommand {
  return template(
    'd={dir}; m=$d/mnt; if ! mountpoint -q $m; then echo not mounted: $m >&2; exit 4; fi; set -f; rel={path}; cur=$m; r=; IFS=/; for c in $rel; do unset IFS; if [ -z $c ]; then continue; fi; cur=$cur/$c; r=$r/$c; if [ -L $cur ]; then echo kind:symlink; echo at:$r; readlink -- $cur | head -c 1024 | sed -e s/^/target:/; exit 0; fi; if [ ! -e $cur ]; then echo kind:missing; echo at:$r; exit 0; fi; done; unset IFS; if [ -d $cur ]; then echo kind:dir; find $cur -mindepth 1 -maxdepth 1 -printf x | wc -c | sed -e s/^/entries:/; find $cur -mindepth 1 -maxdepth 1 -printf %y:%m:%s:%P/ | head -c {cap} | base64 -w 0 | sed -e s/^/listing:/; echo; elif [ -f $cur ]; then echo kind:file; stat -c size:%s:%a -- $cur; sha256sum < $cur | sed -e s/^/sha256:/; head -c {cap} -- $cur | base64 -w 0 | sed -e s/^/content:/; echo; else echo kind:other; stat -c type:%F -- $cur; fi',
    { dir: arg.path(dir), path: arg.guestPath(path), cap: arg.int(cap) },
  );
}

// ───────────── parsing what the node answered ─────────────

/** `key:value` lines → the values of each key, in order. */
export function keyed(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i);
    out.set(k, [...(out.get(k) ?? []), line.slice(i + 1)]);
  }
  return out;
}

export interface ProbeResult {
  tools: string[];
  missing: string[];
  nbd: boolean;
  /** virsh domstate's first line ("running", "paused", "shut off", or virsh's error). */
  state: string | undefined;
  /** Disks of the domain: target (vda) and source path. */
  disks: { target: string; source: string }[];
}

export function parseProbe(stdout: string): ProbeResult {
  const k = keyed(stdout);
  const disks: ProbeResult['disks'] = [];
  for (const l of k.get('blk') ?? []) {
    // virsh domblklist --details: "Type Device Target Source" ("file disk vda /var/lib/nova/…/disk")
    const f = l.trim().split(/\s+/);
    if (f.length === 4 && f[1] === 'disk' && f[3]!.startsWith('/')) disks.push({ target: f[2]!, source: f[3]! });
  }
  return {
    tools: k.get('tool') ?? [],
    missing: k.get('missing') ?? [],
    nbd: k.get('nbd')?.[0] === 'yes',
    state: k.get('state')?.[0]?.trim(),
    disks,
  };
}

export interface NodeState {
  dir: boolean;
  mounted: boolean;
  loops: string[];
  dev: string | undefined;
  qsd: string | undefined;
  export: boolean;
  state: string | undefined;
}

export function parseNodeState(stdout: string): NodeState {
  const k = keyed(stdout);
  return {
    dir: k.get('dir')?.[0] === 'yes',
    mounted: k.get('mounted')?.[0] === 'yes',
    loops: k.get('loop') ?? [],
    dev: k.get('dev')?.[0],
    qsd: k.get('qsd')?.[0],
    export: k.get('export')?.[0] === 'yes',
    state: k.get('state')?.[0]?.trim(),
  };
}

/** Nothing of this inspection is left on the node. */
export function nodeIsClean(s: NodeState): boolean {
  return !s.dir && !s.mounted && s.loops.length === 0 && s.dev === undefined && s.qsd === undefined && !s.export;
}

export interface ListedEntry {
  type: string;
  mode: string;
  size: number;
  name: string;
}

export type ReadResult =
  | {
      kind: 'dir';
      entries: number;
      listing: ListedEntry[];
      listingBytes: Buffer;
    }
  | {
      kind: 'file';
      size: number;
      mode: string;
      sha256: string;
      content: Buffer;
    }
  | { kind: 'symlink'; at: string; target: string }
  | { kind: 'missing'; at: string }
  | { kind: 'other'; type: string };

export function parseRead(stdout: string): ReadResult {
  const k = keyed(stdout);
  const one = (key: string) => k.get(key)?.[0] ?? '';
  switch (one('kind')) {
    case 'dir': {
      const bytes = Buffer.from(one('listing'), 'base64');
      const listing = bytes
        .toString('utf8')
        .split('/')
        .filter((r) => r !== '')
        .flatMap((r) => {
          const m = /^(\w):(\d+):(\d+):([\s\S]*)$/.exec(r);
          return m ? [{ type: m[1]!, mode: m[2]!, size: Number(m[3]), name: m[4]! }] : [];
        });
      return {
        kind: 'dir',
        entries: Number(one('entries')),
        listing,
        listingBytes: bytes,
      };
    }
    case 'file': {
      const [size, mode] = one('size').split(':');
      return {
        kind: 'file',
        size: Number(size),
        mode: mode ?? '',
        sha256: one('sha256').split(/\s/)[0] ?? '',
        content: Buffer.from(one('content'), 'base64'),
      };
    }
    case 'symlink':
      return { kind: 'symlink', at: one('at'), target: one('target') };
    case 'missing':
      return { kind: 'missing', at: one('at') };
    default:
      return { kind: 'other', type: one('type') || 'unknown' };
  }
}
