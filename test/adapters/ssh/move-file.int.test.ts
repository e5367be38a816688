/**
 * moveFile's command run by a real `sh` (what sshd runs it with) on real files: it moves, and it
 * never replaces or nests into what is at the destination, whatever that is.
 */
import { execa } from 'execa';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { moveFile } from '../../../adapters/ssh/node-presets.js';

let dir: string;
const run = async (src: string, dst: string) => {
  const r = await execa('sh', ['-c', moveFile(src, dst).text], { reject: false });
  return { code: r.exitCode, stderr: r.stderr };
};
const exists = (p: string) => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'move-file-'));
});

describe('moveFile on a real shell', () => {
  it('moves a file, creating the destination directory', async () => {
    writeFileSync(join(dir, 'a'), 'A');
    expect(await run(join(dir, 'a'), join(dir, 'new/sub/a'))).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(join(dir, 'new/sub/a'), 'utf8')).toBe('A');
    expect(exists(join(dir, 'a'))).toBe(false);
  });

  it('moves a directory with its files', async () => {
    mkdirSync(join(dir, 'inst'));
    writeFileSync(join(dir, 'inst/disk'), 'D');
    expect((await run(join(dir, 'inst'), join(dir, 'instances/inst'))).code).toBe(0);
    expect(readFileSync(join(dir, 'instances/inst/disk'), 'utf8')).toBe('D');
  });

  it('refuses (17) to replace a file that is there, and leaves both as they were', async () => {
    writeFileSync(join(dir, 'a'), 'new');
    writeFileSync(join(dir, 'b'), 'old');
    const r = await run(join(dir, 'a'), join(dir, 'b'));
    expect(r.code).toBe(17);
    expect(r.stderr).toContain('refusing to overwrite');
    expect([readFileSync(join(dir, 'a'), 'utf8'), readFileSync(join(dir, 'b'), 'utf8')]).toEqual(['new', 'old']);
  });

  it('refuses (17) to move a directory onto an existing empty directory or into it', async () => {
    mkdirSync(join(dir, 'stage/inst'), { recursive: true });
    writeFileSync(join(dir, 'stage/inst/disk'), 'D');
    mkdirSync(join(dir, 'inst'));
    expect((await run(join(dir, 'stage/inst'), join(dir, 'inst'))).code).toBe(17);
    expect(readdirSync(join(dir, 'inst'))).toEqual([]);
    expect(readFileSync(join(dir, 'stage/inst/disk'), 'utf8')).toBe('D');
  });

  it('refuses (17) when the destination is a dangling symlink', async () => {
    writeFileSync(join(dir, 'a'), 'A');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'link'));
    expect((await run(join(dir, 'a'), join(dir, 'link'))).code).toBe(17);
    expect(exists(join(dir, 'a'))).toBe(true);
  });

  it("fails with mv's own status when the source is missing, not as a refusal", async () => {
    const r = await run(join(dir, 'missing'), join(dir, 'x'));
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(17);
  });
});
