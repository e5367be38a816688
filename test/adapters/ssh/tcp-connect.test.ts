// /ip check from=<node>: the fixed bash template, run here by a real bash exactly as sshd would run
// the line the adapter sends (remoteLine), against real sockets on 127.0.0.1; and its parser.
import { execa } from 'execa';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../../../core/errors.js';
import { TCP_CONNECT_EXIT_CODES, TcpConnectUnsupported, parseTcpConnect, tcpConnect } from '../../../adapters/ssh/tcp-connect.js';
import { arg, remoteLine, shellQuote } from '../../../adapters/ssh/shell-quote.js';

const servers: Server[] = [];
async function listen(onConnection: (s: Socket) => void): Promise<number> {
  // bash closes its end when done: a reset on the server's side is expected, not a failure
  const srv = createServer((s) => {
    s.on('error', () => undefined);
    onConnection(s);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as { port: number }).port;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** Runs the command as the node's sshd would run the adapter's line (`$SHELL -c <line>`), here. */
async function onNode(ip: string, port: number) {
  const line = remoteLine(tcpConnect(ip, port), { sudo: false, remoteTimeoutSec: 16 });
  const t0 = performance.now();
  const r = await execa('sh', ['-c', line], { reject: false });
  expect(TCP_CONNECT_EXIT_CODES as readonly number[]).toContain(r.exitCode);
  return { result: parseTcpConnect('c01', { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? null }), wallMs: performance.now() - t0 };
}

describe('tcpConnect: the template', () => {
  it('is a bash template whose only values are the validated address and port, single-quoted', () => {
    const c = tcpConnect('2001:DB8::7', 443);
    expect(c.shell).toBe('bash');
    expect(c.args).toEqual({ ip: '2001:db8::7', port: '443' }); // canonical form, as arg.ip makes it
    expect(c.text).toContain(`ip='2001:db8::7'; port='443';`);
    const line = remoteLine(c, { sudo: false, remoteTimeoutSec: 16 });
    expect(line).toBe(`timeout -k 5 16 bash -c ${shellQuote(c.text)}`);
    expect(c.display.startsWith('bash -c ')).toBe(true);
  });

  it('refuses anything that is not an address or a port before a command exists', () => {
    for (const bad of ['127.0.0.1; reboot', "1.2.3.4' && id '", '$(id)', 'c01', '300.1.2.3', '']) {
      expect(() => tcpConnect(bad, 22), bad).toThrow(InputError);
    }
    expect(() => tcpConnect('127.0.0.1', -1)).toThrow(InputError);
    expect(() => arg.ip('::1 ')).toThrow(InputError);
  });
});

describe('tcpConnect: run by a real bash against real sockets', () => {
  it('connects, and reads the first banner line within 1 s', async () => {
    const port = await listen((s) => s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nsecond line\r\n'));
    const { result } = await onNode('127.0.0.1', port);
    expect(result).toMatchObject({ outcome: 'open', banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2' });
    expect(result.ms).toBeGreaterThanOrEqual(0);
  });

  it('an open port that says nothing: open, no banner, done after the 1 s banner wait', async () => {
    const port = await listen(() => undefined);
    const { result, wallMs } = await onNode('127.0.0.1', port);
    expect(result.outcome).toBe('open');
    expect(result.banner).toBeUndefined();
    expect(wallMs).toBeGreaterThan(900); // it did wait for a banner
  });

  it('a closed port: refused, with the errno name', async () => {
    const port = await listen(() => undefined);
    await new Promise((r) => servers.pop()!.close(r)); // now nothing listens there
    const { result } = await onNode('127.0.0.1', port);
    expect(result).toMatchObject({ outcome: 'refused', code: 'ECONNREFUSED' });
  });

  it('no answer: timed out by the 2 s watchdog, with a status (not a signal) and the time', async () => {
    // TEST-NET-1 is not routed anywhere: the SYN goes unanswered (or the route is missing: unreachable).
    const { result, wallMs } = await onNode('192.0.2.99', 22);
    expect(['timed-out', 'unreachable']).toContain(result.outcome);
    if (result.outcome === 'timed-out') {
      expect(result.ms).toBeGreaterThanOrEqual(1900);
      expect(wallMs).toBeGreaterThanOrEqual(1900);
    }
  });
});

describe('parseTcpConnect', () => {
  it('reads each outcome and the node-side times', () => {
    expect(parseTcpConnect('c01', { stdout: 'start:10.000000\nopen:10.004500\nbanner:SSH-2.0-x\r\n', stderr: '', exitCode: 0 })).toEqual({
      outcome: 'open',
      ms: 5,
      banner: 'SSH-2.0-x',
    });
    expect(parseTcpConnect('c01', { stdout: 'start:10.0\nopen:10.001\nbanner:\n', stderr: '', exitCode: 0 })).toEqual({ outcome: 'open', ms: 1 });
    expect(parseTcpConnect('c01', { stdout: 'start:10.0\ntimeout:12.002\n', stderr: 'bash: connect: Interrupted system call', exitCode: 2 })).toEqual({
      outcome: 'timed-out',
      ms: 2002,
    });
    expect(
      parseTcpConnect('c01', {
        stdout: 'start:10.0\nfailed:10.003\n',
        stderr: 'bash: connect: No route to host\nbash: line 1: /dev/tcp/x/1: No route to host',
        exitCode: 1,
      }),
    ).toEqual({ outcome: 'unreachable', ms: 3, code: 'EHOSTUNREACH' });
    expect(parseTcpConnect('c01', { stdout: 'start:10.0\nfailed:10.0\n', stderr: 'bash: connect: Permission denied', exitCode: 1 })).toEqual({
      outcome: 'error',
      ms: 0,
      code: 'Permission denied',
    });
    // the watchdog fired right after the connect: still open
    expect(parseTcpConnect('c01', { stdout: 'start:10.0\nopen:11.999\ntimeout:12.0\n', stderr: '', exitCode: 2 }).outcome).toBe('open');
  });

  it('a node that could not run the check is an error naming the node, not an answer about the address', () => {
    expect(() => parseTcpConnect('c01', { stdout: '', stderr: 'sh: 1: bash: not found', exitCode: 127 })).toThrow(TcpConnectUnsupported);
    expect(() => parseTcpConnect('c01', { stdout: '', stderr: 'sh: 1: bash: not found', exitCode: 127 })).toThrow(
      /c01 cannot make a TCP connect for the bot: the check did not run there \(exit 127: sh: 1: bash: not found\); nothing was checked/,
    );
    expect(() =>
      parseTcpConnect('c01', { stdout: 'start:1\nfailed:1\n', stderr: 'bash: /dev/tcp/127.0.0.1/22: No such file or directory', exitCode: 1 }),
    ).toThrow(/no \/dev\/tcp/);
  });
});
