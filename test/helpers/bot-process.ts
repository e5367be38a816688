/**
 * Runs the real entry point (compose/main.ts) as a child process, as an operator would start it, pointed
 * at a Slack stand-in through the environment only. Waits for its readiness line; `stop()` sends
 * SIGTERM and returns the exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BOT } from '../../slack-standin/workspace.js';
import type { SlackStandin } from '../../slack-standin/slack-standin.js';

export const REPO = resolve(import.meta.dirname, '../..');
/** A signing secret shaped like Slack's (32 hex characters). */
export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5'.replace(/[yz]/g, '0');

export interface BotProcess {
  child: ChildProcess;
  /** HTTP port (HTTP mode) or health port (Socket Mode). */
  port?: number;
  output(): string;
  /** Resolves when `pattern` has appeared in stdout/stderr. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  dir: string;
}

export interface StartBotOptions {
  mode: 'http' | 'socket' | 'local';
  standin?: SlackStandin;
  /** Extra YAML appended to the generated configuration. */
  configYaml?: string;
  env?: Record<string, string>;
  dir?: string;
  /** Extra node flags (e.g. --cpu-prof for a benchmark). */
  nodeArgs?: string[];
  /** Wait for the readiness line (default). False for a process that may die before it (crash tests). */
  waitReady?: boolean;
}

/**
 * What node runs: the production build test/run makes once for the whole suite (CHATOPS_TEST_BOT_BUILD,
 * `tsc -p tsconfig.build.json` into test-results/), as the Dockerfile runs it — a crash test starts
 * its bot dozens of times, and each start under tsx cost ~3.2 s of CPU against ~1.75 s built. Without
 * it (a file run on its own) the source through tsx, so an edit is never tested stale. Local mode
 * always from source: its stand-in and terminal are not part of a production build.
 */
function entryPoint(mode: StartBotOptions['mode']): string[] {
  const built = process.env['CHATOPS_TEST_BOT_BUILD'];
  return built && mode !== 'local' ? [join(built, 'compose/main.js')] : ['--import', 'tsx', 'compose/main.ts'];
}

export async function startBot(o: StartBotOptions): Promise<BotProcess> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'chatops-e2e-'));
  const config = join(dir, 'chatops.yaml');
  writeFileSync(
    config,
    [
      `store: { kind: sqlite, path: ${join(dir, 'state.sqlite')} }`,
      `http: { port: 0, host: 127.0.0.1 }`,
      `slack: { botId: ${BOT.botId}, botUserId: ${BOT.userId}, requestTimeoutMs: 5000 }`,
      `logging: { level: info }`,
      o.configYaml ?? '',
    ].join('\n'),
  );
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    CHATOPS_CONFIG: config,
    ...(o.env ?? {}),
  };
  if (o.mode !== 'local' && o.standin) {
    env.SLACK_BOT_TOKEN = o.standin.botToken;
    env.SLACK_API_URL = o.standin.apiUrl;
    if (o.mode === 'http') env.SLACK_SIGNING_SECRET = o.standin.signingSecret;
    else env.SLACK_APP_TOKEN = o.standin.appToken;
  }
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), ...entryPoint(o.mode)], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  const waitForOutput = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<string>((resolveWait, reject) => {
      const check = () => {
        const m = pattern.exec(out);
        if (m) {
          listeners.delete(check);
          clearTimeout(t);
          resolveWait(m[0]);
        }
      };
      const t = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out waiting for ${pattern} in bot output:\n${out.slice(-3000)}`));
      }, timeoutMs);
      listeners.add(check);
      void exited.then((code) => {
        if (listeners.has(check)) {
          listeners.delete(check);
          clearTimeout(t);
          reject(new Error(`bot exited (${code}) before ${pattern}:\n${out.slice(-3000)}`));
        }
      });
      check();
    });

  let port: number | undefined;
  if (o.mode !== 'local' && o.waitReady !== false) {
    const line = await waitForOutput(/ready( on port \d+)?\n/);
    const m = /port (\d+)/.exec(line);
    if (m) port = Number(m[1]);
  }
  return {
    child,
    port,
    dir,
    output: () => out,
    waitForOutput,
    async stop(signal = 'SIGTERM') {
      const code = child.exitCode !== null ? child.exitCode : (child.kill(signal), await exited);
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
