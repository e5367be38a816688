import { describe, expect, it } from 'vitest';
import { checkHostKey, entryMatches, fingerprint, hostKeyAlgorithms, knownHostsName, parseKnownHosts } from '../../../adapters/ssh/known-hosts.js';

// Two keys and their entries as written (plain) and as `ssh-keygen -H` hashed them.
const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAID9gTyBbtKbS6ApaXG5gORCn54IJXsNo5Jsa7bwL6WeJ';
const K2 = 'AAAAC3NzaC1lZDI1NTE5AAAAICCrCJUVY/w8hgQIbm/RsNBuWcHSNnB6VojS8LRnni8E';
const HASHED = `|1|24mCC+esYG/aO9dW64KmfB4/gs8=|Jzdkzg/wiQCx4s2kIfYQFfDWIJs= ssh-ed25519 ${K1}
|1|b8KypfmKyYtqnf6ZcTtF8aAHfpw=|5DrvKfhb8mtwluSCWrFqfTRmlEk= ssh-ed25519 ${K2}
`;
const blob = (b64: string) => Buffer.from(b64, 'base64');

describe('known_hosts', () => {
  it('names non-22 ports as [host]:port', () => {
    expect(knownHostsName('C01.example.com', 22)).toBe('c01.example.com');
    expect(knownHostsName('c02.example.com', 2222)).toBe('[c02.example.com]:2222');
  });

  it('matches hashed entries made by ssh-keygen -H, port included', () => {
    const [e1, e2] = parseKnownHosts(HASHED);
    expect(entryMatches(e1!.hosts, 'c01.example.com', 22)).toBe(true);
    expect(entryMatches(e1!.hosts, 'c01.example.com', 2222)).toBe(false);
    expect(entryMatches(e1!.hosts, 'c02.example.com', 22)).toBe(false);
    expect(entryMatches(e2!.hosts, 'c02.example.com', 2222)).toBe(true);
    expect(entryMatches(e2!.hosts, 'c02.example.com', 22)).toBe(false);
  });

  it('matches comma lists, wildcards and negations like OpenSSH', () => {
    expect(entryMatches('c01,c01.lab,127.0.0.11', 'c01.lab', 22)).toBe(true);
    expect(entryMatches('*.example.com,!bad.example.com', 'c09.example.com', 22)).toBe(true);
    expect(entryMatches('*.example.com,!bad.example.com', 'bad.example.com', 22)).toBe(false);
    expect(entryMatches('[c0?.example.com]:2222', 'c05.example.com', 2222)).toBe(true);
    expect(entryMatches('c0?.example.com', 'c10.example.com', 22)).toBe(false);
  });

  it('says ok, changed, unknown and revoked', () => {
    const entries = parseKnownHosts(`# comment\nc01.example.com ssh-ed25519 ${K1} root@c01\n@revoked * ssh-ed25519 ${K2}\n`, 'kh');
    expect(checkHostKey(entries, 'c01.example.com', 22, blob(K1))).toMatchObject({ status: 'ok', entry: { file: 'kh', line: 2 } });
    expect(checkHostKey(entries, 'c01.example.com', 22, blob(K2)).status).toBe('revoked');
    const noRevoked = parseKnownHosts(`c01.example.com ssh-ed25519 ${K1}\n`);
    expect(checkHostKey(noRevoked, 'c01.example.com', 22, blob(K2)).status).toBe('changed');
    expect(checkHostKey(noRevoked, 'c03.example.com', 22, blob(K1)).status).toBe('unknown');
    // The same key on another port is another host as far as known_hosts goes.
    expect(checkHostKey(noRevoked, 'c01.example.com', 2200, blob(K1)).status).toBe('unknown');
  });

  it('skips malformed lines, unknown markers and a key whose blob type disagrees with its label', () => {
    const entries = parseKnownHosts(`garbage\n@weird h ssh-ed25519 ${K1}\nh ssh-rsa ${K1}\nh ssh-ed25519 !!!\nh ssh-ed25519 ${K1}\n`);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.line).toBe(5);
  });

  it('never accepts a key through @cert-authority (certificates are not supported)', () => {
    const entries = parseKnownHosts(`@cert-authority *.example.com ssh-ed25519 ${K1}\n`);
    expect(checkHostKey(entries, 'c01.example.com', 22, blob(K1)).status).toBe('unknown');
  });

  it('offers only the host key algorithms of known keys', () => {
    const entries = parseKnownHosts(`c01 ssh-ed25519 ${K1}\n`);
    expect(hostKeyAlgorithms(entries, 'c01', 22)).toEqual(['ssh-ed25519']);
    expect(hostKeyAlgorithms(entries, 'c02', 22)).toBeUndefined();
  });

  it('prints fingerprints as ssh-keygen -l does', () => {
    expect(fingerprint(blob(K1))).toBe('SHA256:d2mpxSHHecAD0IKLjoIk2Amel0xYNltaNuJXi68j690');
  });
});
