/**
 * The lab lanes' first step (vitest.config.ts: group 2 waits for it): the lab back to an empty cloud.
 * A run that was killed before its clean-up (a CI timeout, a session's end, kill -9) leaves servers on
 * c01, a host disabled, stopped or dead, or c01 on another driver; the next run's drains would then
 * move, or fail on, servers that are not theirs (Nova's fake driver forgets its instances when
 * nova-compute restarts, so such a leftover cannot even be migrated). Each lab file names and cleans
 * up its own servers; this sweeps what a dead run could not. LAB_NO_RESET=1 skips it (a developer's
 * own servers on the lab survive).
 */
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { osJson } from './lab-helpers.js';

const REPO = new URL('../../', import.meta.url).pathname;
const CLOUDS_YAML = `${process.env['LAB'] ?? '/var/lib/openstack-lab'}/clouds.yaml`;

describe.skipIf(process.env['LAB_NO_RESET'] === '1' || !existsSync(CLOUDS_YAML))('lab/reset before the lab lanes', () => {
  it('leaves no server and every compute enabled and up', async () => {
    const r = await execa('bash', [`${REPO}lab/reset`], { reject: false, timeout: 600_000, all: true });
    expect(r.exitCode, String(r.all).slice(-2000)).toBe(0);
    expect(await osJson<unknown[]>(['server', 'list', '--all-projects'])).toEqual([]);
    const services = await osJson<Record<string, string>[]>(['compute', 'service', 'list', '--service', 'nova-compute']);
    for (const s of services.filter((x) => ['c01', 'c02', 'c04', 'c05'].includes(x['Host'] ?? ''))) {
      expect(s['Status'], `${s['Host']} enabled`).toBe('enabled');
      expect(s['State'], `${s['Host']} up`).toBe('up');
    }
  });
});
