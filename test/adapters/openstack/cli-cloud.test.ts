import { describe, expect, it } from 'vitest';
import { cliCommands, commandLine } from '../../../adapters/openstack/cli-commands.js';
import { CliCloud } from '../../../adapters/openstack/cli-cloud.js';
import type { Port, PortUpdate } from '../../../adapters/openstack/cloud.js';
import type { CommandResult, CommandRunner, RunOptions } from '../../../adapters/openstack/command-runner.js';
import { OpenStackCliError } from '../../../adapters/openstack/openstack-errors.js';

describe('CLI equivalents', () => {
  it('uses the OSC 6 live-migration syntax, not the removed `--live <host>`', () => {
    expect(commandLine(cliCommands.liveMigrateServer('5d1e', { host: 'c02', blockMigration: true }).argv)).toBe(
      'openstack server migrate --live-migration --host c02 --block-migration 5d1e',
    );
    expect(cliCommands.liveMigrateServer('5d1e', { blockMigration: 'auto' }).argv).toEqual(['openstack', 'server', 'migrate', '--live-migration', '5d1e']);
    expect(cliCommands.liveMigrateServer('5d1e', { blockMigration: false }).argv).toContain('--shared-migration');
  });

  it('quotes what a shell would split and shows empty strings', () => {
    expect(commandLine(cliCommands.disableComputeService('c01.example.com', 'nova-compute', "it's maintenance").argv)).toBe(
      "openstack compute service set --disable --disable-reason 'it'\\''s maintenance' c01.example.com nova-compute",
    );
    const detach = cliCommands.updatePort('p-1', { deviceId: '', deviceOwner: '', bindingProfile: {}, bindingHostId: '' });
    expect(detach.map((c) => commandLine(c.argv))).toEqual([
      'openstack port set --device "" --device-owner "" --no-binding-profile p-1',
      'openstack port unset --host p-1',
    ]);
    expect(detach[0]!.notes?.[0]).toMatch(/ignores `--device ""`/);
  });

  it('asks for a specific fixed IP on port create and port list', () => {
    expect(cliCommands.createPort({ networkId: 'net', name: 'ip-recovery', fixedIp: { subnetId: 'sub', ipAddress: '192.0.2.77' } }).argv).toEqual([
      'openstack',
      'port',
      'create',
      '--network',
      'net',
      '--fixed-ip',
      'subnet=sub,ip-address=192.0.2.77',
      'ip-recovery',
    ]);
    expect(cliCommands.listPorts({ fixedIp: '192.0.2.77' }).argv).toEqual(['openstack', 'port', 'list', '--fixed-ip', 'ip-address=192.0.2.77']);
  });
});

/** A runner that answers argv patterns the way OSC 6.0.0 does (an injected port, not a module mock). */
class ScriptedRunner implements CommandRunner {
  readonly where = 'scripted';
  readonly calls: string[][] = [];
  constructor(private readonly answer: (argv: string[]) => Partial<CommandResult>) {}
  async run(argv: readonly string[], _o: RunOptions): Promise<CommandResult> {
    this.calls.push([...argv]);
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, durationMs: 1, ...this.answer([...argv]) };
  }
}
const has = (argv: string[], ...words: string[]) => words.every((w) => argv.includes(w));
const mig = (id: number) => ({
  Id: id,
  UUID: `m-${id}`,
  'Server UUID': 's-1',
  Status: 'done',
  Type: 'evacuation',
  'Source Compute': 'c01',
  'Dest Compute': 'c02',
});
const noRest = {
  updatePort: async (): Promise<Port> => {
    throw new Error('REST not expected');
  },
};

