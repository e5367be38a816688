/**
 * SSH adapter cases that need a real network path: a jump host (the target is reachable only from
 * inside a network namespace) and a link cut in the middle of a command (the namespace's end of a
 * veth pair goes down: no FIN, no RST, packets vanish). Namespaces and veths are made and removed
 * by test/helpers/sshd.ts.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arg, createRemoteShell, HostKeyError, SshError, template } from '../../adapters/ssh.js';
import { cleanupAll, makeNetns, scratchDir, startSshd, type Netns, type Sshd } from '../helpers/sshd.js';
import { waitFor } from '../helpers/wait-for.js';

let dir: string;
let ns: Netns;
let jump: Sshd; // on the namespace's veth address, reachable from here
let target: Sshd; // on 127.0.0.1 inside the namespace: reachable only through the jump host
let config: string;
let knownHosts: string;

beforeAll(async () => {
  dir = scratchDir();
  ns = makeNetns();
  jump = await startSshd({ address: ns.nsAddr, port: 2201, netns: ns.name, dir: scratchDir('sshd-j-') });
  target = await startSshd({ address: '127.0.0.1', port: 2202, netns: ns.name, dir: scratchDir('sshd-t-'), clientKey: jump.clientKey });
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${jump.knownHostsLines()}\n${target.knownHostsLines()}\n`);
  config = join(dir, 'ssh_config');
  writeFileSync(
    config,
    `Host bastion
  HostName ${ns.nsAddr}
  Port 2201
Host inner
  HostName 127.0.0.1
  Port 2202
  ProxyJump bastion
Host inner-bad-jump
  HostName 127.0.0.1
  Port 2202
  ProxyJump root@${ns.nsAddr}:2201
Host ${ns.nsAddr}
  UserKnownHostsFile ${join(dir, 'only_target')}
Host *
  User root
  IdentityFile ${jump.clientKey}
  UserKnownHostsFile ${knownHosts}
  GlobalKnownHostsFile /dev/null
`,
  );
  writeFileSync(join(dir, 'only_target'), `${target.knownHostsLines()}\n`);
});

afterAll(() => cleanupAll());

const shell = (extra: Parameters<typeof createRemoteShell>[0] = {}) => createRemoteShell({ sshConfigPath: config, agentSocket: null, ...extra });

describe('SSH adapter through network namespaces', () => {
  it('reaches a host only reachable through its ProxyJump host, reusing both connections', async () => {
    // Not reachable directly: nothing listens on 127.0.0.1:2202 in our namespace.
    expect(() => execFileSync('bash', ['-c', 'exec 3<>/dev/tcp/127.0.0.1/2202'], { stdio: 'ignore' })).toThrow();
    const sh = shell();
    try {
      const r = await sh.run('inner', template('cat /proc/net/dev', {}));
      expect(r.stdout).toContain(`stn`); // the namespace's veth: we ran inside it
      await sh.run('inner', template('id -u', {}));
      expect(sh.connectionsOpened).toBe(2); // bastion + inner, once each
      expect(target.connections()).toBe(1);
      expect(jump.connections()).toBe(1);
      expect(target.log()).toMatch(/Connection from 127\.0\.0\.1 port \d+ on 127\.0\.0\.1 port 2202/);
    } finally {
      await sh.close();
    }
  });

  it('refuses the jump host when its key is not known, naming it', async () => {
    const sh = shell();
    const before = target.connections();
    try {
      const e = await sh.run('inner-bad-jump', template('id -u', {})).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HostKeyError);
      expect((e as HostKeyError).reason).toBe('unknown');
      expect((e as HostKeyError).host).toBe(ns.nsAddr);
      expect((e as HostKeyError).details.port).toBe(2201);
      expect(target.connections()).toBe(before); // the target was never reached
    } finally {
      await sh.close();
    }
  });

  it('notices a link cut in the middle of a command through keepalives (default 10 s x 3) and says the outcome is unknown', async () => {
    const sh = shell();
    const marker = 300 + (process.pid % 200);
    try {
      await sh.run('bastion', template('id -u', {}));
      const running = sh.run('bastion', template('sleep {n}', { n: arg.int(marker) }), { timeoutMs: 120_000 });
      const outcome = running.then(
        () => undefined,
        (e: unknown) => ({ e, at: Date.now() }),
      );
      await waitFor('the remote sleep to start', () => {
        try {
          return (
            execFileSync('pgrep', ['-f', `^sleep ${marker}$`])
              .toString()
              .trim() !== ''
          );
        } catch {
          return false;
        }
      });
      const cutAt = Date.now();
      ns.cut();
      const res = await outcome;
      expect(res).toBeDefined();
      const e = res!.e;
      expect(e).toBeInstanceOf(SshError);
      expect((e as SshError).code).toBe('SSH_FAILED');
      expect((e as SshError).details).toMatchObject({ command: `sleep ${marker}`, outcome: 'unknown' });
      expect(((e as SshError).cause as Error).message).toMatch(/Keepalive timeout/);
      console.log(`cut link noticed after ${res!.at - cutAt} ms`);
    } finally {
      await sh.close();
    }
  }, 70_000);
});
