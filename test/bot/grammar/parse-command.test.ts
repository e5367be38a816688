import { describe, expect, it } from 'vitest';
import { ChatOpsError, InputError } from '../../../core/errors.js';
import { type ParseOptions, type ParsedCommand, parseCommand, parseCommandLine } from '../../../bot/grammar/parse-command.js';

const UUID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

function command(line: string, options?: ParseOptions): ParsedCommand {
  const r = parseCommandLine(line, options);
  if (r.kind !== 'command') throw new Error(`expected a command, got ${JSON.stringify(r)}`);
  return r.command;
}

function inputError(line: string, options?: ParseOptions): InputError {
  try {
    parseCommandLine(line, options);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error(`expected an InputError for ${line}`);
}

const paths = (e: InputError): string[] => e.problems.map((p) => p.path);

describe('parseCommand: every command, happy path', () => {
  it('/node drain with defaults', () => {
    expect(command('/node drain c01 reason=maintenance')).toEqual({
      family: 'node',
      verb: 'drain',
      name: 'node.drain',
      args: { host: 'c01', reason: 'maintenance', mode: 'auto', parallel: 1, stopService: true, pinInit: false },
    });
  });
  it('/node drain with every option, normalised', () => {
    const c = command(
      '/node drain C01.Example.COM reason="disk swap  in rack 4" to=c02 mode=BLOCK parallel=4 stop-service=no pin-init=yes at=2026-12-01T02:00Z',
    );
    expect(c.args).toEqual({
      host: 'c01.example.com',
      reason: 'disk swap in rack 4',
      to: 'c02',
      mode: 'block',
      parallel: 4,
      stopService: false,
      pinInit: true,
      at: Date.UTC(2026, 11, 1, 2, 0),
    });
    expect(command('/node drain c01 reason=maint in=1h30m').args['in']).toBe(5_400_000);
  });
  it('/node undrain and its flag', () => {
    expect(command('/node undrain c01').args).toEqual({ host: 'c01', migrateBack: false });
    expect(command('/node undrain c01 MIGRATE-BACK').args).toEqual({ host: 'c01', migrateBack: true });
  });
  it('/node check and its flag', () => {
    expect(command('/node check c01').args).toEqual({ host: 'c01', rebootInstances: false });
    expect(command('/node check c01 reboot-instances').args).toEqual({ host: 'c01', rebootInstances: true });
  });
  it('/node evacuate', () => {
    expect(command('/node evacuate c01 c02 reason="mainboard dead"')).toMatchObject({
      name: 'node.evacuate',
      args: { from: 'c01', to: 'c02', method: 'api', reason: 'mainboard dead' },
    });
    expect(command('/node evacuate c01 c02 method=db reason=INC-4711').args['method']).toBe('db');
  });
  it('/node copy-instances, status, list', () => {
    expect(command('/node copy-instances c01 c02')).toMatchObject({ name: 'node.copy-instances', verb: 'copy-instances', args: { from: 'c01', to: 'c02' } });
    expect(command('/node status c01')).toMatchObject({ name: 'node.status', args: { host: 'c01' } });
    expect(command('/node list')).toMatchObject({ name: 'node.list', args: { page: 1 } });
    expect(command('/node list page=3 state=Disabled').args).toEqual({ page: 3, state: 'disabled' });
  });
  it('/instance inspect', () => {
    expect(command(`/instance inspect ${UUID} reason="INC-4711 recover config"`).args).toEqual({
      instance: UUID,
      reason: 'INC-4711 recover config',
      path: '/',
      device: 'disk',
    });
    expect(command(`/instance inspect ${UUID} reason=recovery path=//etc//nova/ device=disk.local`).args).toMatchObject({
      path: '/etc/nova',
      device: 'disk.local',
    });
  });
  it('/volume reattach', () => {
    expect(command('/volume reattach c01').args).toEqual({ host: 'c01' });
    expect(command(`/volume reattach c01 instance=${UUID}`).args).toEqual({ host: 'c01', instance: UUID });
  });
  it('/ip port create (two words, or the port-create alias)', () => {
    const c = command('/ip port create example-fqdn-01.sys.example.com');
    expect(c).toEqual({ family: 'ip', verb: 'port-create', name: 'ip.port-create', args: { fqdn: 'example-fqdn-01.sys.example.com' } });
    expect(command('/ip port-create example-fqdn-01.sys.example.com network=Public_AGILE').args).toEqual({
      fqdn: 'example-fqdn-01.sys.example.com',
      network: 'Public_AGILE',
    });
  });
  it('/ip detach, check, recover', () => {
    expect(command('/ip detach 96.118.182.107')).toMatchObject({ name: 'ip.detach', args: { ip: '96.118.182.107' } });
    expect(command('/ip check 96.118.182.107').args).toEqual({ ip: '96.118.182.107', port: 22 });
    expect(command('/ip check 2001:DB8:0::7 port=443').args).toEqual({ ip: '2001:db8::7', port: 443 });
    expect(command('/ip recover 96.118.182.107 network=Public_AGILE').args).toEqual({ ip: '96.118.182.107', network: 'Public_AGILE' });
  });
  it('/op list, show, resume, abort, undo', () => {
    expect(command('/op list').args).toEqual({ state: 'active' });
    expect(command('/op list state=in-doubt').args).toEqual({ state: 'in_doubt' });
    for (const verb of ['show', 'resume', 'abort', 'undo']) {
      expect(command(`/op ${verb} op-abcdefgh2345`)).toEqual({ family: 'op', verb, name: `op.${verb}`, args: { opId: 'op-abcdefgh2345' } });
    }
  });
  it('/schedule list, cancel', () => {
    expect(command('/schedule list').args).toEqual({ state: 'scheduled' });
    expect(command('/schedule list state=all').args).toEqual({ state: 'all' });
    expect(command('/schedule cancel sc-abcdefgh2345').args).toEqual({ scheduleId: 'sc-abcdefgh2345' });
  });
  it('accepts verbs in any letter case, options in any order, and freezes args', () => {
    const c = command('/node DRAIN reason=maintenance c01');
    expect(c.args['host']).toBe('c01');
    expect(Object.isFrozen(c.args)).toBe(true);
  });
});

describe('parseCommand: Slack encodings', () => {
  it('unwraps auto-linked host names and decodes entities', () => {
    expect(command('/node status <http://c01.example.com|c01.example.com>').args).toEqual({ host: 'c01.example.com' });
    expect(command('/ip port create <http://example-fqdn-01.sys.example.com|example-fqdn-01.sys.example.com>').args['fqdn']).toBe(
      'example-fqdn-01.sys.example.com',
    );
  });
  it('reads smart quotes as Slack clients insert them', () => {
    expect(command('/node drain c01 reason=“disk swap in rack 4”').args['reason']).toBe('disk swap in rack 4');
    expect(command('/node drain c01 reason=‘disk swap’').args['reason']).toBe('disk swap');
  });
  it('refuses an entity-encoded character once decoded', () => {
    const e = inputError('/node drain c01 reason="a &amp; b"');
    expect(e.problems[0]!.path).toBe('reason');
  });
});

describe('parseCommand: help', () => {
  it('is the family alone, help, help <verb>, <verb> help', () => {
    expect(parseCommand('/node', '')).toEqual({ kind: 'help', help: { family: 'node' } });
    expect(parseCommand('/node', '  help ')).toEqual({ kind: 'help', help: { family: 'node' } });
    expect(parseCommand('/node', 'help drain')).toEqual({ kind: 'help', help: { family: 'node', command: 'node.drain' } });
    expect(parseCommand('/node', 'drain help')).toEqual({ kind: 'help', help: { family: 'node', command: 'node.drain' } });
    expect(parseCommand('/node', 'drain --help')).toEqual({ kind: 'help', help: { family: 'node', command: 'node.drain' } });
    expect(parseCommand('/ip', 'help port create')).toEqual({ kind: 'help', help: { family: 'ip', command: 'ip.port-create' } });
    expect(parseCommand('/ip', 'port')).toEqual({ kind: 'help', help: { family: 'ip', command: 'ip.port-create' } });
    expect(parseCommand('/ip', 'help port')).toEqual({ kind: 'help', help: { family: 'ip', command: 'ip.port-create' } });
    for (const family of ['instance', 'volume', 'op', 'schedule']) expect(parseCommand(`/${family}`, 'help')).toEqual({ kind: 'help', help: { family } });
  });
  it('suggests the closest command for help on an unknown one', () => {
    const e = inputError('/node help drian');
    expect(e.problems[0]!.message).toMatch(/Did you mean "\/node drain"\?/);
  });
});

describe('parseCommand: errors', () => {
  const DRAIN_USAGE =
    '/node drain <host> reason=<text> [to=<host>] [mode=live|block|auto] [parallel=1-16] [stop-service=yes|no] [pin-init=yes|no] [at=<utc time> | in=<duration>]';

  it('throws one InputError with code INPUT_INVALID and the usage line', () => {
    const e = inputError('/node drain c01');
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.usage).toBe(DRAIN_USAGE);
    expect(e.problems).toEqual([{ path: 'reason', message: expect.stringMatching(/^missing reason=<text>: expected a reason/) }]);
  });
  it('names every problem at once', () => {
    const e = inputError('/node drain resaon=x mode=fast parallel=17 parallel=2 stop-service=maybe at=2026-13-01T00:00Z in=5x');
    expect(paths(e).sort()).toEqual(['at', 'host', 'in', 'in', 'mode', 'parallel', 'parallel', 'reason', 'resaon', 'stop-service'].sort());
    expect(e.problems.find((p) => p.path === 'resaon')!.message).toMatch(/unknown option "resaon=". Did you mean reason=\?/);
    expect(e.problems.find((p) => p.path === 'mode')!.message).toBe('got "fast": expected one of live, block, auto');
    expect(e.problems.find((p) => p.path === 'host')!.message).toMatch(/^missing <host>: expected a host name/);
    expect(e.problems.filter((p) => p.path === 'parallel').map((p) => p.message)).toEqual([
      'got "17": expected a whole number from 1 to 16',
      'parallel= is given twice; give it once',
    ]);
  });
  it('suggests close values of closed sets', () => {
    expect(inputError('/node drain c01 reason=abc mode=blok').problems[0]!.message).toMatch(/\(did you mean block\?\)/);
  });
  it('refuses a bad host name and says what was expected', () => {
    const e = inputError('/node status c01;reboot');
    expect(e.problems).toEqual([{ path: 'host', message: expect.stringMatching(/^got "c01;reboot": expected a host name/) }]);
    expect(inputError('/node status -c01').problems[0]!.path).toBe('host');
    expect(inputError('/node status "c01 "').problems[0]!.path).toBe('host');
  });
  it('shows control and bidi characters in errors as escapes', () => {
    expect(inputError('/node status c01\u202e').problems[0]!.message).toMatch(/^got "c01\\u\{202e\}"/);
  });
  it('reports extra positionals and guesses what they meant', () => {
    expect(inputError('/node status c01 c02').problems).toEqual([{ path: 'args', message: 'unexpected "c02": this command takes 1 argument (<host>).' }]);
    expect(inputError('/node undrain c01 migrateback').problems[0]!.message).toMatch(/Did you mean migrate-back\?/);
    expect(
      inputError('/node drain c01 reason')
        .problems.map((p) => p.message)
        .join(),
    ).toMatch(/Did you mean reason=<text>\?/);
    expect(inputError('/node list extra').problems[0]!.message).toMatch(/takes no arguments/);
  });
  it('tells to quote a value with spaces', () => {
    const e = inputError('/node drain c01 reason=disk swap in rack 4');
    expect(e.problems).toEqual([
      { path: 'reason', message: 'reason= is followed by "swap in rack 4": quote a value with spaces, e.g. reason="disk swap in rack 4"' },
    ]);
  });
  it('refuses duplicate options and flags, and flags given a value', () => {
    expect(inputError('/node drain c01 reason=a1b reason=c2d').problems).toEqual([{ path: 'reason', message: 'reason= is given twice; give it once' }]);
    expect(inputError('/node undrain c01 migrate-back migrate-back').problems[0]!.path).toBe('migrate-back');
    expect(inputError('/node undrain c01 migrate-back=yes').problems[0]!.message).toBe('migrate-back is a flag: write it on its own, without "=yes"');
  });
  it('treats a quoted flag name as a positional, not a flag', () => {
    expect(inputError('/node undrain c01 "migrate-back"').problems[0]!.path).toBe('args');
  });
  it('refuses an option of another command', () => {
    expect(inputError('/node undrain c01 reason=maint').problems[0]!.message).toBe('unknown option "reason=". This command takes: at=, in=, migrate-back');
  });
  it('refuses at= with in=, and a time in the past when now is known', () => {
    expect(inputError('/node drain c01 reason=abc at=2026-12-01T02:00Z in=2h').problems).toEqual([
      { path: 'in', message: 'at= and in= exclude each other; give one' },
    ]);
    const now = Date.UTC(2026, 11, 1, 3, 0);
    expect(inputError('/node drain c01 reason=abc at=2026-12-01T02:00Z', { now }).problems[0]!.message).toMatch(
      /is not in the future \(now is 2026-12-01T03:00Z\)/,
    );
    expect(command('/node drain c01 reason=abc at=2026-12-01T04:00Z', { now }).args['at']).toBe(Date.UTC(2026, 11, 1, 4, 0));
  });
  it('refuses source and destination being the same host', () => {
    expect(inputError('/node drain c01 reason=abc to=C01').problems).toEqual([{ path: 'to', message: 'to must differ from host (both are c01)' }]);
    expect(inputError('/node evacuate c01 c01 reason=abc').problems).toEqual([
      { path: 'to-host', message: 'to-host must differ from from-host (both are c01)' },
    ]);
    expect(inputError('/node copy-instances c01 c01').problems[0]!.path).toBe('to-host');
  });
  it('refuses paths that climb out or carry symbols', () => {
    for (const p of ['../etc', '/etc/../shadow', '/etc/*', '"/etc/a b"', 'etc/fstab']) {
      expect(inputError(`/instance inspect ${UUID} reason=abc path=${p}`).problems.map((x) => x.path)).toEqual(['path']);
    }
  });
  it('refuses unknown verbs with a suggestion and the family usage', () => {
    const e = inputError('/node drian c01');
    expect(e.problems).toEqual([
      {
        path: 'verb',
        message: 'unknown command "/node drian". Did you mean "/node drain"? /node takes: drain, undrain, check, evacuate, copy-instances, status, list, help',
      },
    ]);
    expect(e.usage.split('\n')).toHaveLength(8);
    expect(inputError('/ip port creat x.example.com').problems[0]!.message).toMatch(/Did you mean "\/ip port create"\?/);
    expect(inputError('/node reason=abc').problems[0]!.message).toMatch(/^expected a command first/);
    expect(inputError('/node "drain" c01').problems[0]!.path).toBe('verb');
  });
  it('reports an unterminated quote with the command usage', () => {
    const e = inputError('/node drain c01 reason="disk swap');
    expect(e.problems[0]).toEqual({ path: 'text', message: 'unterminated quote: the " at column 18 is never closed (expected a closing ")' });
    expect(e.usage).toBe(DRAIN_USAGE);
  });
  it('refuses overlong text', () => {
    expect(inputError(`/node status ${'a'.repeat(5000)}`).problems[0]!.path).toBe('text');
  });
  it('throws UNKNOWN_COMMAND for a slash command that is not ours', () => {
    expect(() => parseCommand('/deploy', 'x')).toThrow(ChatOpsError);
    try {
      parseCommand('/deploy', 'x');
    } catch (e) {
      expect((e as ChatOpsError).code).toBe('UNKNOWN_COMMAND');
    }
  });
});

describe('parseCommand: configured slash command names', () => {
  const names = { node: '/os-node' };
  it('maps the configured name and shows it in usage', () => {
    expect(command('/os-node status c01', { names }).name).toBe('node.status');
    expect(() => parseCommand('/node', 'status c01', { names })).toThrow(/unknown slash command/);
    expect(inputError('/os-node status', { names }).usage).toBe('/os-node status <host>');
  });
});
