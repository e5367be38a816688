/**
 * What the bot's idle memory is made of (issue 15): the production build, run as the Dockerfile's CMD
 * runs it (`node --max-semi-space-size=1 dist/compose/main.js`; built with tsconfig.build.json when dist/ is missing) in HTTP mode against
 * the Slack stand-in, with the lab cloud configured when the lab is there. After it has been idle for
 * BENCH_IDLE_S seconds: RSS and its parts (/proc smaps_rollup, process.memoryUsage, V8's heap spaces),
 * every module file it loaded grouped by package — slack-standin/ and local-mode/ must not be among
 * them — and, for comparison, the RSS of a bare Node and of Node with each dependency imported alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SlackStandin } from '../slack-standin/slack-standin.js';
import { BOT } from '../slack-standin/workspace.js';
import { SIGNING_SECRET } from '../test/helpers/bot-process.js';

const REPO = resolve(import.meta.dirname, '..');
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 15);
const LAB = '/var/lib/openstack-lab';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kb(status: string, key: string): number {
  return Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
}
const mb = (kB: number) => Math.round(kB / 102.4) / 10;

/** RSS (MB) of `node --input-type=module -e <code>` after it settled. */
function rssOf(code: string): number {
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `${code}; setTimeout(() => { process.stdout.write(String(process.memoryUsage().rss)); process.exit(0); }, 1500);`],
    { cwd: REPO, encoding: 'utf8' },
  );
  if (r.status !== 0) return NaN;
  return Math.round(Number(r.stdout) / 104857.6) / 10;
}

