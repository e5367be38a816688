import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDeps } from '../../compose/build-deps.js';
import { loadConfig } from '../../bot/config.js';
import { systemClock } from '../../core/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'cfg-fence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('the fence, db and instancesPath keys of a cloud', () => {
  it('the example asks two approvers for node.evacuate', () => {
    expect(loadConfig({}, 'chatops.example.yaml').approvals.runbooks['node.evacuate']?.approvals).toBe(2);
  });

  it('builds a fence whose argv comes from the template and the host variables; instances_path per host', async () => {
    const c = loadConfig(
      {},
      file(
        'ok.yaml',
        'clouds:\n  lab:\n    cloud: lab\n    nodeCommands: { preset: lab }\n    fence:\n      command: [ipmitool, -H, "{bmc}", chassis, power, off]\n      hosts: { c01: { bmc: 10.0.0.101 } }\n',
      ),
    );
    const built = buildDeps(c, systemClock, undefined, { OS_CLIENT_CONFIG_FILE: '/nonexistent' });
    try {
      expect(built.deps.node?.fence?.argvFor('c01')).toEqual(['ipmitool', '-H', '10.0.0.101', 'chassis', 'power', 'off']);
      expect(built.deps.node?.instancesPath?.('c02')).toBe('/var/lib/nova/instances-c02');
      expect(built.deps.node?.db).toBeUndefined();
    } finally {
      await built.close();
    }
  });

  it('refuses a fence without a command and a bad fence timeout, naming the key', () => {
    expect(() => loadConfig({}, file('bad.yaml', 'clouds:\n  lab:\n    cloud: lab\n    fence: { command: [] }\n'))).toThrow(/clouds\.lab\.fence\.command/);
    const c = loadConfig({}, file('bad-timeout.yaml', 'clouds:\n  lab:\n    cloud: lab\n    fence: { command: [/bin/true], timeout: soon }\n'));
    expect(() => buildDeps(c, systemClock, undefined, {})).toThrow(/clouds\.lab\.fence\.timeout/);
  });
});
