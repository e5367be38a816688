import { describe, expect, it } from 'vitest';
import { fileExists, moveFile, nodeCommands, PRESET_NAMES } from '../../../adapters/ssh/node-presets.js';
import { sshEquivalent } from '../../../adapters/ssh/shell-quote.js';

const eq = (c: { display: string }) => c.display;

describe('node command presets', () => {
  it('systemd: systemctl stop/start/is-active, the nova log, unit files and a daemon-reload', () => {
    const n = nodeCommands({ preset: 'systemd' }, 'c01');
    expect([eq(n.stop), eq(n.start), eq(n.status.command)]).toEqual([
      'systemctl stop nova-compute',
      'systemctl start nova-compute',
      'systemctl is-active nova-compute',
    ]);
    expect(n.stop.text).toBe("systemctl stop 'nova-compute'");
    expect(sshEquivalent('c01', n.stop, true)).toBe('ssh c01 sudo systemctl stop nova-compute');
    expect(n.status.isRunning({ exitCode: 0, stdout: 'active\n' })).toBe(true);
    expect(n.status.isRunning({ exitCode: 3, stdout: 'inactive\n' })).toBe(false);
    expect(n.status.okExitCodes).not.toContain(4); // no such unit is a failure
    expect(n.logPath).toBe('/var/log/nova/nova-compute.log');
    expect(n.initFiles).toContain('/lib/systemd/system/nova-compute.service');
    expect(eq(n.afterInitFilesMoved!)).toBe('systemctl daemon-reload');
    expect(eq(n.logTail(100))).toBe('tail -n 100 -- /var/log/nova/nova-compute.log');
  });

  it('systemd with the journal', () => {
    const n = nodeCommands({ preset: 'systemd', journal: true }, 'c01');
    expect(n.logPath).toBeUndefined();
    expect(eq(n.amqpLines(5))).toBe("journalctl --no-pager -o short-iso -u nova-compute | grep -F -i -e 'connected to AMQP server on' | tail -n 5");
  });

  it("upstart: the chapter's stop/start/status nova-compute and its init files", () => {
    const n = nodeCommands({ preset: 'upstart' }, 'c01');
    expect([eq(n.stop), eq(n.start), eq(n.status.command)]).toEqual(['stop nova-compute', 'start nova-compute', 'status nova-compute']);
    expect(n.status.isRunning({ exitCode: 0, stdout: 'nova-compute start/running, process 1234\n' })).toBe(true);
    expect(n.status.isRunning({ exitCode: 0, stdout: 'nova-compute stop/waiting\n' })).toBe(false);
    expect(n.initFiles).toEqual(['/etc/init/nova-compute.conf', '/etc/init.d/nova-compute']);
  });

  it('sysvinit: service nova-compute …, LSB status codes', () => {
    const n = nodeCommands({ preset: 'sysvinit' }, 'c01');
    expect(eq(n.stop)).toBe('service nova-compute stop');
    expect(n.status.okExitCodes).toEqual([0, 1, 2, 3]);
    expect(n.status.isRunning({ exitCode: 3, stdout: '' })).toBe(false);
    expect(n.initFiles).toEqual(['/etc/init.d/nova-compute']);
  });

  it("docker and podman: kolla's nova_compute container and log", () => {
    for (const preset of ['docker', 'podman'] as const) {
      const n = nodeCommands({ preset }, 'c01');
      expect(eq(n.stop)).toBe(`${preset} stop nova_compute`);
      expect(eq(n.status.command)).toBe(`${preset} inspect --type container nova_compute`);
      expect(n.status.isRunning({ exitCode: 0, stdout: '[{"State":{"Running":true}}]' })).toBe(true);
      expect(n.status.isRunning({ exitCode: 0, stdout: '[{"State":{"Running":false}}]' })).toBe(false);
      expect(n.status.isRunning({ exitCode: 0, stdout: 'not json' })).toBe(false);
      expect(n.logPath).toBe('/var/log/kolla/nova/nova-compute.log');
    }
  });

  it("lab: the lab's lab-nova-compute per host, LSB status, per-host log", () => {
    const n = nodeCommands({ preset: 'lab' }, 'c02');
    expect([eq(n.stop), eq(n.start), eq(n.status.command)]).toEqual([
      '/usr/local/sbin/lab-nova-compute stop c02',
      '/usr/local/sbin/lab-nova-compute start c02',
      '/usr/local/sbin/lab-nova-compute status c02',
    ]);
    expect(n.status.okExitCodes).toEqual([0, 3]);
    expect(n.logPath).toBe('/var/log/nova/nova-compute-c02.log');
  });

  it('every preset quotes its arguments and refuses names that could break out', () => {
    for (const preset of PRESET_NAMES) {
      const n = nodeCommands({ preset }, 'c01');
      for (const c of [n.stop, n.start, n.status.command, n.logTail(), n.amqpLines()]) expect(c.text).toMatch(/'[^']*'/);
      expect(() => nodeCommands({ preset, service: "nova'; reboot; '" }, 'c01')).toThrow();
      expect(() => nodeCommands({ preset, logPath: '/var/log/x; reboot' }, 'c01')).toThrow();
    }
    expect(() => nodeCommands({ preset: 'docker', container: 'a b' }, 'c01')).toThrow();
    expect(() => nodeCommands({ preset: 'lab' }, 'c01 && reboot')).toThrow();
    expect(() => nodeCommands({ preset: 'launchd' as 'lab' }, 'c01')).toThrow();
  });

  it('moves files aside without overwriting, and checks existence', () => {
    const m = moveFile('/etc/init/nova-compute.conf', '/root/tmp/nova-compute.conf');
    expect(m.display).toBe(
      'mkdir -p -- /root/tmp || exit; mv -T -n -- /etc/init/nova-compute.conf /root/tmp/nova-compute.conf; s=$?; if [ -e /etc/init/nova-compute.conf ] || [ -L /etc/init/nova-compute.conf ]; then if [ -e /root/tmp/nova-compute.conf ] || [ -L /root/tmp/nova-compute.conf ]; then echo refusing to overwrite /root/tmp/nova-compute.conf >&2; exit 17; fi; if [ $s -ne 0 ]; then exit $s; fi; exit 1; fi; exit $s',
    );
    expect(fileExists('/etc/init.d/nova-compute').okExitCodes).toEqual([0, 1]);
  });
});
