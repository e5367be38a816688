/**
 * Configuration, built once at the boundary: one YAML file (CHATOPS_CONFIG, default ./chatops.yaml)
 * plus secrets from the environment. Validated by zod; one ConfigError lists every bad key with
 * what was expected. The result is deeply frozen. Secrets are kept apart (`secrets`) so that the
 * rest can be logged as it is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, type Problem } from '../core/errors.js';
import { approvalsConfigSchema } from '../approvals/approvals-config.js';
import { duration, hostName, resourceName } from '../core/values.js';
import { storeConfigSchema } from '../store/store-config.js';
import { DEFAULT_BUDGET } from '../adapters/openstack/request-budget.js';
import { DEFAULT_POLL_SCHEDULE } from '../actions/steps/nova-observer.js';

const nodePresetName = z.enum(['systemd', 'upstart', 'sysvinit', 'docker', 'podman', 'lab']);

const dsn = z.string().regex(/^mysql:\/\/[^\s]+$/, 'expected a DSN such as mysql://user:password@127.0.0.1:3306/nova');

const budgetRate = z.number().min(0.1, 'expected at least 0.1 requests a second').max(1000);
const budgetBurst = z.number().int().min(1).max(1000);

/** A short duration in milliseconds: 200ms, 2s, 1m. */
const pollDuration = (min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const m = /^(\d{1,6})(ms|s|m)$/.exec(v);
    const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000) : NaN;
    if (!(ms >= min && ms <= max)) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as 200ms or 2s, from ${min} ms to ${max / 1000} s` });
      return z.NEVER;
    }
    return ms;
  });

const P = DEFAULT_POLL_SCHEDULE;

/** How an operation's running migrations are read when no notification says they ended (actions/steps/nova-observer.ts). */
const pollingSchema = z
  .object({
    first: pollDuration(50, 60_000).default(P.firstMs),
    firstFor: pollDuration(0, 600_000).default(P.firstForMs),
    then: pollDuration(50, 60_000).default(P.thenMs),
    thenFor: pollDuration(0, 600_000).default(P.thenForMs),
    growth: z.number().min(1).max(4).default(P.growth),
    max: pollDuration(50, 300_000).default(P.maxMs),
    overlap: pollDuration(1000, 600_000).default(P.overlapMs),
    verifyWithin: pollDuration(0, 60_000).default(P.verifyWithinMs),
    safetyNet: pollDuration(50, 600_000).default(P.safetyNetMs),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.then < p.first) ctx.addIssue({ code: 'custom', path: ['then'], message: `expected at least first (${p.first} ms)` });
    if (p.max < p.then) ctx.addIssue({ code: 'custom', path: ['max'], message: `expected at least then (${p.then} ms)` });
    if (p.thenFor < p.firstFor) ctx.addIssue({ code: 'custom', path: ['thenFor'], message: `expected at least firstFor (${p.firstFor} ms)` });
    if (p.safetyNet < p.max) ctx.addIssue({ code: 'custom', path: ['safetyNet'], message: `expected at least max (${p.max} ms)` });
  })
  .transform((p) => ({
    firstMs: p.first,
    firstForMs: p.firstFor,
    thenMs: p.then,
    thenForMs: p.thenFor,
    growth: p.growth,
    maxMs: p.max,
    overlapMs: p.overlap,
    verifyWithinMs: p.verifyWithin,
    safetyNetMs: p.safetyNet,
  }));

const cloudSchema = z
  .object({
    /** Entry of clouds.yaml (OS_CLOUD) holding the credentials of this cloud. */
    cloud: z.string().min(1),
    backend: z.enum(['rest', 'cli']).default('rest'),
    nodeCommands: z
      .object({
        preset: nodePresetName.default('systemd'),
        sudo: z.boolean().default(false),
        logPath: z
          .string()
          .regex(/^\/[A-Za-z0-9._/{}-]+$/, 'expected an absolute path; {host} is replaced by the host name')
          .optional(),
        /** Nova's instances_path on the nodes ({host} is replaced; default /var/lib/nova/instances, the lab preset's /var/lib/nova/instances-{host}). */
        instancesPath: z
          .string()
          .regex(/^\/[A-Za-z0-9._/{}-]+$/, 'expected an absolute path; {host} is replaced by the host name')
          .optional(),
        /** Init files `pin-init=yes` moves aside (default: the preset's own list). */
        initFiles: z
          .array(z.string().regex(/^\/[A-Za-z0-9._/-]+$/, 'expected an absolute path'))
          .max(16)
          .optional(),
      })
      .strict()
      .default({ preset: 'systemd', sudo: false }),
    ssh: z.object({ config: z.string().optional(), knownHosts: z.string().optional() }).strict().default({}),
    db: z.object({ nova: dsn, nova_api: dsn, neutron: dsn, cinder: dsn }).partial().strict().optional(),
    /**
     * The fence (STONITH) command /node evacuate runs before anything moves: an argv template run
     * without a shell; `{host}` and the host's own variables (`hosts.<host>.<name>`) are filled in.
     */
    fence: z
      .object({
        command: z.array(z.string().min(1)).min(1, 'expected an argv such as [ipmitool, -H, "{bmc}", chassis, power, off]'),
        timeout: z.string().default('60s'),
        hosts: z.record(hostName, z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name'), z.string())).default({}),
      })
      .strict()
      .optional(),
    /** Only these hosts may be named in commands, when set (an inventory check beyond Nova's own list). */
    hosts: z.array(hostName).optional(),
    migrationTimeout: z.string().default('30m'),
    /**
     * Nova's versioned notifications on the cloud's message bus (adapters/openstack/nova-notifications.ts):
     * moves end as soon as Nova says so, polling stays as the safety net. The password comes from the
     * environment variable named by `passwordEnv`, never from this file.
     */
    notifications: z
      .object({
        url: z
          .string()
          .regex(
            /^amqps?:\/\/(?:[^:@/\s]+@)?[^:@/\s]+(?::\d+)?(?:\/[^\s]*)?$/,
            'expected amqp://user@host:5672/vhost (no password: it comes from passwordEnv)',
          ),
        passwordEnv: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
          .default('CHATOPS_NOTIFICATIONS_PASSWORD'),
        exchange: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+$/)
          .default('nova'),
        topic: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+$/)
          .default('versioned_notifications'),
      })
      .strict()
      .optional(),
    /**
     * How an operation's running migrations are read while no notification says they ended: one batched
     * read of Nova a tick for all of them (os-migrations and servers changed since the last tick).
     */
    polling: pollingSchema.prefault({}),
    /** At most this many requests a second to each OpenStack service (adapters/openstack/request-budget.ts). */
    requestBudget: z
      .object({
        perSecond: budgetRate.default(DEFAULT_BUDGET.perSecond),
        burst: budgetBurst.default(DEFAULT_BUDGET.burst),
        services: z
          .partialRecord(z.enum(['compute', 'network', 'volume', 'placement', 'image']), z.object({ perSecond: budgetRate, burst: budgetBurst }).strict())
          .optional(),
      })
      .strict()
      .default({ perSecond: DEFAULT_BUDGET.perSecond, burst: DEFAULT_BUDGET.burst }),
    /** /instance inspect on this cloud's libvirt nodes. */
    inspect: z
      .object({
        /** How the disk becomes a block device: nbd (qemu-nbd), fuse (qemu-storage-daemon + loop), auto (nbd where /dev/nbd0 exists). */
        expose: z.enum(['auto', 'nbd', 'fuse']).default('auto'),
        /** The guest stays paused at most this long; then the clean-up runs whatever the step was doing. */
        timeBox: z.string().default('10m'),
        /** Private directory on the node for one inspection's mount point and export (one subdirectory each). */
        workDir: z
          .string()
          .regex(/^\/[A-Za-z0-9._/-]+$/, 'expected an absolute path such as /run/chatops-inspect')
          .default('/run/chatops-inspect'),
      })
      .strict()
      .default({ expose: 'auto', timeBox: '10m', workDir: '/run/chatops-inspect' }),
    /** The network the /ip commands use when none is named (the runbook's Public_AGILE). */
    publicNetwork: resourceName.optional(),
    /** /ip recover's fallback where the cloud forbids asking for an address: probe ports per bulk request, and at most this many rounds. */
    ipRecovery: z
      .object({ probeBatch: z.number().int().min(1).max(50).default(10), maxRounds: z.number().int().min(1).max(100).default(20) })
      .strict()
      .default({ probeBatch: 10, maxRounds: 20 }),
  })
  .strict();

/**
 * The compute watcher (jobs/compute-watcher.ts, docs/watcher.md): which channel gets the incident
 * cards, how often the compute services are read (one API call per cloud), how long a service must
 * stay down before a card, and which clouds (default: the one the commands act on).
 */
export const watcherSchema = z
  .object({
    channel: z.string().regex(/^[CG][A-Z0-9]{2,30}$/, 'expected a Slack channel ID such as C0123456789 (not its name: names change)'),
    interval: duration.default(30_000),
    grace: duration.default(120_000),
    clouds: z
      .array(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'expected a cloud key of `clouds`'))
      .min(1)
      .optional(),
  })
  .strict();

export const configSchema = z
  .object({
    logging: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .strict()
      .default({ level: 'info' }),
    http: z
      .object({
        port: z.number().int().min(0).max(65535).default(3000),
        host: z.string().default('0.0.0.0'),
        /** Slack's signing spec: requests older or newer than this are refused. */
        signatureWindowSeconds: z.number().int().min(30).max(900).default(300),
      })
      .strict()
      .default({ port: 3000, host: '0.0.0.0', signatureWindowSeconds: 300 }),
    slack: z
      .object({
        botId: z.string().optional(),
        botUserId: z.string().optional(),
        /** Edit a status card at most this often (Slack: chat.update is Tier 3). */
        statusCardIntervalMs: z.number().int().min(500).max(60_000).default(2000),
        requestTimeoutMs: z.number().int().min(1000).max(60_000).default(10_000),
      })
      .strict()
      .default({ statusCardIntervalMs: 2000, requestTimeoutMs: 10_000 }),
    store: storeConfigSchema.default({ kind: 'sqlite', path: './.chatops/chatops.sqlite', busyTimeoutMs: 5000 }),
    clouds: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'expected a cloud key such as prod or lab'), cloudSchema).default({}),
    defaultCloud: z.string().optional(),
    approvals: approvalsConfigSchema.default({ teams: [], runbooks: {} }),
    /** Absent: no watcher runs. */
    watcher: watcherSchema.optional(),
    /** Scheduled runs (`at=`/`in=`), docs/scheduling.md. Durations such as 90s, 15m, 1h30m; in ms once parsed. */
    schedules: z
      .object({
        /** A run found this late (no bot ran at its time) still starts; later it is missed, never run. */
        grace: duration.optional(),
        /** The thread is reminded this long before the start. */
        reminder: duration.optional(),
        /** How often the schedule sweep looks (a run starts at most about this late). */
        tick: duration.refine((ms) => ms >= 1000 && ms <= 60_000, 'expected between 1s and 60s').optional(),
      })
      .strict()
      .transform((c) => ({ graceMs: c.grace ?? 15 * 60_000, reminderMs: c.reminder ?? 15 * 60_000, tickMs: c.tick ?? 5000 }))
      .default({ graceMs: 15 * 60_000, reminderMs: 15 * 60_000, tickMs: 5000 }),
  })
  .strict();

export type FileConfig = z.infer<typeof configSchema>;

/** Secrets and mode-selecting values from the environment; never logged, never posted. */
export interface Secrets {
  botToken?: string;
  signingSecret?: string;
  appToken?: string;
}

export type SlackMode = { kind: 'socket'; why: string } | { kind: 'http'; why: string } | { kind: 'local'; why: string };

export interface Config extends FileConfig {
  readonly source: string;
  readonly secrets: Readonly<Secrets>;
  readonly slackApiUrl: string;
  readonly mode: SlackMode;
}

const envSchema = z.object({
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xoxb-[A-Za-z0-9-]+$/, 'expected a bot token starting with xoxb-')
    .optional(),
  SLACK_SIGNING_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9]{16,128}$/, 'expected the app signing secret (hex or alphanumeric, 16-128 chars)')
    .optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-[A-Za-z0-9-]+$/, 'expected an app-level token starting with xapp-')
    .optional(),
  SLACK_API_URL: z.string().url('expected a URL such as https://slack.com/api/').optional(),
  CHATOPS_STORE_PASSWORD: z.string().optional(),
  PORT: z
    .string()
    .regex(/^[0-9]{1,5}$/, 'expected a TCP port number')
    .optional(),
});

function problemsOf(error: z.ZodError, prefix = ''): Problem[] {
  return error.issues.map((i) => ({ path: prefix + (i.path.length ? i.path.join('.') : '(top level)'), message: i.message }));
}

function selectMode(s: Secrets): SlackMode {
  if (s.appToken) return { kind: 'socket', why: 'SLACK_APP_TOKEN is set' };
  if (s.signingSecret) return { kind: 'http', why: 'SLACK_SIGNING_SECRET is set and SLACK_APP_TOKEN is not' };
  return { kind: 'local', why: 'no Slack credentials are set (SLACK_APP_TOKEN / SLACK_SIGNING_SECRET)' };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * Loads and validates the configuration. `file` defaults to CHATOPS_CONFIG or ./chatops.yaml; a
 * missing default file means "all defaults" (local mode works out of the box), a missing named file
 * is an error.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, file?: string): Config {
  const explicit = file ?? env.CHATOPS_CONFIG;
  const path = explicit ?? './chatops.yaml';
  const problems: Problem[] = [];
  let raw: unknown = {};
  if (existsSync(path)) {
    try {
      raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
    } catch (e) {
      throw new ConfigError([{ path: '(file)', message: `not valid YAML: ${(e as Error).message}` }], path);
    }
  } else if (explicit) {
    throw new ConfigError([{ path: '(file)', message: 'file not found (CHATOPS_CONFIG or --config)' }], path);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) problems.push(...problemsOf(parsed.error));
  const envParsed = envSchema.safeParse(env);
  if (!envParsed.success) problems.push(...problemsOf(envParsed.error, 'env.'));
  if (parsed.success) {
    const c = parsed.data;
    if (c.defaultCloud && !(c.defaultCloud in c.clouds))
      problems.push({ path: 'defaultCloud', message: `names no entry of clouds (have: ${Object.keys(c.clouds).join(', ') || 'none'})` });
    c.watcher?.clouds?.forEach((name, i) => {
      if (!(name in c.clouds))
        problems.push({ path: `watcher.clouds.${i}`, message: `names no entry of clouds (have: ${Object.keys(c.clouds).join(', ') || 'none'})` });
    });
    if (c.watcher && !c.watcher.clouds && Object.keys(c.clouds).length === 0)
      problems.push({ path: 'watcher', message: 'the watcher needs a cloud to watch: add a `clouds:` entry (and defaultCloud when there are several)' });
  }
  const e = envParsed.success ? envParsed.data : {};
  const secrets: Secrets = { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, appToken: e.SLACK_APP_TOKEN };
  const mode = selectMode(secrets);
  if (mode.kind !== 'local' && !secrets.botToken) problems.push({ path: 'env.SLACK_BOT_TOKEN', message: `required in ${mode.kind} mode (${mode.why})` });
  if (problems.length || !parsed.success) throw new ConfigError(problems, path);
  const data = parsed.data;
  if (e.PORT) data.http.port = Number(e.PORT);
  if (data.store.kind === 'mysql' && e.CHATOPS_STORE_PASSWORD !== undefined) data.store.password = e.CHATOPS_STORE_PASSWORD;
  return deepFreeze({
    ...data,
    source: existsSync(path) ? path : '(defaults)',
    secrets,
    slackApiUrl: e.SLACK_API_URL ?? 'https://slack.com/api/',
    mode,
  });
}
