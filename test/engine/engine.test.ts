import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineSuite } from './helpers/engine-suite.js';

engineSuite('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engine-'));
  return {
    where: { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
