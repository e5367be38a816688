// Runbook §1/§6 on the real lab: disable/enable scheduling with a reason, force down/up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeService, os, osOk, requireLab, restoreHost, waitFor } from './lab-helpers.js';

describe('compute service set (openstack CLI against the lab)', () => {
  beforeAll(() => requireLab());
  afterAll(() => restoreHost('c01'));

  it('disables c01 with a reason and enables it again', async () => {
    const reason = `maintenance lab-test ${Date.now()}`;
    await osOk(['compute', 'service', 'set', '--disable', '--disable-reason', reason, 'c01', 'nova-compute']);
    const disabled = await computeService('c01');
    expect(disabled.Status).toBe('disabled');
    expect(disabled['Disabled Reason']).toBe(reason);
    // disabling is idempotent: a second call succeeds and keeps the reason
    await osOk(['compute', 'service', 'set', '--disable', '--disable-reason', reason, 'c01', 'nova-compute']);
    expect((await computeService('c01'))['Disabled Reason']).toBe(reason);

    await osOk(['compute', 'service', 'set', '--enable', 'c01', 'nova-compute']);
    const enabled = await computeService('c01');
    expect(enabled.Status).toBe('enabled');
    expect(enabled['Disabled Reason']).toBeNull();
  });

  it('forces c01 down (State down at once, though its nova-compute runs) and up again', async () => {
    await osOk(['compute', 'service', 'set', '--down', 'c01', 'nova-compute']);
    const down = await computeService('c01');
    expect(down['Forced Down']).toBe(true);
    expect(down.State).toBe('down');

    await osOk(['compute', 'service', 'set', '--up', 'c01', 'nova-compute']);
    const up = await waitFor('c01 up', async () => {
      const s = await computeService('c01');
      return s.State === 'up' ? s : undefined;
    });
    expect(up['Forced Down']).toBe(false);
  });

  it('refuses --down without a microversion >= 2.11 (why the bot pins 2.79)', async () => {
    const r = await os(['--os-compute-api-version', '2.1', 'compute', 'service', 'set', '--down', 'c01', 'nova-compute']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/2\.11/);
    expect((await computeService('c01'))['Forced Down']).toBe(false);
  });
});
