import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tcpProbe } from '../../adapters/tcp-probe.js';
import { renderIpCheck } from '../../bot/render/render-ip-check.js';

const servers: Server[] = [];
async function listen(onConnection: (s: import('node:net').Socket) => void): Promise<number> {
  const srv = createServer(onConnection);
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as { port: number }).port;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('tcpProbe (real sockets on 127.0.0.1)', () => {
  it('connects and reads the first banner line, without control characters', async () => {
    const port = await listen((s) => s.write('SSH-2.0-OpenSSH_9.2p1 Debian\x1b[31m\r\nsecond line\r\n'));
    const r = await tcpProbe('127.0.0.1', port);
    expect(r).toMatchObject({ outcome: 'open', banner: 'SSH-2.0-OpenSSH_9.2p1 Debian[31m' });
    expect(r.ms).toBeLessThan(2000);
    expect(renderIpCheck({ ...r, ip: '127.0.0.1', port, equivalent: `nc -v -w 2 127.0.0.1 ${port}` }).text).toContain('banner: SSH-2.0-OpenSSH_9.2p1');
  });

  it('reports an open port that says nothing within the banner window', async () => {
    const port = await listen(() => undefined);
    const r = await tcpProbe('127.0.0.1', port, { bannerTimeoutMs: 100 });
    expect(r.outcome).toBe('open');
    expect(r.banner).toBeUndefined();
  });

  it('reports a closed port as refused', async () => {
    const port = await listen(() => undefined);
    await new Promise((r) => servers.pop()!.close(r));
    const r = await tcpProbe('127.0.0.1', port);
    expect(r).toMatchObject({ outcome: 'refused', code: 'ECONNREFUSED' });
    const shown = renderIpCheck({ ...r, ip: '127.0.0.1', port, equivalent: 'nc' });
    expect(shown.text).toMatch(/refused: the host answered, nothing listens on that port/);
  });

  it('brackets an IPv6 address in what it shows', () => {
    expect(renderIpCheck({ outcome: 'timed-out', ms: 2001, ip: '2001:db8::7', port: 443, equivalent: 'nc -v -w 2 2001:db8::7 443' }).text).toBe(
      ':red_circle: [2001:db8::7]:443 timed out after 2 s: no answer (host down, filtered, or the address is not in use) (2001 ms)',
    );
  });
});