async function main(): Promise<void> {
  if (!existsSync(join(REPO, 'dist/compose/main.js'))) {
    process.stdout.write('building dist/ (tsc -p tsconfig.build.json)…\n');
    const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('the production build failed');
  }
  const dir = mkdtempSync(join(tmpdir(), 'chatops-rss-'));
  const moduleLog = join(dir, 'modules.log');
  const withLab = existsSync(`${LAB}/clouds.yaml`);
  writeFileSync(
    join(dir, 'chatops.yaml'),
    [
      `store: { kind: sqlite, path: ${join(dir, 'state.sqlite')} }`,
      `http: { port: 0, host: 127.0.0.1 }`,
      `slack: { botId: ${BOT.botId}, botUserId: ${BOT.userId} }`,
      `logging: { level: info }`,
      ...(withLab
        ? [
            'defaultCloud: lab',
            'clouds:',
            '  lab:',
            '    cloud: lab',
            '    nodeCommands: { preset: lab }',
            `    ssh: { config: ${LAB}/ssh/ssh_config, knownHosts: ${LAB}/ssh/known_hosts }`,
          ]
        : []),
    ].join('\n'),
  );
  // exactly what the image runs: the Dockerfile's CMD (node flags included)
  const cmd = /^CMD \[(.*)\]$/m.exec(readFileSync(join(REPO, 'Dockerfile'), 'utf8'))?.[1];
  const argv = (JSON.parse(`[${cmd ?? ''}]`) as string[]).slice(1);
  if (argv.at(-1) !== 'dist/compose/main.js') throw new Error(`unexpected CMD in the Dockerfile: ${cmd}`);
  const standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', join(REPO, 'bench/_module-log.mjs'), ...argv],
    {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        NODE_ENV: 'production',
        CHATOPS_CONFIG: join(dir, 'chatops.yaml'),
        CHATOPS_MODULE_LOG: moduleLog,
        SLACK_BOT_TOKEN: standin.botToken,
        SLACK_API_URL: standin.apiUrl,
        SLACK_SIGNING_SECRET: standin.signingSecret,
        ...(withLab ? { OS_CLIENT_CONFIG_FILE: `${LAB}/clouds.yaml` } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  for (let t = 0; !/^ready/m.test(out); t += 100) {
    if (t > 60_000 || child.exitCode !== null) throw new Error(`the bot did not start:\n${out.slice(-2000)}`);
    await sleep(100);
  }
  const samples: number[] = [];
  for (let s = 0; s < IDLE_S; s++) {
    await sleep(1000);
    samples.push(kb(readFileSync(`/proc/${child.pid}/status`, 'utf8'), 'VmRSS'));
  }
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${child.pid}/smaps_rollup`, 'utf8');
  // file-backed mappings by file (the node binary, native addons, libc…)
  const byFile = new Map<string, number>();
  let current = '';
  for (const line of readFileSync(`/proc/${child.pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) current = head[1] || '[anon]';
    else if (line.startsWith('Rss:')) byFile.set(current, (byFile.get(current) ?? 0) + Number(/(\d+)/.exec(line)![1]));
  }
  child.kill('SIGUSR2');
  await sleep(500);
  const inside = JSON.parse(readFileSync(`${moduleLog}.memory.json`, 'utf8')) as {
    memory: NodeJS.MemoryUsage;
    spaces: Record<string, number>;
  };
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await standin.stop();

  const files = [...new Set(readFileSync(moduleLog, 'utf8').trim().split('\n'))].map((l) => l.slice(4));
  const groupOf = (f: string) => {
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f);
    if (nm) return nm[1]!;
    return f.startsWith(REPO)
      ? `(project) ${f
          .slice(REPO.length + 1)
          .split('/')
          .slice(0, 2)
          .join('/')}`
      : f;
  };
  const groups = new Map<string, number>();
  for (const f of files) groups.set(groupOf(f), (groups.get(groupOf(f)) ?? 0) + 1);
  const forbidden = files.filter((f) => /\/(slack-standin|local-mode)\//.test(f) || f.includes('pino-pretty'));

  const deps = Object.keys((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  const bare = rssOf('');
  const alone = Object.fromEntries(deps.map((d) => [d, Math.round((rssOf(`await import(${JSON.stringify(d)})`) - bare) * 10) / 10]));

  const result = {
    when: new Date().toISOString(),
    build: `node ${argv.join(' ')} (the Dockerfile's CMD; tsconfig.build.json), HTTP mode, NODE_ENV=production`,
    cloud: withLab ? 'lab (REST)' : 'none',
    idleSeconds: IDLE_S,
    rssMb: { last: mb(samples.at(-1)!), max: mb(Math.max(...samples)), min: mb(Math.min(...samples)) },
    smaps: {
      rssMb: mb(kb(rollup, 'Rss')),
      anonymousMb: mb(kb(rollup, 'Anonymous')),
      fileBackedMb: mb(kb(rollup, 'Rss') - kb(rollup, 'Anonymous')),
      biggestMappingsMb: Object.fromEntries(
        [...byFile.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([f, k]) => [f, mb(k)]),
      ),
    },
    v8: {
      heapUsedMb: Math.round(inside.memory.heapUsed / 104857.6) / 10,
      heapTotalMb: Math.round(inside.memory.heapTotal / 104857.6) / 10,
      externalMb: Math.round(inside.memory.external / 104857.6) / 10,
      arrayBuffersMb: Math.round(inside.memory.arrayBuffers / 104857.6) / 10,
      spacesUsedMb: Object.fromEntries(Object.entries(inside.spaces).map(([k, v]) => [k, Math.round(v / 104857.6) / 10])),
    },
    threads: kb(status, 'Threads') || Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]),
    modules: { files: files.length, byPackage: Object.fromEntries([...groups.entries()].sort((a, b) => b[1] - a[1])) },
    notLoaded: { slackStandin: !files.some((f) => f.includes('/slack-standin/')), localMode: !files.some((f) => f.includes('/local-mode/')) },
    forbidden,
    comparison: { bareNodeMb: bare, eachDependencyAloneMbOverBare: alone },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(join(REPO, 'bench/results/idle-rss.json'), JSON.stringify(result, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
