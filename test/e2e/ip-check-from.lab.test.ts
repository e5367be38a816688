/**
 * `/ip check … from=<host>` on the real lab, through the Slack stand-in over HTTP: the TCP connect is
 * made by the compute node c01 over SSH (the lab bot's ssh_config and known_hosts), with bash's
 * /dev/tcp in a fixed template (the lab's nodes have no nc). Read-only, answered privately: nothing
 * is posted in the channel and no operation is recorded. Run under the c01/c02 lock (c01's sshd).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabBot, type LabBot } from '../actions/lab-bot.js';
import { requireLab } from '../lab/lab-helpers.js';

let lab: LabBot;

/** alice's private answers to `/ip text`: `n` of them (2: the acknowledgement and the answer; 1: a usage error). */
async function ask(text: string, n = 2): Promise<string> {
  const ws = lab.standin.workspace;
  const before = ws.ephemerals('alice').length;
  await lab.slack.command({ user: 'alice', channel: 'ops', command: '/ip', text });
  await ws.waitFor(() => ws.ephemerals('alice').length >= before + n, 60_000, `the answer to /ip ${text}`);
  return ws
    .ephemerals('alice')
    .slice(before)
    .map((e) => `${e.text}\n${JSON.stringify(e.blocks ?? [])}`)
    .join('\n');
}

beforeAll(async () => {
  await requireLab(['c01']);
  lab = await startLabBot({ transport: 'http', backend: 'rest' });
}, 300_000);

afterAll(async () => {
  await lab?.close();
});

describe('/ip check from=<compute node>', () => {
  it("from c01: the lab's sshd of c02 answers with its banner; a closed port is refused; an unrouted address times out — privately", async () => {
    const posted = lab.standin.workspace.messages('ops').length;
    const ops = (await lab.store.listOperations({})).length;

    const open = await ask('check 127.0.0.12 from=c01');
    expect(open).toMatch(/127\.0\.0\.12:22 is open \(connected in \d+ ms\); banner: SSH-2\.0-OpenSSH_[^ ]+ .* — from c01/);
    expect(open).toContain('From `c01` over SSH (times measured on the node)');
    expect(open).toContain('ssh c01 nc -v -w 2 127.0.0.12 22');

    expect(await ask('check 127.0.0.12 port=1 from=c01')).toMatch(
      /127\.0\.0\.12:1 refused: the host answered, nothing listens on that port \(\d+ ms, ECONNREFUSED\) — from c01/,
    );
    // TEST-NET-1 outside the lab's Neutron: nothing answers, the node's watchdog ends the connect at 2 s
    expect(await ask('check 192.0.2.250 port=22 from=c01')).toMatch(/192\.0\.2\.250:22 timed out after 2 s: no answer .*\(\d+ ms\) — from c01/);

    expect(lab.standin.workspace.messages('ops').length).toBe(posted);
    expect((await lab.store.listOperations({})).length).toBe(ops);
  }, 120_000);

  it('bad input: an unknown host, a host that is not a compute node, a malformed host — a clear error, no SSH', async () => {
    expect(await ask('check 127.0.0.12 from=c99')).toMatch(
      /`from`: Nova knows no host named c99; from= takes a compute node \(compute nodes: c01, c02, c03, c04, c05\)/,
    );
    expect(await ask('check 127.0.0.12 from=controller')).toMatch(
      /`from`: controller is not a compute node: Nova runs (nova-conductor, nova-scheduler|nova-scheduler, nova-conductor) there, no nova-compute/,
    );
    expect(await ask('check 127.0.0.12 from=-c01', 1)).toMatch(/expected a host name/);
    expect(await ask('check 127.0.0.12 from=c01;reboot', 1)).toMatch(/expected a host name/);
  }, 120_000);
});
