/**
 * `/volume reattach <host>` (runbook.md §2, volumes after a reboot): the command spec only.
 * The runbook is not built yet: the bot answers that it is not available and does nothing. Its
 * runbook goes in this file, defined from this spec (engine/runbook.ts defineRunbook).
 */
import { command, opt, pos } from '../../engine/spec/spec-builders.js';
import { HOST, UUID } from '../../engine/spec/value-types.js';

export const reattachSpec = command({
  family: 'volume',
  words: ['reattach'],
  summary: 'Re-attach the volumes of the instances on a node (same mount points), after they booted.',
  description: 'Lists the instance/volume pairs on the node and, once each instance has booted, removes and adds its volumes again at the same device.',
  positionals: [pos('host', HOST, 'The compute node.')],
  options: [opt('instance', UUID, 'Only this instance.', { defaultText: 'every instance on the node' })],
  kind: 'runbook',
  effect: 'change',
  approval: 'policy',
  examples: ['reattach c01', 'reattach c01 instance=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'],
});
