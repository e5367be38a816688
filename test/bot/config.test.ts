import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { amqpUrl } from '../../compose/build-deps.js';
import { loadConfig } from '../../bot/config.js';
import { ConfigError } from '../../core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function file(text: string): string {
  const p = join(dir, `chatops-${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}

describe('loadConfig', () => {
  it('accepts the documented example file', () => {
    const c = loadConfig({}, 'chatops.example.yaml');
    expect(c.mode.kind).toBe('local');
    expect(c.clouds.lab?.nodeCommands.preset).toBe('lab');
    expect(Object.isFrozen(c.clouds)).toBe(true);
  });

  it('runs on defaults when no file exists and selects the mode from the environment', () => {
    const cwdFile = join(dir, 'none.yaml');
    const env = { CHATOPS_CONFIG: undefined, SLACK_BOT_TOKEN: 'xoxb-1-2', SLACK_APP_TOKEN: 'xapp-1-2', SLACK_SIGNING_SECRET: 'abcdef0123456789' };
    expect(() => loadConfig(env, cwdFile)).toThrow(/file not found/);
    const c = loadConfig({ ...env, CHATOPS_CONFIG: file('{}') });
    expect(c.mode).toEqual({ kind: 'socket', why: 'SLACK_APP_TOKEN is set' });
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abcdef0123456789', PORT: '4000' }, file('{}')).http.port).toBe(4000);
  });

  it('lists every bad key at once with what was expected', () => {
    const p = file('http: { port: "x", colour: 1 }\nstore: { kind: postgres }\nclouds: { lab: { backend: soap } }\n');
    let err: ConfigError | undefined;
    try {
      loadConfig({ SLACK_SIGNING_SECRET: 'short' }, p);
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const paths = err!.problems.map((x) => x.path);
    expect(paths).toEqual(expect.arrayContaining(['http.port', 'http', 'store.kind', 'clouds.lab.cloud', 'clouds.lab.backend', 'env.SLACK_SIGNING_SECRET']));
    expect(err!.message).toContain('env.SLACK_SIGNING_SECRET');
  });

  it('requires a bot token outside local mode and never echoes secrets', () => {
    try {
      loadConfig({ SLACK_APP_TOKEN: 'xapp-secret-value' }, file('{}'));
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('env.SLACK_BOT_TOKEN');
      expect((e as Error).message).not.toContain('xapp-secret-value');
    }
  });
});

describe('per-cloud request budget and notifications', () => {
  it('defaults to a modest budget and takes per-service limits', () => {
    const c = loadConfig({}, file('clouds: { a: { cloud: a, requestBudget: { services: { compute: { perSecond: 5, burst: 2 } } } } }\n'));
    expect(c.clouds.a?.requestBudget).toEqual({ perSecond: 20, burst: 10, services: { compute: { perSecond: 5, burst: 2 } } });
    expect(() => loadConfig({}, file('clouds: { a: { cloud: a, requestBudget: { perSecond: 0 } } }\n'))).toThrow(/clouds\.a\.requestBudget\.perSecond/);
    expect(() => loadConfig({}, file('clouds: { a: { cloud: a, requestBudget: { services: { dns: { perSecond: 1, burst: 1 } } } } }\n'))).toThrow(
      /requestBudget\.services/,
    );
  });

  it('refuses a password in the notifications URL and puts the one from the environment in', () => {
    expect(() => loadConfig({}, file('clouds: { a: { cloud: a, notifications: { url: "amqp://nova:s3cret@rabbit:5672/" } } }\n'))).toThrow(/no password/);
    const c = loadConfig({}, file('clouds: { a: { cloud: a, notifications: { url: "amqp://nova@rabbit:5672/" } } }\n'));
    expect(c.clouds.a?.notifications).toEqual({
      url: 'amqp://nova@rabbit:5672/',
      passwordEnv: 'CHATOPS_NOTIFICATIONS_PASSWORD',
      exchange: 'nova',
      topic: 'versioned_notifications',
    });
    expect(amqpUrl('amqp://nova@rabbit:5672/', 'p@ss/word')).toBe('amqp://nova:p%40ss%2Fword@rabbit:5672/');
    expect(amqpUrl('amqp://nova@rabbit:5672/', undefined)).toBe('amqp://nova@rabbit:5672/');
  });
});

describe('watcher', () => {
  it('is off unless configured; durations and the channel ID are checked, clouds must exist', () => {
    expect(loadConfig({}, file('{}')).watcher).toBeUndefined();
    expect(loadConfig({}, 'chatops.example.yaml').watcher).toEqual({ channel: 'C0123ABCD', interval: 30_000, grace: 120_000 });
    const lab = 'clouds: { lab: { cloud: lab } }\n';
    expect(loadConfig({}, file(`${lab}watcher: { channel: C0OPS0001 }\n`)).watcher).toEqual({ channel: 'C0OPS0001', interval: 30_000, grace: 120_000 });
    expect(loadConfig({}, file(`${lab}watcher: { channel: C0OPS0001, interval: 2s, grace: 1m30s, clouds: [lab] }\n`)).watcher).toEqual({
      channel: 'C0OPS0001',
      interval: 2000,
      grace: 90_000,
      clouds: ['lab'],
    });
    let err: ConfigError | undefined;
    try {
      loadConfig({}, file(`${lab}watcher: { channel: "#ops", interval: soon, clouds: [prod] }\n`));
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.message).toMatch(/watcher\.channel: expected a Slack channel ID/);
    expect(err?.message).toMatch(/watcher\.interval: expected a duration/);
    err = undefined;
    try {
      loadConfig({}, file(`${lab}watcher: { channel: C0OPS0001, clouds: [prod] }\n`));
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.message).toMatch(/watcher\.clouds\.0: names no entry of clouds \(have: lab\)/);
    expect(() => loadConfig({}, file('watcher: { channel: C0OPS0001 }\n'))).toThrow(/the watcher needs a cloud to watch/);
  });
});
