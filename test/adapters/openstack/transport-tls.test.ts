/**
 * TLS: the cloud's CA bundle is trusted, an unknown CA is refused before anything is sent, and
 * verification is skipped only when the configuration asks for it. The certificates in ./tls are
 * test-only (a throwaway CA, whose key was discarded, and a server certificate for 127.0.0.1).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { CloudConfig } from '../../../adapters/openstack/cloud-config.js';
import { OpenStackApiError } from '../../../adapters/openstack/openstack-errors.js';
import { RestCloud } from '../../../adapters/openstack/rest-cloud.js';
import { FakeOpenStackWire } from './fake-openstack-wire.js';

const dir = fileURLToPath(new URL('./tls/', import.meta.url));
let wire: FakeOpenStackWire;
let cloud: RestCloud | undefined;

beforeEach(async () => {
  wire = await new FakeOpenStackWire().start({ key: readFileSync(`${dir}server.key`, 'utf8'), cert: readFileSync(`${dir}server.pem`, 'utf8') });
  wire.route('GET', /os-services/, () => ({ status: 200, body: { services: [] } }));
});
afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
  await wire.stop();
});

function open(tls: Partial<CloudConfig>): RestCloud {
  cloud = new RestCloud(
    {
      name: 'tls',
      interface: 'public',
      insecure: false,
      sources: [],
      auth: { type: 'password', authUrl: `${wire.base}/v3`, userId: 'u-1', password: 'pw' },
      ...tls,
    },
    { readAttempts: 1, timeoutMs: 5_000 },
  );
  return cloud;
}

it('trusts the CA bundle named by cacert', async () => {
  expect(wire.base).toMatch(/^https:/);
  expect(await open({ cacert: `${dir}ca.pem` }).listComputeServices()).toEqual([]);
});

it('refuses a server whose CA it does not know, before sending anything', async () => {
  const e = await open({})
    .listComputeServices()
    .catch((x: unknown) => x);
  expect(e).toBeInstanceOf(OpenStackApiError);
  expect(e).toMatchObject({ outcome: 'not-sent' });
  expect((e as Error).message).toMatch(/TLS verification failed .*set cacert/);
  expect(wire.requests).toHaveLength(0);
});

it('skips verification only when insecure is set', async () => {
  expect(await open({ insecure: true }).listComputeServices()).toEqual([]);
});
