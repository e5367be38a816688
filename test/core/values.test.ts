import { describe, expect, it } from 'vitest';
import {
  absolutePath,
  boundedInt,
  duration,
  formatDuration,
  formatUtcTime,
  hostName,
  ipAddress,
  networkName,
  operationId,
  port,
  reason,
  scheduleId,
  utcTime,
  uuid,
} from '../../core/values.js';

const ok = (s: { safeParse: (v: string) => { success: boolean } }, v: string): boolean => s.safeParse(v).success;

describe('core values', () => {
  it('accepts and normalises host names', () => {
    expect(hostName.parse('C01.Example.com')).toBe('c01.example.com');
    expect(ok(hostName, '-c01')).toBe(false);
    expect(ok(hostName, 'c01-')).toBe(false);
    expect(ok(hostName, 'c01;reboot')).toBe(false);
    expect(ok(hostName, 'c01..example.com')).toBe(false);
    expect(ok(hostName, 'a'.repeat(64))).toBe(false);
    expect(ok(hostName, `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`)).toBe(true);
  });
  it('refuses host names with surrounding white space instead of trimming them', () => {
    expect(ok(hostName, ' c01')).toBe(false);
    expect(ok(hostName, 'c01\n')).toBe(false);
  });
  it('refuses non-ASCII letters that lower-case to ASCII (KELVIN SIGN)', () => {
    expect('\u212a'.toLowerCase()).toBe('k');
    expect(ok(hostName, 'c01.\u212aa')).toBe(false);
  });
  it('accepts canonical UUIDs only', () => {
    expect(ok(uuid, '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0')).toBe(true);
    expect(ok(uuid, '0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0')).toBe(false);
    expect(ok(uuid, '0f1e2d3c4b5a69788796a5b4c3d2e1f0')).toBe(false);
  });
  it('canonicalises IPs', () => {
    expect(ipAddress.parse('2001:DB8:0:0::7')).toBe('2001:db8::7');
    expect(ipAddress.parse('96.118.182.107')).toBe('96.118.182.107');
    expect(ok(ipAddress, '096.118.182.107')).toBe(false);
    expect(ok(ipAddress, 'fe80::1%eth0')).toBe(false);
    expect(ok(ipAddress, '1.2.3')).toBe(false);
  });
  it('reads ports and bounded integers as digits only', () => {
    expect(port.parse('22')).toBe(22);
    expect(ok(port, '0')).toBe(false);
    expect(ok(port, '65536')).toBe(false);
    expect(ok(port, '+22')).toBe(false);
    expect(boundedInt(1, 16).parse('16')).toBe(16);
    expect(ok(boundedInt(1, 16), '17')).toBe(false);
    expect(ok(boundedInt(1, 16), '1e1')).toBe(false);
  });
  it('parses durations and UTC times, and formats them back', () => {
    expect(duration.parse('1h30m')).toBe(5_400_000);
    expect(ok(duration, '0s')).toBe(false);
    expect(ok(duration, '367d')).toBe(false);
    expect(ok(duration, '')).toBe(false);
    expect(ok(duration, '2H')).toBe(false);
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(utcTime.parse('2026-12-01T02:00Z')).toBe(Date.UTC(2026, 11, 1, 2, 0));
    expect(utcTime.parse('2026-12-01T02:00:30Z')).toBe(Date.UTC(2026, 11, 1, 2, 0, 30));
    expect(ok(utcTime, '2026-02-30T02:00Z')).toBe(false);
    expect(ok(utcTime, '2026-12-01T02:00')).toBe(false);
    expect(ok(utcTime, '2026-12-01T02:00:60Z')).toBe(false);
    expect(ok(utcTime, '2026-12-01T02:00+01:00')).toBe(false);
    expect(formatUtcTime(Date.UTC(2026, 11, 1, 2, 0))).toBe('2026-12-01T02:00Z');
    expect(formatUtcTime(Date.UTC(2026, 11, 1, 2, 0, 5))).toBe('2026-12-01T02:00:05Z');
  });
  it('accepts reasons of letters, digits and harmless punctuation, normalised', () => {
    expect(reason.parse('  disk swap   in rack 4 ')).toBe('disk swap in rack 4');
    expect(reason.parse('INC-4711: fan/PSU @rack 4, ticket=99')).toBe('INC-4711: fan/PSU @rack 4, ticket=99');
    expect(reason.parse('Wartung für Kühlung')).toBe('Wartung für Kühlung');
    expect(reason.parse('Wartung fu\u0308r')).toBe('Wartung für'); // NFC
    expect(reason.parse('保守作業')).toBe('保守作業');
  });
  it.each([
    ['ab', 'too short'],
    ['a'.repeat(256), 'too long'],
    ["don't", 'quote'],
    ['disk; reboot', 'semicolon'],
    ['rack 4 -- urgent', 'SQL comment'],
    ['-f now', 'leading dash'],
    ['ticket #4', 'hash'],
    ['a $(id)', 'substitution'],
    ['line\nbreak', 'newline'],
    ['tab\there', 'tab'],
    ['bidi \u202e override', 'bidi override'],
    ['zero\u200bwidth', 'zero-width space'],
    ['nul \u0000 byte', 'NUL'],
    ['item \u2474 first', 'NFKC "(1)"'],
    ['full\uff1bwidth', 'fullwidth semicolon'],
  ])('refuses the reason %j (%s)', (v) => {
    expect(ok(reason, v)).toBe(false);
  });
  it('accepts network names and refuses others', () => {
    expect(networkName.parse('Public_AGILE')).toBe('Public_AGILE');
    expect(ok(networkName, 'net-1.v6')).toBe(true);
    expect(ok(networkName, '-net')).toBe(false);
    expect(ok(networkName, '.hidden')).toBe(false);
    expect(ok(networkName, 'my net')).toBe(false);
    expect(ok(networkName, 'a'.repeat(256))).toBe(false);
    expect(ok(networkName, '')).toBe(false);
  });
  it('accepts absolute paths with safe characters and normalises slashes', () => {
    expect(absolutePath.parse('/')).toBe('/');
    expect(absolutePath.parse('/etc/fstab')).toBe('/etc/fstab');
    expect(absolutePath.parse('//var//log/')).toBe('/var/log');
    expect(absolutePath.parse('/home/user@x/file-1.2_b+c')).toBe('/home/user@x/file-1.2_b+c');
    for (const bad of ['etc/fstab', '', '/etc/../shadow', '/./etc', '/etc/.ssh', '/tmp/-rf', '/a b', '/a;b', '/a*', '/~root', '/a,b', '/a=b']) {
      expect(ok(absolutePath, bad), bad).toBe(false);
    }
    expect(ok(absolutePath, `/${'a'.repeat(1024)}`)).toBe(false);
  });
  it('accepts our operation and schedule ids only', () => {
    expect(ok(operationId, 'op-abcdefgh2345')).toBe(true);
    expect(ok(operationId, 'op-abcdefgh2341')).toBe(false); // 1 is not base32
    expect(ok(scheduleId, 'sc-abcdefgh2345')).toBe(true);
    expect(ok(scheduleId, 'op-abcdefgh2345')).toBe(false);
  });
});
