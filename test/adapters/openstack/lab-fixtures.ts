/**
 * What the OpenStack contract suite needs from the lab: a RestCloud and a CliCloud on the lab's
 * clouds.yaml, servers and volumes created through REST (named with a per-run prefix so clean-up
 * removes only ours), and bounded waits on conditions.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { CliCloud } from '../../../adapters/openstack/cli-cloud.js';
import type { Cloud, Server } from '../../../adapters/openstack/cloud.js';
import { loadCloudConfig } from '../../../adapters/openstack/cloud-config.js';
import { LocalCommandRunner } from '../../../adapters/openstack/command-runner.js';
import { RestCloud } from '../../../adapters/openstack/rest-cloud.js';
import { waitFor as waitUntil } from '../../helpers/wait-for.js';
import { flavorFor, type PairHost } from '../../lab/lab-helpers.js';

export interface LabInfo {
  cloudsYaml: string;
  cloud: string;
}

/** The lab's clouds.yaml and admin cloud, as /tmp/lab-ready (written by lab/up) documents them. */
export function labInfo(): LabInfo {
  const cloudsYaml = process.env.LAB_CLOUDS_YAML ?? '/var/lib/openstack-lab/clouds.yaml';
  const cloud = process.env.LAB_CLOUD ?? 'lab';
  if (!existsSync(cloudsYaml)) throw new Error(`the OpenStack lab is not up: no ${cloudsYaml} (run: bash lab/up)`);
  return { cloudsYaml, cloud };
}

export function labClouds(info: LabInfo): { rest: RestCloud; cli: CliCloud } {
  const env = { OS_CLIENT_CONFIG_FILE: info.cloudsYaml, OS_CLOUD: info.cloud };
  const rest = new RestCloud(loadCloudConfig({ env, cloud: info.cloud }), { timeoutMs: 60_000 });
  const runner = new LocalCommandRunner({ PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', OS_CLIENT_CONFIG_FILE: info.cloudsYaml });
  const cli = new CliCloud({ runner, globalArgs: ['--os-cloud', info.cloud], rest });
  return { rest, cli };
}

/** The one waitFor (test/helpers/wait-for.ts) with these fixtures' patience: 60 s, probing at most every second. */
export const waitFor: typeof waitUntil = (what, probe, options = {}) =>
  waitUntil(what, probe, { timeoutMs: 60_000, intervalMs: 1000, ...(typeof options === 'number' ? { timeoutMs: options } : options) });

/** Waits until the server has no task and is in `status` (on `host` when given). */
export function serverSettled(cloud: Cloud, id: string, status: string, host?: string, ms?: number): Promise<Server> {
  return waitFor(
    `server ${id} ${status}${host ? ` on ${host}` : ''}`,
    async () => {
      const s = await cloud.getServer(id);
      if (s?.status === 'ERROR') throw new Error(`server ${id} went to ERROR`);
      return s && s.status === status && !s.taskState && (!host || s.host === host) ? s : undefined;
    },
    ms,
  );
}

const idBody = (key: string) => z.object({ [key]: z.object({ id: z.string() }).passthrough() });

/** Creates lab objects through REST and deletes them again. */
export class LabSeeder {
  readonly prefix = `ct-${Date.now().toString(36)}`;
  private flavorIds?: Map<string, string>;
  private imageId?: string;
  readonly servers = new Set<string>();
  readonly volumes = new Set<string>();
  readonly ports = new Set<string>();

  constructor(readonly rest: RestCloud) {}

  /** The flavor and image of a server on host: m1.pair2 on c04/c05, m1.tiny elsewhere (lab/lib/pairs.py). */
  private async refs(host: string): Promise<{ flavorRef: string; imageRef: string }> {
    if (!this.flavorIds) {
      const f = await this.rest.http.get('compute', '/flavors', {
        schema: z.object({ flavors: z.array(z.object({ id: z.string(), name: z.string() }).passthrough()) }),
      });
      this.flavorIds = new Map(f.flavors.map((x) => [x.name, x.id]));
      const i = await this.rest.http.get('image', '/images', {
        query: { name: 'cirros' },
        schema: z.object({ images: z.array(z.object({ id: z.string() }).passthrough()) }),
      });
      this.imageId = i.images[0]?.id;
    }
    const flavor = flavorFor(host as PairHost);
    const flavorRef = this.flavorIds.get(flavor);
    if (!flavorRef || !this.imageId) throw new Error(`the lab lacks flavor ${flavor} or image cirros (lab/up creates them)`);
    return { flavorRef, imageRef: this.imageId };
  }

  /** Boots a server on `host` (no NIC, or on a given port) and waits until it is ACTIVE. */
  async server(host: string, o: { portId?: string; name?: string } = {}): Promise<Server> {
    // The lab is shared: another suite may have disabled the host for a moment (its drain test);
    // a boot then fails with NoValidHost. Wait until the host takes servers again.
    await waitFor(
      `${host} enabled and up`,
      async () => {
        const s = await this.rest.getComputeService(host);
        return s?.status === 'enabled' && s.state === 'up' ? true : undefined;
      },
      120_000,
    );
    const r = await this.rest.http.post('compute', '/servers', {
      body: {
        server: {
          name: o.name ?? `${this.prefix}-${this.servers.size}`,
          ...(await this.refs(host)),
          availability_zone: `nova:${host}`,
          networks: o.portId ? [{ port: o.portId }] : 'none',
        },
      },
      schema: idBody('server'),
    });
    const id = (r as { server: { id: string } }).server.id;
    this.servers.add(id);
    return serverSettled(this.rest, id, 'ACTIVE', host);
  }

  async volume(): Promise<string> {
    const r = await this.rest.http.post('volume', '/volumes', {
      body: { volume: { size: 1, name: `${this.prefix}-vol-${this.volumes.size}` } },
      schema: idBody('volume'),
    });
    const id = (r as { volume: { id: string } }).volume.id;
    this.volumes.add(id);
    await waitFor(`volume ${id} available`, async () => ((await this.rest.getVolume(id))?.status === 'available' ? true : undefined));
    return id;
  }

  /** Deletes everything this seeder (or the test, via `ports`) created; waits until servers are gone. */
  async cleanup(): Promise<void> {
    const left: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        left.push(`${what}: ${(e as Error).message}`);
      }
    };
    for (const id of this.servers) await attempt(`server ${id}`, () => this.rest.http.delete('compute', `/servers/${id}`, { allow404: true }));
    for (const id of this.servers)
      await attempt(`server ${id}`, () => waitFor(`server ${id} deleted`, async () => ((await this.rest.getServer(id)) ? undefined : true)));
    this.servers.clear();
    for (const id of this.volumes) {
      await attempt(`volume ${id}`, async () => {
        await waitFor(`volume ${id} detached`, async () => {
          const v = await this.rest.getVolume(id);
          return !v || v.status === 'available' || v.status === 'error' ? true : undefined;
        });
        await this.rest.http.delete('volume', `/volumes/${id}`, { allow404: true });
      });
    }
    this.volumes.clear();
    for (const id of this.ports) await attempt(`port ${id}`, () => this.rest.http.delete('network', `/ports/${id}`, { allow404: true }));
    this.ports.clear();
    // Say what is left behind on the shared lab rather than hide it.
    if (left.length) console.warn(`OpenStack contract clean-up left objects behind (prefix ${this.prefix}):\n  ${left.join('\n  ')}`);
  }
}
