/**
 * docs/local-mode.md, followed as a new user would: the test reads the page's command blocks, runs
 * the shell ones (the seed, `npm start` with the lab's config) and types the rest into the real
 * terminal of `npm start`, in order, then checks Nova, not the bot's words. When the page changes,
 * this test reads the new commands; when what it says stops being true (a button number, a command),
 * the test fails.
 *
 * Two departures, both so as not to touch a developer's own lab work: the seed's prefix `demo` is
 * replaced by a unique one, and the bot's store goes to a temporary directory (a copy of
 * lab/chatops.lab.yaml that differs in `store.path` only).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { holdLabHost } from '../actions/lab-bot.js';
import { NOVA_URL, requireLab, Rest, sshHost, uniquePrefix, waitFor } from '../lab/lab-helpers.js';

const REPO = new URL('../../', import.meta.url).pathname;
const DOC = readFileSync(join(REPO, 'docs/local-mode.md'), 'utf8');

/** The page's fenced blocks under each `## N.` heading, as lines. */
function blocksBySection(md: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  let section = '';
  let block: string[] | undefined;
  for (const line of md.split('\n')) {
    if (line.startsWith('```')) {
      if (block) {
        out.set(section, [...(out.get(section) ?? []), block]);
        block = undefined;
      } else block = [];
      continue;
    }
    if (block) block.push(line);
    else if (/^## /.test(line)) section = line.slice(3).trim();
  }
  return out;
}

const sections = blocksBySection(DOC);
const section = (prefix: string): string[][] => {
  const k = [...sections.keys()].find((s) => s.startsWith(prefix));
  if (!k) throw new Error(`docs/local-mode.md has no section "${prefix}"`);
  return sections.get(k)!;
};

interface Terminal {
  child: ChildProcess;
  out(): string;
  type(line: string): void;
  /** Waits until `re` matches the output written since `from`; returns the match. */
  wait(re: RegExp, from: number, ms?: number): Promise<RegExpExecArray>;
}

function terminal(cmd: string, args: string[], env: NodeJS.ProcessEnv): Terminal {
  const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return {
    child,
    out: () => out,
    type: (line) => child.stdin!.write(`${line}\n`),
    async wait(re, from, ms = 120_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = re.exec(out.slice(from));
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}) before ${re}:\n${out.slice(-3000)}`);
        if (Date.now() > deadline)
          throw new Error(`timed out after ${ms} ms waiting for ${re}; the terminal showed:\n${out.slice(Math.max(from, out.length - 4000))}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

describe('docs/local-mode.md on the lab', () => {
  const prefix = uniquePrefix('localdoc').replace(/-$/, '');
  const dir = mkdtempSync(join(tmpdir(), 'local-doc-'));
  let lock: { release(): void } | undefined;
  let term: Terminal | undefined;
  let rest: Rest;
  const ours = async () =>
    (
      await rest.call<{ servers: { name: string; status: string; 'OS-EXT-SRV-ATTR:host': string }[] }>(
        'GET',
        `${NOVA_URL}/servers/detail?all_tenants=1&name=${encodeURIComponent(`^${prefix}`)}`,
      )
    ).body.servers;
  const service = async () =>
    (
      await rest.call<{ services: { status: string; state: string; disabled_reason: string | null }[] }>(
        'GET',
        `${NOVA_URL}/os-services?binary=nova-compute&host=c01`,
      )
    ).body.services[0]!;

  beforeAll(async () => {
    await requireLab();
    lock = await holdLabHost('c01');
    rest = await Rest.login();
  }, 600_000);

  afterAll(async () => {
    if (term && term.child.exitCode === null) term.child.kill('SIGKILL');
    await sshHost('c01', 'lab-nova-compute start');
    await execa('openstack', ['compute', 'service', 'set', '--enable', 'c01', 'nova-compute'], { env: { ...process.env, OS_CLOUD: 'lab' }, reject: false });
    await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
    rmSync(dir, { recursive: true, force: true });
    lock?.release();
  }, 900_000);

  it('drains and undrains c01 from the terminal exactly as the page says', async () => {
    // 1. The lab: the seed command, as written (sudo is a no-op for root; our own prefix)
    const [seed] = section('1.');
    expect(seed).toEqual(['sudo bash lab/seed --servers 6 --prefix demo --host c01']);
    const argv = seed![0]!
      .replace(/^sudo /, '')
      .replace('--prefix demo', `--prefix ${prefix}`)
      .split(' ');
    await execa(argv[0]!, argv.slice(1), { cwd: REPO, timeout: 600_000 });
    expect((await ours()).map((s) => s['OS-EXT-SRV-ATTR:host'])).toEqual(Array(6).fill('c01'));

    // 2. Start the bot against the lab: `npm ci` has run (this suite runs from it); then `npm start`
    const [start] = section('2.');
    expect(start).toEqual(['npm ci', 'CHATOPS_CONFIG=lab/chatops.lab.yaml npm start']);
    const config = parseYaml(readFileSync(join(REPO, 'lab/chatops.lab.yaml'), 'utf8')) as { store: { path: string } };
    expect(config.store.path).toBe('./.chatops/lab.sqlite'); // what the page says
    const text = readFileSync(join(REPO, 'lab/chatops.lab.yaml'), 'utf8').replace('path: ./.chatops/lab.sqlite', `path: ${join(dir, 'lab.sqlite')}`);
    writeFileSync(join(dir, 'chatops.yaml'), text);
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], LANG: 'C.UTF-8', CHATOPS_CONFIG: join(dir, 'chatops.yaml') };
    term = terminal('npm', ['start'], env);
    await term.wait(/LOCAL mode, because no Slack credentials are set[\s\S]*alice@#ops> /, 0, 60_000);

    // 3. Look first
    const [look] = section('3.');
    expect(look).toEqual(['/node list', '/node status c01']);
    let from = term.out().length;
    term.type(look![0]!);
    await term.wait(/`c01` .*up · \*enabled\* · \d+ instances/, from, 60_000);
    from = term.out().length;
    term.type(look![1]!);
    await term.wait(/== Node c01 ==[\s\S]*Instances: \*6\*/, from, 60_000);

    // 4. Drain: the plan, then bob presses the number the page says
    const [ask, approve] = section('4.');
    expect(ask).toEqual(['/node drain c01 reason=test']);
    from = term.out().length;
    term.type(ask![0]!);
    const planButtons = await term.wait(/== Plan: \/node drain c01 reason=test ==[\s\S]*\[(\d+)\] Approve/, from, 120_000);
    expect(approve).toEqual(['/as bob', '1']);
    expect(planButtons[1]).toBe(approve![1]);
    from = term.out().length;
    for (const line of approve!) term.type(line);
    await term.wait(/:white_check_mark: succeeded · drain c01 \(test\)/, from, 600_000);
    // what the page says to check, and what Nova and the node say
    from = term.out().length;
    term.type('/node status c01');
    await term.wait(/== Node c01 ==[\s\S]*\*disabled\* \(reason: test\)[\s\S]*Process on the node: \*not running\*[\s\S]*Instances: none/, from, 60_000);
    expect((await ours()).map((s) => s['OS-EXT-SRV-ATTR:host'])).toEqual(Array(6).fill('c02'));
    expect(await service()).toMatchObject({ status: 'disabled', disabled_reason: 'test' });
    expect((await sshHost('c01', 'lab-nova-compute status')).exitCode).toBe(3);
    // Nova reports the stopped nova-compute down only after service_down_time (15 s on the lab). The
    // undrain's plan binds its approval to what it resolved: planned while Nova still said "up", it
    // asks again once Nova says "down" (CI 2026-12-04, when this run was quick) — a person typing
    // the page's next lines takes longer than that; the test waits for Nova instead.
    await waitFor('Nova to report c01 down', async () => (await service()).state === 'down', { timeoutMs: 120_000 });

    // 5. Undrain: the lines of the block, then the number the page's text names
    const [undrain] = section('5.');
    expect(undrain).toEqual(['/as alice', '/node undrain c01 migrate-back', '/as bob']);
    const press = /so type `(\d+)`/.exec(DOC)?.[1];
    expect(press, 'the page names the undrain Approve number ("so type `N`")').toBeDefined();
    from = term.out().length;
    for (const line of undrain!) term.type(line);
    const undrainButtons = await term.wait(/== Plan: \/node undrain c01 migrate-back ==[\s\S]*\[(\d+)\] Approve/, from, 120_000);
    expect(undrainButtons[1]).toBe(press);
    await term.wait(/you are now bob/, from, 30_000);
    from = term.out().length;
    term.type(press!);
    await term.wait(/:white_check_mark: succeeded · undrain c01/, from, 600_000);
    expect((await ours()).map((s) => s['OS-EXT-SRV-ATTR:host'])).toEqual(Array(6).fill('c01'));
    expect(await service()).toMatchObject({ status: 'enabled', state: 'up' });
    expect((await sshHost('c01', 'lab-nova-compute status')).exitCode).toBe(0);

    // and the terminal stops cleanly
    term.type('/quit');
    const code = await new Promise<number | null>((r) => (term!.child.exitCode !== null ? r(term!.child.exitCode) : term!.child.once('exit', (c) => r(c))));
    expect(code).toBe(0);
  }, 1_800_000);
});
