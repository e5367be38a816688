/**
 * The bot as main.ts assembles it (buildDeps + RUNBOOKS, test/helpers/in-process-bot.ts), pointed at
 * the OpenStack lab, driven through the Slack stand-in over HTTP or Socket Mode, with a real SQLite
 * store and the local-mode approvals (alice asks, bob approves). Shared by the node lab tests and the
 * drain bench.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNBOOKS } from '../../actions/index.js';
import type { NodeDeps } from '../../actions/deps.js';
import type { Bot } from '../../compose/build-bot.js';
import { buildDeps } from '../../compose/build-deps.js';
import { configSchema } from '../../bot/config.js';
import type { SlackDriver } from '../../slack-standin/driver.js';
import { buttonsOf } from '../../slack-standin/payloads.js';
import type { Message } from '../../slack-standin/workspace.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { systemClock } from '../../core/clock.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { SIGNING_SECRET } from '../helpers/bot-process.js';
import { startInProcessBot } from '../helpers/in-process-bot.js';

export const LAB_DIR = process.env['LAB'] ?? '/var/lib/openstack-lab';

export interface LabBot {
  standin: SlackStandin;
  store: Store;
  bot: Bot<NodeDeps>;
  deps: NodeDeps;
  slack: SlackDriver;
  close(): Promise<void>;
}

/** The lab's cloud entry as lab/chatops.lab.yaml has it, with the backend chosen by the test. */
/** The lab's databases (lab/lib/common.sh: user openstack), for the SQL procedures. */
export const LAB_DB = Object.fromEntries(['nova', 'nova_api', 'neutron', 'cinder'].map((d) => [d, `mysql://openstack:openstack@127.0.0.1:3306/${d}`]));

export function labConfig(
  backend: 'rest' | 'cli',
  migrationTimeout = '5m',
  initFiles?: string[],
  extra: { db?: boolean; notifications?: boolean; cloud?: string } = {},
) {
  return configSchema.parse({
    defaultCloud: 'lab',
    clouds: {
      lab: {
        cloud: extra.cloud ?? 'lab',
        backend,
        nodeCommands: { preset: 'lab', ...(initFiles ? { initFiles } : {}) },
        ssh: { config: `${LAB_DIR}/ssh/ssh_config`, knownHosts: `${LAB_DIR}/ssh/known_hosts` },
        migrationTimeout,
        ...(extra.db ? { db: LAB_DB } : {}),
        // the lab's RabbitMQ (guest; the password from LAB_RABBITMQ_PASSWORD, which startLabBot sets)
        ...(extra.notifications ? { notifications: { url: 'amqp://guest@127.0.0.1:5672/', passwordEnv: 'LAB_RABBITMQ_PASSWORD' } } : {}),
        publicNetwork: 'Public_AGILE',
      },
    },
  });
}

/** `dir` holds the SQLite store; two bots given the same one in turn share their journal (undrain finds the drain). */
export async function startLabBot(o: {
  transport: 'http' | 'socket';
  backend: 'rest' | 'cli';
  migrationTimeout?: string;
  dir?: string;
  initFiles?: string[];
  /** Consume Nova's notifications from the lab's RabbitMQ (moves woken by events, polls as the safety net). */
  notifications?: boolean;
  /** The lab's databases, for the SQL procedures (evacuate method=db). */
  db?: boolean;
  /** Scheduled runs: grace, reminder and sweep interval (ms). */
  schedules?: { graceMs?: number; reminderMs?: number; tickMs?: number };
  /** Another clouds.yaml and its entry for the bot (default: the lab's, cloud "lab"). */
  clouds?: { file: string; cloud: string };
}): Promise<LabBot> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'node-lab-'));
  const env = {
    ...process.env,
    OS_CLIENT_CONFIG_FILE: o.clouds?.file ?? `${LAB_DIR}/clouds.yaml`,
    OS_COMPUTE_API_VERSION: '2.79',
    PYTHONWARNINGS: 'ignore',
    LAB_RABBITMQ_PASSWORD: 'guest',
  };
  const standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  const store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
  const built = buildDeps(
    {
      ...labConfig(o.backend, o.migrationTimeout, o.initFiles, {
        db: o.db ?? false,
        notifications: o.notifications ?? false,
        ...(o.clouds ? { cloud: o.clouds.cloud } : {}),
      }),
      source: 'test',
    },
    systemClock,
    store,
    env,
  );
  const { bot, slack } = await startInProcessBot<NodeDeps>({
    standin,
    transport: o.transport,
    store,
    runbooks: RUNBOOKS,
    deps: built.deps,
    owner: `lab-${o.transport}-${o.backend}`,
    ...(o.schedules ? { schedules: o.schedules } : {}),
  });
  return {
    standin,
    store,
    bot,
    deps: built.deps,
    slack,
    async close() {
      await bot.shutdown(5000);
      await built.close();
      await store.close();
      await standin.stop();
    },
  };
}

