import { describe, expect, it } from 'vitest';
import { duration, hostName, ipAddress, utcTime, uuid } from '../../core/values.js';

describe('core values', () => {
  it('accepts and normalises host names', () => {
    expect(hostName.parse('C01.Example.com')).toBe('c01.example.com');
    expect(hostName.safeParse('-c01').success).toBe(false);
    expect(hostName.safeParse('c01;reboot').success).toBe(false);
  });
  it('accepts canonical UUIDs only', () => {
    expect(uuid.safeParse('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0').success).toBe(true);
    expect(uuid.safeParse('0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0').success).toBe(false);
  });
  it('canonicalises IPs', () => {
    expect(ipAddress.parse('2001:DB8:0:0::7')).toBe('2001:db8::7');
    expect(ipAddress.parse('96.118.182.107')).toBe('96.118.182.107');
    expect(ipAddress.safeParse('096.118.182.107').success).toBe(false);
  });
  it('parses durations and UTC times', () => {
    expect(duration.parse('1h30m')).toBe(5_400_000);
    expect(duration.safeParse('0s').success).toBe(false);
    expect(utcTime.parse('2026-12-01T02:00Z')).toBe(Date.UTC(2026, 11, 1, 2, 0));
    expect(utcTime.safeParse('2026-02-30T02:00Z').success).toBe(false);
  });
});
