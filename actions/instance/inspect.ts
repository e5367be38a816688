/**
 * `/instance inspect <uuid>` (runbook.md, reading a failed instance's disk): the command spec only.
 * The runbook is not built yet: the bot answers that it is not available and does nothing. Its
 * runbook goes in this file, defined from this spec (engine/runbook.ts defineRunbook).
 */
import { command, opt, pos, reasonOption } from '../../engine/spec/spec-builders.js';
import { PATH, UUID, choice } from '../../engine/spec/value-types.js';

export const inspectSpec = command({
  family: 'instance',
  words: ['inspect'],
  summary: "Read files from a failed instance's disk (user data: approval always needed).",
  description:
    "On the instance's compute node: suspends it, exposes its disk read-only, mounts it read-only, shows the listing or file at path, then always unmounts, disconnects and resumes the instance, even when an earlier step failed.",
  positionals: [pos('uuid', UUID, 'The instance.', 'instance')],
  options: [
    reasonOption(),
    opt('path', PATH, 'What to show inside the guest file system (a directory is listed).', { default: '/', defaultText: '/' }),
    opt('device', choice(['disk', 'disk.local']), 'Which disk: the root disk or the ephemeral disk.local.', { default: 'disk', defaultText: 'disk' }),
  ],
  kind: 'runbook',
  effect: 'change',
  approval: 'always',
  examples: ['inspect 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 reason="INC-4711 recover config" path=/etc/fstab'],
});
