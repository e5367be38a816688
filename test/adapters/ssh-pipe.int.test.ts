/**
 * RemoteShell.pipe (what /node copy-instances streams with) against two real OpenSSH sshd processes
 * on loopback (127.0.0.45 and .46): a tar stream from one "node" into the other through this
 * process, byte for byte; a reader that fails stops the writer and rejects; a writer that fails
 * rejects, whatever the reader did.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arg, createRemoteShell, RemoteCommandError, template, type SshRemoteShell } from '../../adapters/ssh.js';
import { cleanupAll, scratchDir, startSshd, type Sshd } from '../helpers/sshd.js';

let a: Sshd;
let b: Sshd;
let shell: SshRemoteShell;
let dir: string;
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

beforeAll(async () => {
  dir = scratchDir('ssh-pipe-');
  a = await startSshd({ address: '127.0.0.45', port: 2245, dir: scratchDir('sshd-pa-') });
  b = await startSshd({ address: '127.0.0.46', port: 2246, dir: scratchDir('sshd-pb-'), clientKey: a.clientKey });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${a.knownHostsLines()}\n${b.knownHostsLines()}\n`);
  const cfg = join(dir, 'ssh_config');
  writeFileSync(
    cfg,
    `Host na
  HostName 127.0.0.45
  Port 2245
Host nb
  HostName 127.0.0.46
  Port 2246
Host *
  User root
  IdentityFile ${a.clientKey}
  UserKnownHostsFile ${knownHosts}
  GlobalKnownHostsFile /dev/null
`,
  );
  shell = createRemoteShell({ sshConfigPath: cfg, agentSocket: null, commandTimeoutMs: 60_000 });
});

afterAll(async () => {
  await shell?.close();
  cleanupAll();
});

describe('RemoteShell.pipe', () => {
  it('streams a directory from one node into the other, byte for byte, without holding it', async () => {
    const src = join(dir, 'src');
    const dst = join(dir, 'dst');
    mkdirSync(join(src, 'inst'), { recursive: true });
    mkdirSync(dst);
    writeFileSync(join(src, 'inst', 'disk'), randomBytes(24 * 2 ** 20));
    writeFileSync(join(src, 'inst', 'disk.info'), '{"disk": "qcow2"}\n');
    const r = await shell.pipe(
      { host: 'na', cmd: template('tar -C {dir} -cf - {name}', { dir: arg.path(src), name: arg.fileName('inst') }) },
      { host: 'nb', cmd: template('tar -C {dir} -xpf -', { dir: arg.path(dst) }) },
    );
    expect(r.bytes).toBeGreaterThan(24 * 2 ** 20);
    expect(r.from.stdout).toBe(''); // the writer's stdout went into the pipe, not into memory
    expect(sha(join(dst, 'inst', 'disk'))).toBe(sha(join(src, 'inst', 'disk')));
    expect(readFileSync(join(dst, 'inst', 'disk.info'), 'utf8')).toBe('{"disk": "qcow2"}\n');
  }, 120_000);

  it('rejects when the reader fails, and stops the writer', async () => {
    const src = join(dir, 'big');
    mkdirSync(src);
    writeFileSync(join(src, 'blob'), randomBytes(8 * 2 ** 20));
    const started = Date.now();
    const p = shell.pipe(
      { host: 'na', cmd: template('tar -C {dir} -cf - {name}', { dir: arg.path(src), name: arg.fileName('blob') }) },
      { host: 'nb', cmd: template('tar -C {dir} -xpf -', { dir: arg.path(join(dir, 'no-such-dir')) }) },
    );
    await expect(p).rejects.toBeInstanceOf(RemoteCommandError);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  }, 60_000);

  it('rejects when the writer fails', async () => {
    const dst = join(dir, 'dst2');
    mkdirSync(dst);
    const p = shell.pipe(
      { host: 'na', cmd: template('tar -C {dir} -cf - {name}', { dir: arg.path(dir), name: arg.fileName('missing-file') }) },
      { host: 'nb', cmd: template('tar -C {dir} -xpf -', { dir: arg.path(dst) }) },
    );
    await expect(p).rejects.toThrow(/missing-file|exited with status/);
  }, 60_000);
});
