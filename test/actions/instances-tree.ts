/**
 * The lab compute hosts' instances directories as the copy-instances lab tests see them, over the
 * lab's own SSH (not the bot's): a file tree with sizes, modes and sha256, and a way to write files
 * there. The fake-driver computes have their own instances_path (nova-c0N.conf).
 */
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { sshHost } from '../lab/lab-helpers.js';
import { LAB_DIR } from './lab-bot.js';

export type LabHost = 'c01' | 'c02';
export const INSTANCES: Record<LabHost, string> = { c01: '/var/lib/nova/instances-c01', c02: '/var/lib/nova/instances-c02' };

/** Runs cmd on host; throws with its stderr when it fails. */
export async function sh(host: LabHost, cmd: string): Promise<string> {
  const r = await sshHost(host, cmd);
  if (r.exitCode !== 0) throw new Error(`${host}: ${cmd}: exit ${r.exitCode} ${r.stderr}`);
  return r.stdout;
}

/** `size mode sha256` of every regular file under dir, by path relative to dir. */
export async function tree(host: LabHost, dir: string): Promise<Map<string, string>> {
  const out = await sh(host, `cd ${dir} && find . -type f -printf '%P %s %m\\n' | sort`);
  const sums = await sh(host, `cd ${dir} && find . -type f -print0 | xargs -0 -r sha256sum`);
  const sha = new Map(
    sums
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(66).replace(/^\.\//, ''), l.slice(0, 64)] as const),
  );
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [rel, size, mode] = l.split(' ');
        return [rel!, `${size} ${mode} ${sha.get(rel!)}`] as const;
      }),
  );
}

/**
 * Writes `content` (a text, or that many random bytes) to path on host with mode, making its
 * directory; the top entry it made under the instances directory (`_base/<file>` or `<dir>`) is
 * pushed to `made` for the test's clean-up.
 */
export async function put(made: string[], host: LabHost, path: string, content: string | number, mode = '644'): Promise<void> {
  made.push(path.replace(/^(\/var\/lib\/nova\/instances-c0\d\/(?:_base\/)?[^/]+).*$/, '$1'));
  const data = typeof content === 'number' ? randomBytes(content).toString('base64') : Buffer.from(content).toString('base64');
  await execa('ssh', ['-F', `${LAB_DIR}/ssh/ssh_config`, host, `mkdir -p $(dirname ${path}) && base64 -d > ${path} && chmod ${mode} ${path}`], { input: data });
}

/** Removes what put() made (and what a copy made from it on the other host); an empty `_base` goes too. */
export async function removeMade(made: string[]): Promise<void> {
  for (const p of new Set(made)) {
    const host = (Object.keys(INSTANCES) as LabHost[]).find((h) => p.startsWith(`${INSTANCES[h]}/`));
    if (host) await sshHost(host, `rm -rf ${p}`);
  }
  for (const h of Object.keys(INSTANCES) as LabHost[]) await sshHost(h, `rmdir ${INSTANCES[h]}/_base 2>/dev/null; true`);
}