describe('CliCloud around OSC 6.0.0', () => {
  it('passes the cloud, the pinned microversion and -f json', async () => {
    const r = new ScriptedRunner(() => ({ stdout: '[]' }));
    await new CliCloud({ runner: r, globalArgs: ['--os-cloud', 'lab'], rest: noRest }).listComputeServices({ host: 'c01' });
    expect(r.calls[0]).toEqual([
      'openstack',
      '--os-cloud',
      'lab',
      '--os-compute-api-version',
      '2.79',
      'compute',
      'service',
      'list',
      '--long',
      '--host',
      'c01',
      '-f',
      'json',
    ]);
  });

  it('treats exit 1 after evacuate as success when Nova recorded the evacuation', async () => {
    let evacuated = false;
    const r = new ScriptedRunner((a) => {
      if (has(a, 'evacuate')) {
        evacuated = true;
        return { exitCode: 1, stderr: "'TupleWithMeta' object has no attribute 'to_dict'" };
      }
      return { stdout: JSON.stringify(evacuated ? [mig(1), mig(2)] : [mig(1)]) };
    });
    const cli = new CliCloud({ runner: r, rest: noRest });
    await cli.evacuateServer('s-1', { host: 'c02' });
    expect(cli.fallbacks).toEqual([{ operation: 'evacuateServer', reason: expect.stringMatching(/exit 1 ignored/), via: 'state-check' }]);
  });

  it('reports the failure when exit 1 after evacuate left no evacuation record', async () => {
    const r = new ScriptedRunner((a) => (has(a, 'evacuate') ? { exitCode: 1, stderr: 'boom' } : { stdout: JSON.stringify([mig(1)]) }));
    const e = await new CliCloud({ runner: r, rest: noRest }).evacuateServer('s-1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenStackCliError);
    expect((e as OpenStackCliError).outcome).toBe('unknown');
  });

  it('clears device_id through REST because `port set --device ""` is ignored, and says so', async () => {
    const asked: PortUpdate[] = [];
    const rest = {
      updatePort: async (_id: string, c: PortUpdate): Promise<Port> => {
        asked.push(c);
        return {
          id: 'p-1',
          name: '',
          networkId: 'n',
          macAddress: 'm',
          status: 'DOWN',
          fixedIps: [],
          deviceId: '',
          deviceOwner: '',
          bindingHostId: '',
          bindingProfile: {},
        };
      },
    };
    const r = new ScriptedRunner(() => ({}));
    const cli = new CliCloud({ runner: r, rest });
    const p = await cli.updatePort('p-1', { deviceId: '', deviceOwner: '', bindingProfile: {}, bindingHostId: '' });
    expect(p.deviceId).toBe('');
    expect(r.calls.map((c) => c.slice(3).join(' '))).toEqual(['port set --device-owner  --no-binding-profile p-1', 'port unset --host p-1']);
    expect(asked).toEqual([{ deviceId: '' }]);
    expect(cli.fallbacks[0]).toMatchObject({ operation: 'updatePort', via: 'rest' });
  });

  it('a write that timed out has an unknown outcome; a refused one is rejected', async () => {
    const t = await new CliCloud({ runner: new ScriptedRunner(() => ({ timedOut: true, exitCode: undefined })), rest: noRest })
      .stopServer('s')
      .catch((x: unknown) => x);
    expect(t).toMatchObject({ code: 'OPENSTACK_CLI', outcome: 'unknown' });
    const refused = await new CliCloud({ runner: new ScriptedRunner(() => ({ exitCode: 1, stderr: 'Conflict (HTTP 409) (Request-ID: req-1)' })), rest: noRest })
      .stopServer('s')
      .catch((x: unknown) => x);
    expect(refused).toMatchObject({ outcome: 'rejected', stderrTail: 'Conflict (HTTP 409) (Request-ID: req-1)' });
    const sdk = 'ConflictException: 409: Client Error for url: http://127.0.0.1:9696/v2.0/ports, IP address 192.0.2.249 already allocated in subnet s';
    const conflict = await new CliCloud({ runner: new ScriptedRunner(() => ({ exitCode: 1, stderr: sdk })), rest: noRest })
      .createPort({ networkId: 'n', fixedIp: { ipAddress: '192.0.2.249' } })
      .catch((x: unknown) => x);
    expect(conflict).toMatchObject({ outcome: 'rejected', stderrTail: sdk });
  });

  it('returns undefined for a server that does not exist', async () => {
    const r = new ScriptedRunner(() => ({ exitCode: 1, stderr: "No server with a name or ID of 'x' exists." }));
    expect(await new CliCloud({ runner: r, rest: noRest }).getServer('x')).toBeUndefined();
  });

  it('keeps bulk create all-or-nothing by deleting what it made', async () => {
    let n = 0;
    const port = (id: string) => ({
      id,
      name: 'ip-recovery',
      network_id: 'n',
      mac_address: 'm',
      status: 'DOWN',
      fixed_ips: [],
      device_id: '',
      device_owner: '',
    });
    const r = new ScriptedRunner((a) =>
      has(a, 'create') ? (++n === 3 ? { exitCode: 1, stderr: 'quota (HTTP 409)' } : { stdout: JSON.stringify(port(`p-${n}`)) }) : {},
    );
    const e = await new CliCloud({ runner: r, rest: noRest })
      .createPorts([1, 2, 3].map(() => ({ networkId: 'n', name: 'ip-recovery' })))
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenStackCliError);
    expect(r.calls.filter((c) => has(c, 'delete')).map((c) => c.at(-1))).toEqual(['p-1', 'p-2']);
  });
});
