// The lab's two pairs of fake-driver hosts (c01/c02 and c04/c05, lab/lib/pairs.py) are kept apart by a
// Placement trait, so that the files of two lanes can drain and evacuate at once: whatever Nova
// schedules on its own for a server stays in the pair the server was booted in. Reads only (it runs
// in the lane of files that change no compute host); the lane lab-c04c05's e2e drain (no target)
// moves servers to c05 and nowhere else, on the real scheduler.
import { describe, expect, it } from 'vitest';
import { candidates, osJson, Rest } from './lab-helpers.js';

const RESOURCES = 'resources=VCPU:1,MEMORY_MB:64,DISK_GB:1';

/** Provider uuid → host name, from Nova's hypervisor list (the fake driver names a node after its host). */
async function providerHosts(): Promise<Map<string, string>> {
  const hv = await osJson<Array<{ ID: string; 'Hypervisor Hostname': string }>>(['hypervisor', 'list']);
  return new Map(hv.map((h) => [h.ID, h['Hypervisor Hostname']]));
}

describe('the two pairs of fake-driver hosts', () => {
  it('Placement offers m1.tiny c01/c02 only and m1.pair2 c04/c05 only', async () => {
    const rest = await Rest.login();
    const hosts = await providerHosts();
    const names = (ids: string[]) => ids.map((id) => hosts.get(id) ?? id).sort();
    // what m1.tiny asks for (it forbids both c03's trait and the second pair's)
    expect(names(await candidates(rest, `${RESOURCES}&required=!CUSTOM_LAB_INSPECT,!CUSTOM_LAB_PAIR2`))).toEqual(['c01', 'c02']);
    // what m1.pair2 asks for
    expect(names(await candidates(rest, `${RESOURCES}&required=CUSTOM_LAB_PAIR2,!CUSTOM_LAB_INSPECT`))).toEqual(['c04', 'c05']);
  });

  it('the flavors carry those traits', async () => {
    const props = async (f: string) => (await osJson<{ properties: Record<string, string> }>(['flavor', 'show', f])).properties;
    for (const f of ['m1.tiny', 'm1.small', 'm1.medium']) expect((await props(f))['trait:CUSTOM_LAB_PAIR2'], f).toBe('forbidden');
    expect(await props('m1.pair2')).toMatchObject({ 'trait:CUSTOM_LAB_PAIR2': 'required', 'trait:CUSTOM_LAB_INSPECT': 'forbidden' });
  });
});
