/**
 * The SSH adapter against the OpenStack lab's compute hosts (c01 = 127.0.0.11, c02 = 127.0.0.12,
 * each with its own sshd), configured only by the lab's ssh_config and known_hosts, with the `lab`
 * node preset. Read-only: nothing here stops or starts a service other tests rely on.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRemoteShell, nodeCommands, parseAmqpConnections } from '../../adapters/ssh.js';

const LAB = process.env.LAB ?? '/var/lib/openstack-lab';
const sshConfigPath = `${LAB}/ssh/ssh_config`;
const sh = createRemoteShell({ sshConfigPath, agentSocket: null });
afterAll(() => sh.close());

describe('SSH adapter on the lab', () => {
  it('finds the lab ssh_config written by lab/up', () => {
    expect(existsSync(sshConfigPath)).toBe(true);
  });

  for (const host of ['c01', 'c02']) {
    it(`reads nova-compute's state and log on ${host} through the lab preset`, async () => {
      const n = nodeCommands({ preset: 'lab' }, host);
      const st = await sh.run(host, n.status.command, { okExitCodes: n.status.okExitCodes });
      expect(st.stdout).toMatch(new RegExp(`nova-compute \\(${host}\\) is (running|not running)`));
      expect(n.status.isRunning(st)).toBe(st.stdout.includes('is running'));
      const lines = await sh.run(host, n.amqpLines());
      expect(lines.exitCode).toBe(0); // the log exists and is readable (exit 2 otherwise)
      const conns = parseAmqpConnections(lines.stdout);
      expect(conns.length).toBe(lines.stdout.split('\n').filter((l) => /connected to AMQP/i.test(l)).length);
      // The lab logs at DEBUG, so a running nova-compute has connected at least once, to the lab's RabbitMQ.
      if (n.status.isRunning(st)) expect(conns.at(-1)?.server).toBe('127.0.0.1:5672');
      const tail = await sh.run(host, n.logTail(5));
      expect(tail.stdout.split('\n').filter(Boolean).length).toBeGreaterThan(0);
      expect(sh.equivalent(host, n.status.command)).toBe(`ssh ${host} /usr/local/sbin/lab-nova-compute status ${host}`);
    });
  }

  it('uses one connection per lab host', () => {
    expect(sh.connectionsOpened).toBe(2);
  });
});
