import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.js';
import { parseProxyJump, parseSshConfig, resolveHost } from '../../../adapters/ssh/ssh-config.js';

const ctx = { home: '/home/op', localUser: 'op' };
const CONFIG = `
# operator's config
Host c01 c01.example.com
    HostName 10.0.0.11
    User = admin
    IdentityFile ~/.ssh/compute_ed25519
Host c0? !c09
    Port 2222
    ProxyJump jump@bastion.example.com:2200
Host bastion.example.com
    IdentityFile "%d/.ssh/bastion key"
    UserKnownHostsFile ~/.ssh/kh_bastion /etc/ssh/kh_extra
Match host c05
    User ignored
Host *
    User root
    IdentityFile ~/.ssh/id_%r
    Port 22
    StrictHostKeyChecking no
`;
const cfg = parseSshConfig(CONFIG, 'config');

describe('ssh_config subset', () => {
  it('takes the first value of each option and accumulates IdentityFile, like ssh', () => {
    const r = resolveHost(cfg, 'c01', ctx);
    expect(r).toMatchObject({ alias: 'c01', hostName: '10.0.0.11', user: 'admin', port: 2222, strictHostKeyChecking: 'no' });
    expect(r.identityFiles).toEqual(['/home/op/.ssh/compute_ed25519', '/home/op/.ssh/id_admin']);
    expect(r.proxyJump).toEqual([{ host: 'bastion.example.com', user: 'jump', port: 2200 }]);
    expect(r.userKnownHostsFiles).toEqual(['/home/op/.ssh/known_hosts', '/home/op/.ssh/known_hosts2']);
  });

  it('honours wildcards, negation and case-insensitive names', () => {
    expect(resolveHost(cfg, 'c05', ctx)).toMatchObject({ hostName: 'c05', port: 2222, user: 'root' });
    expect(resolveHost(cfg, 'C09', ctx)).toMatchObject({ port: 22, proxyJump: [] });
    expect(resolveHost(cfg, 'other', ctx)).toMatchObject({ hostName: 'other', port: 22, user: 'root' });
  });

  it('expands %d and ~, keeps quoted spaces, and reads several known_hosts files', () => {
    const r = resolveHost(cfg, 'bastion.example.com', ctx);
    expect(r.identityFiles[0]).toBe('/home/op/.ssh/bastion key');
    expect(r.userKnownHostsFiles).toEqual(['/home/op/.ssh/kh_bastion', '/etc/ssh/kh_extra']);
  });

  it('ignores Match blocks and says so', () => {
    expect(resolveHost(cfg, 'c05', ctx).user).toBe('root');
    expect(cfg.warnings.join()).toMatch(/config:13: Match blocks are not evaluated/);
  });

  it('applies options before the first Host to every host, and defaults like ssh', () => {
    const r = resolveHost(parseSshConfig('User early\nHost x\n  User late\n'), 'x', ctx);
    expect(r.user).toBe('early');
    const d = resolveHost(parseSshConfig(''), 'y', ctx);
    expect(d).toMatchObject({ port: 22, user: 'op', proxyJump: [] });
    expect(d.identityFiles).toContain('/home/op/.ssh/id_ed25519');
  });

  it('parses ProxyJump chains and none', () => {
    expect(parseProxyJump('a,b@c:23,ssh://d@[2001:db8::1]:24')).toEqual([
      { host: 'a' },
      { host: 'c', user: 'b', port: 23 },
      { host: '2001:db8::1', user: 'd', port: 24 },
    ]);
    expect(parseProxyJump('none')).toEqual([]);
    expect(() => parseProxyJump('a:99999')).toThrow(ConfigError);
  });

  it('reports bad values with file and line', () => {
    expect(() => resolveHost(parseSshConfig('Host a\n  Port http\n', 'f'), 'a', ctx)).toThrow(/f:2: Port must be 1-65535/);
    expect(() => parseSshConfig('Host a\n  HostName "unterminated\n', 'f')).toThrow(/f:2: unterminated double quote/);
    expect(() => parseSshConfig('Host\n', 'f')).toThrow(/f:1: Host needs at least one pattern/);
  });
});

describe('ssh_config files', () => {
  it('follows Include with globs relative to the including file, and treats a missing file as empty', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadSshConfig } = await import('../../../adapters/ssh/ssh-config.js');
    const d = mkdtempSync(join(tmpdir(), 'sshcfg-'));
    try {
      mkdirSync(join(d, 'config.d'));
      writeFileSync(join(d, 'config'), 'Include config.d/*.conf\nHost *\n  User fallback\n');
      writeFileSync(join(d, 'config.d', '10-compute.conf'), 'Host c*\n  User nova\n  ProxyJump bastion\n');
      writeFileSync(join(d, 'config.d', 'ignored.txt'), 'Host c*\n  User wrong\n');
      const cfg = loadSshConfig(join(d, 'config'), ctx);
      expect(resolveHost(cfg, 'c01', ctx)).toMatchObject({ user: 'nova', proxyJump: [{ host: 'bastion' }] });
      expect(resolveHost(cfg, 'x', ctx).user).toBe('fallback');
      expect(loadSshConfig(join(d, 'absent'), ctx).blocks).toEqual([]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
