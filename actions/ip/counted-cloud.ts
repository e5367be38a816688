/**
 * A Cloud that counts the calls made through it, reads and writes apart: /ip recover tells the
 * thread what its path cost. With the REST backend one method is one API request (a bulk create
 * too); with the CLI a list is one command plus one `show` per row.
 */
import type { Cloud } from '../../adapters/openstack/cloud.js';

const WRITES: ReadonlySet<string> = new Set(['createPort', 'createPorts', 'updatePort', 'deletePort', 'attachInterface', 'detachInterface']);

export interface CallCount {
  reads: number;
  writes: number;
}

export function countedCloud(cloud: Cloud): { cloud: Cloud; calls: CallCount } {
  const calls: CallCount = { reads: 0, writes: 0 };
  const proxy = new Proxy(cloud, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        if (WRITES.has(prop)) calls.writes++;
        else calls.reads++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { cloud: proxy, calls };
}
