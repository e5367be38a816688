import { describe, expect, it } from 'vitest';
import { createFence } from '../../adapters/fence.js';
import { movedAllocations } from '../../adapters/openstack/cloud.js';
import { isChatOpsError } from '../../core/errors.js';

describe('fence command', () => {
  const settings = { command: ['/bin/echo', 'power', 'off', '-H', '{bmc}', 'host={host}'], timeoutMs: 5000, hosts: { c01: { bmc: '10.0.0.101' } } };

  it('fills {host} and the host variables into the argv, one argument each', () => {
    expect(createFence(settings).argvFor('c01')).toEqual(['/bin/echo', 'power', 'off', '-H', '10.0.0.101', 'host=c01']);
  });

  it('refuses a host whose variable is missing, naming the key to add', () => {
    const e = (() => {
      try {
        return createFence(settings).argvFor('c02');
      } catch (x) {
        return x;
      }
    })();
    expect(isChatOpsError(e) && e.code).toBe('CONFIG_INVALID');
    expect((e as Error).message).toContain('fence.hosts.c02.bmc');
  });

  it('runs the real program without a shell and reports exit status and output', async () => {
    const ok = await createFence({ ...settings, command: ['/bin/echo', 'fenced {host}; rm -rf /'] }).run('c01');
    expect(ok).toMatchObject({ exitCode: 0, timedOut: false, output: 'fenced c01; rm -rf /' });
    const failed = await createFence({ ...settings, command: ['/bin/sh', '-c', 'echo no BMC answer >&2; exit 3'] }).run('c01');
    expect(failed).toMatchObject({ exitCode: 3, output: 'no BMC answer' });
    const slow = await createFence({ ...settings, timeoutMs: 200, command: ['/bin/sleep', '5'] }).run('c01');
    expect(slow.timedOut).toBe(true);
  });
});

describe('movedAllocations', () => {
  const r = { VCPU: 1, MEMORY_MB: 64 };
  it("moves the source provider's resources to the destination", () => {
    expect(movedAllocations({ a: r }, 'a', 'b')).toEqual({ b: r });
  });
  it('drops the source when the destination already holds resources (API evacuation left both)', () => {
    expect(movedAllocations({ a: r, b: { VCPU: 2 } }, 'a', 'b')).toEqual({ b: { VCPU: 2 } });
  });
  it('says there is nothing to do when nothing is on the source', () => {
    expect(movedAllocations({ b: r }, 'a', 'b')).toBeUndefined();
  });
});
