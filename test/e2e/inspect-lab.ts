/**
 * Helpers of the inspect lab tests: a guest booted on the lab's libvirt host c03 (REST, one token),
 * the bot as an operator runs it (bot/main.ts as a child process) against the Slack stand-in with a
 * user-data approver of its own, and the node-side check that an inspection left nothing behind.
 */
import { createHash } from 'node:crypto';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackDriver } from '../../slack-standin/driver.js';
import type { SlackStandin } from '../../slack-standin/slack-standin.js';
import { startBot, type BotProcess } from '../helpers/bot-process.js';
import { NOVA_URL, Rest, sshHost, waitFor } from '../lab/lab-helpers.js';
import { LAB_DIR } from '../actions/lab-bot.js';

export const GLANCE_URL = 'http://127.0.0.1:9292/v2';
/** Known files of the lab's image inspect-ext4 (lab/lib/libvirt.sh). */
export const NOTES = 'chatops inspect fixture: hello from the guest disk\n';
export const NOTES_SHA256 = createHash('sha256').update(NOTES).digest('hex');

/** bob and carol approve ordinary runbooks; only dave may approve user-data access. */
export const INSPECT_CONFIG = `
defaultCloud: lab
clouds:
  lab:
    cloud: lab
    nodeCommands: { preset: lab }
    ssh: { config: ${LAB_DIR}/ssh/ssh_config, knownHosts: ${LAB_DIR}/ssh/known_hosts }
    inspect: { timeBox: 10m }
approvals:
  default:
    requesters: { channels: [C0OPS0001] }
    approvers: { groups: [S0APPROVE] }
  userData:
    approvers: { users: [U0DAVE001] }
`;

export interface Guest {
  id: string;
  domain: string;
}

/** Boots a server on c03 from `image` (inspect-ext4, or cirros for a disk without a file system) and waits until ACTIVE. */
export async function bootGuest(name: string, image = 'inspect-ext4'): Promise<Guest> {
  const rest = await Rest.login();
  const flavors = (await rest.call<{ flavors: { id: string; name: string }[] }>('GET', `${NOVA_URL}/flavors`)).body.flavors;
  const flavor = flavors.find((f) => f.name === 'm1.inspect')?.id;
  const images = (await rest.call<{ images: { id: string }[] }>('GET', `${GLANCE_URL}/images?name=${image}`)).body.images;
  if (!flavor || !images[0]) throw new Error('flavor m1.inspect or the image is missing: run lab/up (it sets c03 up)');
  const created = await rest.call<{ server: { id: string } }>('POST', `${NOVA_URL}/servers`, {
    server: { name, flavorRef: flavor, imageRef: images[0].id, networks: 'none', availability_zone: 'inspect' },
  });
  if (created.status !== 202) throw new Error(`server create: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body.server.id;
  const s = await waitFor(
    `${name} ACTIVE on c03`,
    async () => {
      const r = (await rest.call<{ server: Record<string, unknown> }>('GET', `${NOVA_URL}/servers/${id}`)).body.server;
      if (r['status'] === 'ERROR') throw new Error(`${name} went to ERROR: ${JSON.stringify(r['fault'])}`);
      return r['status'] === 'ACTIVE' && !r['OS-EXT-STS:task_state'] ? r : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  return { id, domain: String(s['OS-EXT-SRV-ATTR:instance_name']) };
}

export async function novaStatus(id: string): Promise<string> {
  const rest = await Rest.login();
  return String((await rest.call<{ server: Record<string, unknown> }>('GET', `${NOVA_URL}/servers/${id}`)).body.server['status']);
}

/**
 * What an inspection may have left on c03: a mount or a loop device of the work directory, an
 * export process, the directory itself, the guest not running. Empty when clean.
 */
export async function leftOnNode(domain: string): Promise<string[]> {
  const r = await sshHost(
    'c03',
    `echo state:$(virsh domstate ${domain}); findmnt -rn -o TARGET | grep chatops-inspect | sed s/^/mount:/; ` +
      `losetup -l -n -O NAME,BACK-FILE | grep chatops-inspect | sed s/^/loop:/; pgrep -a -f '[q]emu-storage-daemon.*chatops-inspect' | sed s/^/export:/; ` +
      `pgrep -a -f '[q]emu-nbd.*chatops' | sed s/^/nbd:/; ls /run/chatops-inspect 2>/dev/null | sed s/^/dir:/; ls /dev/nbd* 2>/dev/null | sed s/^/nbddev:/`,
  );
  return r.stdout.split('\n').filter((l) => l.trim() !== '' && l !== 'state:running');
}

/** The bot process (main.ts) with the inspect configuration, and a driver for its HTTP endpoint. */
export async function startInspectBot(
  standin: SlackStandin,
  dir: string,
  o: { crashAt?: string; configYaml?: string } = {},
): Promise<{ bot: BotProcess; slack: SlackDriver }> {
  const bot = await startBot({
    mode: 'http',
    standin,
    dir,
    configYaml: o.configYaml ?? INSPECT_CONFIG,
    env: { OS_CLIENT_CONFIG_FILE: `${LAB_DIR}/clouds.yaml`, PYTHONWARNINGS: 'ignore', ...(o.crashAt ? { CHATOPS_CRASH_AT: o.crashAt } : {}) },
  });
  return { bot, slack: new SlackDriver(standin, { kind: 'http', url: `http://127.0.0.1:${bot.port}/slack/events` }) };
}

/** alice asks; resolves with the plan card's ts and the operation id. */
export async function askInspect(standin: SlackStandin, slack: SlackDriver, text: string): Promise<{ ts: string; opId: string }> {
  const ws = standin.workspace;
  const before = ws.messages('ops').length;
  await slack.command({ user: 'alice', channel: 'ops', command: '/instance', text });
  await ws.waitFor(() => ws.messages('ops').length > before, 60_000, `the plan of /instance ${text}`);
  const ts = ws.messages('ops').at(-1)!.ts;
  const m = /op-[a-z2-7]{12}/.exec(JSON.stringify(ws.message('ops', ts)!.blocks));
  if (!m) throw new Error(`no operation on the card: ${ws.message('ops', ts)!.text}`);
  return { ts, opId: m[0] };
}

/** `user` clicks Approve on the card (the click may be refused: read their ephemerals). */
export async function clickApprove(standin: SlackStandin, slack: SlackDriver, ts: string, user: string): Promise<void> {
  const card = standin.workspace.message('ops', ts)!;
  const approve = buttonsOf(card.blocks).find((b) => b.actionId === 'approval.approve');
  if (!approve) throw new Error(`no Approve button on the card: ${card.text}`);
  await slack.click({ user, message: { channel: card.channel, ts }, actionId: 'approval.approve', value: approve.value! });
}

/** The final state of an operation's run, from the thread's summary reply ("instance.inspect <uuid>: failed in 3s"), once there. */
export function endOf(standin: SlackStandin, ts: string): string | undefined {
  const summaries = standin.workspace
    .thread('ops', ts)
    .map((m) => /^instance\.inspect \S+: (\S+) in /.exec(m.text)?.[1])
    .filter((x): x is string => x !== undefined);
  return summaries.at(-1);
}
