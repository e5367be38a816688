import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CappedOutput } from '../../../adapters/ssh/capped-output.js';

describe('capped output', () => {
  it('keeps the head or the tail within the cap, counts everything, marks the cut', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 30 }), fc.integer({ min: 1, max: 200 }), (chunks, max) => {
        const all = Buffer.concat(chunks.map((c) => Buffer.from(c)));
        for (const keep of ['head', 'tail'] as const) {
          const o = new CappedOutput(max, keep);
          for (const c of chunks) o.push(Buffer.from(c));
          expect(o.totalBytes).toBe(all.length);
          expect(o.truncated).toBe(all.length > max);
          const kept = keep === 'head' ? all.subarray(0, max) : all.subarray(Math.max(0, all.length - max));
          if (!o.truncated) expect(o.text()).toBe(all.toString('utf8'));
          else {
            expect(o.text()).toContain(kept.toString('utf8'));
            expect(o.text()).toContain(`${all.length - max} ${keep === 'head' ? 'more' : 'earlier'} bytes not shown`);
          }
        }
      }),
    );
  });
});
