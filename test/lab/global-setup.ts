/**
 * Before the lab project's first file: the lab back to an empty cloud (lab/reset). A run that was
 * killed before its clean-up (a CI timeout, a session's end, kill -9) leaves servers on c01, a host
 * disabled or stopped, or c01 on another driver; the next run's drains would then move, or fail on,
 * servers that are not theirs (Nova's fake driver forgets its instances when nova-compute restarts,
 * so such a leftover cannot even be migrated). The lab is the test suite's: its own servers are
 * named per file and cleaned up by each file; this sweeps what a dead run could not.
 */
import { existsSync } from 'node:fs';
import { execa } from 'execa';

const REPO = new URL('../../', import.meta.url).pathname;
const CLOUDS_YAML = `${process.env['LAB'] ?? '/var/lib/openstack-lab'}/clouds.yaml`;

export default async function setup(): Promise<void> {
  if (process.env['LAB_NO_RESET'] === '1') return;
  // no lab: each file's requireLab() says how to bring it up
  if (!existsSync(CLOUDS_YAML)) return;
  const t0 = Date.now();
  const r = await execa('bash', [`${REPO}lab/reset`], { reject: false, timeout: 600_000, all: true });
  if (r.exitCode !== 0) throw new Error(`lab/reset before the lab project failed (exit ${r.exitCode}):\n${String(r.all).slice(-2000)}`);
  console.log(`lab project: lab/reset in ${((Date.now() - t0) / 1000).toFixed(1)} s (${String(r.all).trim().split('\n').filter((l) => /removed|reset:/.test(l)).join('; ')})`);
}
