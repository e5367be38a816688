/**
 * `/node status` and `/node list` on the real lab through the Slack stand-in (both transports, both
 * backends): the answers are ephemeral, need no approval, and say what the real Nova and the real
 * node say (compared with the `openstack` CLI and the lab's own status script over SSH).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { osJson, requireLab, sshHost } from '../lab/lab-helpers.js';
import { startLabBot, type LabBot } from './lab-bot.js';

describe.each([
  ['http', 'rest'],
  ['socket', 'rest'],
] as const)('node queries over %s with the %s backend', (transport, backend) => {
  let lab: LabBot;
  beforeAll(async () => {
    await requireLab();
    lab = await startLabBot({ transport, backend });
  }, 60_000);
  afterAll(async () => lab?.close());

  const ask = async (user: string, text: string) => {
    const ws = lab.standin.workspace;
    const before = ws.ephemerals(user).length;
    const ack = await lab.slack.command({ user, channel: 'ops', command: '/node', text });
    expect(ack.timedOut).toBe(false);
    // The acknowledgement ("… `/node status c01` …") comes first, the answer after it.
    await ws.waitFor(() => ws.ephemerals(user).length >= before + 2, 60_000, `the answer to /node ${text}`);
    return ws.ephemerals(user).at(-1)!;
  };

  it('status shows the service, the process, the AMQP line and the instance count Nova and the node report', async () => {
    const messagesBefore = lab.standin.workspace.messages('ops').length;
    const count = async () => (await osJson<unknown[]>(['server', 'list', '--host', 'c01', '--all-projects'])).length;
    const n0 = await count();
    const e = await ask('alice', 'status c01');
    const body = JSON.stringify(e.blocks);
    const n1 = await count();
    const svc = (await osJson<Array<Record<string, string>>>(['compute', 'service', 'list', '--host', 'c01', '--service', 'nova-compute']))[0]!;
    const proc = await sshHost('c01', 'lab-nova-compute status');
    expect(body).toContain(`*${svc['Status']}*`);
    expect(body).toContain(proc.exitCode === 0 ? 'running' : 'not running');
    expect(body).toMatch(/Last AMQP connection: \d{4}-\d\d-\d\dT/);
    // Other helpers boot and delete servers on the shared lab: the bot's count lies between the two reads.
    const n = Number(/(\d+) instances/.exec(e.text)?.[1]);
    expect(n).toBeGreaterThanOrEqual(Math.min(n0, n1));
    expect(n).toBeLessThanOrEqual(Math.max(n0, n1));
    // Read-only: nothing was posted in the channel, no operation was created.
    expect(lab.standin.workspace.messages('ops').length).toBe(messagesBefore);
    expect(await lab.store.listOperations({})).toEqual([]);
  });

  it('list shows every compute service with its state and instance count, and filters', async () => {
    const services = await osJson<Array<Record<string, string>>>(['compute', 'service', 'list', '--service', 'nova-compute']);
    const countOn = async (host: string) => (await osJson<unknown[]>(['server', 'list', '--host', host, '--all-projects'])).length;
    const before = await Promise.all(services.map((s) => countOn(s['Host']!)));
    const e = await ask('bob', 'list');
    const after = await Promise.all(services.map((s) => countOn(s['Host']!)));
    // The other pair's lane may disable or enable its hosts meanwhile: the bot's status is one of the two reads.
    const servicesAfter = await osJson<Array<Record<string, string>>>(['compute', 'service', 'list', '--service', 'nova-compute']);
    const lines = (e.blocks as Array<{ text?: { text?: string } }>).flatMap((b) => b.text?.text?.split('\n') ?? []);
    services.forEach((s, k) => {
      const line = lines.find((l) => l.startsWith(`\`${s['Host']}\``));
      const statuses = [s['Status'], servicesAfter.find((x) => x['Host'] === s['Host'])?.['Status']].filter(Boolean);
      expect(line, s['Host']).toMatch(new RegExp(`\\*(${statuses.join('|')})\\*`));
      // Other helpers boot and delete servers meanwhile: the bot's count lies between the two reads.
      const n = Number(/ (\d+) instances?/.exec(line ?? '')?.[1]);
      expect(n, s['Host']).toBeGreaterThanOrEqual(Math.min(before[k]!, after[k]!));
      expect(n, s['Host']).toBeLessThanOrEqual(Math.max(before[k]!, after[k]!));
    });
    expect(e.text).toContain(`${services.length} compute nodes`);
    const none = await ask('bob', 'list state=down page=3');
    expect(none.text).toMatch(/compute nodes \(down\)|No compute nodes \(down\)/);
  });
});