/**
 * Holds an exclusive flock(1) on the lab host for the whole test (or bench): two drains of c01 from
 * different processes (a CI clone and a developer, say) would move each other's servers. Only
 * tests that take this lock are serialised; release() lets the next one in.
 */
export async function holdLabHost(host: string, timeoutMs = 3_600_000): Promise<{ release(): void }> {
  const { spawn } = await import('node:child_process');
  const holder = spawn(
    'flock',
    ['-x', '-w', String(Math.ceil(timeoutMs / 1000)), `/tmp/openstack-lab-${host}.lock`, 'sh', '-c', 'echo locked; exec cat >/dev/null'],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`could not lock the lab host ${host} (flock exited ${code})`)));
  });
  return { release: () => holder.stdin!.end() };
}

/**
 * alice asks for `/node <text>`, bob approves; resolves with the card once the operation finished.
 * Other tests share the lab, so the plan may drift between asking and approving (a server of theirs
 * came or went): the bot then shows the new plan, and bob approves that one (at most 3 times).
 */
export async function runApprovedOnLab(
  lab: LabBot,
  text: string,
  timeoutMs: number,
  o: { planTimeoutMs?: number; command?: string } = {},
): Promise<{ card: Message; opId: string; story(): string; planShownAt: number; finishedAt: number }> {
  const ws = lab.standin.workspace;
  const before = ws.messages('ops').length;
  const ack = await lab.slack.command({ user: 'alice', channel: 'ops', command: o.command ?? '/node', text });
  if (ack.timedOut) throw new Error(`${o.command ?? '/node'} ${text} was not acknowledged in time`);
  await ws.waitFor(() => ws.messages('ops').length > before, o.planTimeoutMs ?? 120_000, `the plan of ${text}`);
  // the bench's clock: from the plan on screen (bob's click) to the card saying it finished
  const planShownAt = Date.now();
  const ts = ws.messages('ops').at(-1)!.ts;
  const card = () => ws.message('ops', ts)!;
  const opId = /op-[a-z2-7]{12}/.exec(JSON.stringify(card().blocks))![0];
  for (let round = 0; round < 3; round++) {
    const approve = buttonsOf(card().blocks).find((b) => b.actionId === 'approval.approve');
    if (!approve) break;
    const drifts = ws.thread('ops', ts).filter((m) => /plan changed/.test(m.text)).length;
    await lab.slack.click({ user: 'bob', message: { channel: card().channel, ts }, actionId: 'approval.approve', value: approve.value! });
    await ws.waitFor(
      () => !buttonsOf(card().blocks).some((b) => b.value === approve.value) || ws.thread('ops', ts).filter((m) => /plan changed/.test(m.text)).length > drifts,
      120_000,
      `${text} to start`,
    );
  }
  // The card's text is `<runbook> <target>: <state>, …`; a running card may say "1 failed" while its cleanup steps run.
  await ws.waitFor(() => /: (succeeded|failed|aborted|needs-operator),/.test(card().text), timeoutMs, `${text} to finish`);
  const finishedAt = Date.now();
  const story = () =>
    ws
      .thread('ops', ts)
      .map((m) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`)
      .join('\n')
      .slice(0, 6000);
  return { card: card(), opId, story, planShownAt, finishedAt };
}
