/**
 * Per-call latency of the two OpenStack backends on the lab: REST (one cached token) versus the
 * `openstack` CLI (a Python start and a fresh authentication per call).
 *
 *   npx tsx bench/openstack-latency.ts [--rounds 5] [--writes]
 *
 * Reads only by default; --writes adds disable/enable of c02's nova-compute (left enabled).
 */
import { execa } from 'execa';
import { CliCloud } from '../adapters/openstack/cli-cloud.js';
import type { Cloud } from '../adapters/openstack/cloud.js';
import { loadCloudConfig } from '../adapters/openstack/cloud-config.js';
import { LocalCommandRunner } from '../adapters/openstack/command-runner.js';
import { RestCloud } from '../adapters/openstack/rest-cloud.js';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] || 5) || 5;
const writes = args.includes('--writes');
const cloudsYaml = process.env.LAB_CLOUDS_YAML ?? '/var/lib/openstack-lab/clouds.yaml';
const cloudName = process.env.LAB_CLOUD ?? 'lab';

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const config = loadCloudConfig({ env: { OS_CLIENT_CONFIG_FILE: cloudsYaml, OS_CLOUD: cloudName }, cloud: cloudName });
  const rest = new RestCloud(config);
  const cli = new CliCloud({
    runner: new LocalCommandRunner({ PATH: process.env.PATH, HOME: process.env.HOME, OS_CLIENT_CONFIG_FILE: cloudsYaml }),
    globalArgs: ['--os-cloud', cloudName],
    rest,
  });
  const firstRest = await time(() => rest.listComputeServices()); // token issue + first call
  const port = (await rest.listPorts())[0];
  const ops: [string, (c: Cloud) => Promise<unknown>][] = [
    ['compute service list', (c) => c.listComputeServices()],
    ['compute service show (c01)', (c) => c.getComputeService('c01')],
    [
      'server list --host c01 (ids only for CLI)',
      (c) =>
        c === rest
          ? rest.listServersOnHost({ host: 'c01' })
          : execa('openstack', ['--os-cloud', cloudName, 'server', 'list', '--host', 'c01', '--all-projects', '-f', 'json'], {
              env: { OS_CLIENT_CONFIG_FILE: cloudsYaml },
            }),
    ],
    ['network show Public_AGILE', (c) => c.findNetwork('Public_AGILE')],
    ...(port ? [['port show', (c: Cloud) => c.getPort(port.id)] as [string, (c: Cloud) => Promise<unknown>]] : []),
    ['placement usage c01 (3 calls)', (c) => c.getHostUsage('c01')],
    ...(writes
      ? ([
          ['service disable c02 (+read back)', (c: Cloud) => c.disableComputeService('c02', 'nova-compute', 'latency bench')],
          ['service enable c02 (+read back)', (c: Cloud) => c.enableComputeService('c02', 'nova-compute')],
        ] as [string, (c: Cloud) => Promise<unknown>][])
      : []),
  ];
  const starts: number[] = [];
  for (let i = 0; i < 3; i++) starts.push(await time(() => execa('openstack', ['--version'])));
  const startup = median(starts);
  console.log(`lab ${cloudName} (${cloudsYaml}); ${rounds} rounds; median ms`);
  console.log(`REST first call incl. token issue: ${firstRest.toFixed(0)} ms; 'openstack --version' (interpreter start): ${startup.toFixed(0)} ms`);
  console.log(`${'operation'.padEnd(44)} ${'REST'.padStart(8)} ${'CLI'.padStart(8)} ${'ratio'.padStart(7)}`);
  for (const [name, op] of ops) {
    const r: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < rounds; i++) {
      r.push(await time(() => op(rest)));
      c.push(await time(() => op(cli)));
    }
    const mr = median(r);
    const mc = median(c);
    console.log(`${name.padEnd(44)} ${mr.toFixed(1).padStart(8)} ${mc.toFixed(0).padStart(8)} ${(mc / mr).toFixed(0).padStart(6)}x`);
  }
  if (writes) await rest.enableComputeService('c02', 'nova-compute');
  await rest.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
