/**
 * Re-attaching a volume to its instance on the same device (runbook §5 and the last step of the SQL
 * evacuation): remove it through Nova, wait until Cinder says `available`, add it back with the same
 * device, wait until `in-use`. Resumable: a volume found `available` (a bot killed between the two
 * calls) is only added back; one found `detaching`/`attaching` is waited for; one attached since
 * `since` is left alone.
 */
import type { Volume } from '../../adapters/openstack/cloud.js';
import { ChatOpsError } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';
import type { JsonValue } from '../../engine/runbook.js';
import type { CloudDeps } from '../deps.js';
import { pollDelay } from './migrate-instances.js';

/** One instance/volume pair of a plan. */
export interface VolumePair {
  instanceId: string;
  instanceName: string;
  volumeId: string;
  device: string | null;
  [k: string]: JsonValue;
}

/** Nova and Cinder write times in UTC without a zone. */
export const utcMs = (t: string | null | undefined): number => (t ? Date.parse(/Z|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`) : NaN);

/** Has the pair been attached again since `sinceMs` (Cinder's attachment time)? */
export async function reattachedSince(c: CloudDeps, p: VolumePair, sinceMs: number): Promise<boolean> {
  const v = await c.cloud.getVolume(p.volumeId);
  if (v?.status !== 'in-use' || !v.attachments.some((a) => a.serverId === p.instanceId)) return false;
  const atts = await c.cloud.listVolumeAttachments({ volumeId: p.volumeId });
  return atts.some((a) => a.instanceId === p.instanceId && a.status === 'attached' && utcMs(a.attachedAt) >= sinceMs);
}

async function waitVolume(c: CloudDeps, id: string, want: string, signal: AbortSignal, timeoutMs = 120_000): Promise<Volume> {
  const deadline = c.clock.now() + timeoutMs;
  for (let k = 0; ; k++) {
    const v = await c.cloud.getVolume(id);
    if (!v) throw new ChatOpsError('STEP_FAILED', `volume ${id} no longer exists`, { details: { volume: id } });
    if (v.status === want) return v;
    if (v.status === 'error' || v.status.startsWith('error_'))
      throw new ChatOpsError('STEP_FAILED', `volume ${id} went to ${v.status} (waiting for ${want})`, { details: { volume: id } });
    if (c.clock.now() > deadline)
      throw new ChatOpsError('TIMEOUT', `volume ${id} is still ${v.status} after ${timeoutMs / 1000} s (waiting for ${want})`, { details: { volume: id } });
    await sleep(pollDelay(k, 2000), signal);
  }
}

/** Removes and adds back one volume on the same device; returns the device Nova reports after. */
export async function reattachVolume(
  c: CloudDeps,
  p: VolumePair,
  o: { signal: AbortSignal; beforeCall(op: string): Promise<void> },
): Promise<{ device: string | null }> {
  let v = await c.cloud.getVolume(p.volumeId);
  if (!v) throw new ChatOpsError('STEP_FAILED', `volume ${p.volumeId} of ${p.instanceName} no longer exists`, { details: { volume: p.volumeId } });
  if (v.status === 'detaching') v = await waitVolume(c, p.volumeId, 'available', o.signal);
  if (v.status === 'in-use' && v.attachments.some((a) => a.serverId === p.instanceId)) {
    await o.beforeCall('detach');
    await c.cloud.detachVolume(p.instanceId, p.volumeId);
    v = await waitVolume(c, p.volumeId, 'available', o.signal);
  }
  if (v.status === 'available') {
    await o.beforeCall('attach');
    await c.cloud.attachVolume(p.instanceId, p.volumeId, p.device ?? undefined);
  } else if (v.status !== 'attaching') {
    throw new ChatOpsError(
      'STEP_FAILED',
      `volume ${p.volumeId} of ${p.instanceName} is ${v.status}${v.attachments.length ? ` (attached to ${v.attachments.map((a) => a.serverId).join(', ')})` : ''}: not re-attached`,
      { details: { volume: p.volumeId } },
    );
  }
  await waitVolume(c, p.volumeId, 'in-use', o.signal);
  const now = (await c.cloud.listServerVolumes(p.instanceId)).find((x) => x.volumeId === p.volumeId);
  return { device: now?.device ?? null };
}
