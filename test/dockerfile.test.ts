/**
 * No Docker engine runs here, so the Dockerfile is kept correct by reading it: every path it copies
 * exists, the entry point it runs is what the build emits, and it runs as a non-root user with a
 * health check on /healthz.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const build = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')) as { include: string[] };

describe('Dockerfile', () => {
  it('copies only paths that exist in the repository', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(sources.length).toBeGreaterThan(5);
    for (const s of sources) expect(existsSync(s), s).toBe(true);
  });

  it('builds every source folder the image copies and runs what the build emits', () => {
    const copied = [...dockerfile.matchAll(/^COPY (\w+) \.\/\1$/gm)].map((m) => m[1]!);
    expect(copied.sort()).toEqual([...build.include].sort());
    expect(dockerfile).toMatch(/CMD \["node", (?:"--[a-z-]+(?:=\d+)?", )*"dist\/compose\/main\.js"\]/);
    expect(build.include).toContain('compose');
    expect(existsSync('compose/main.ts')).toBe(true);
  });

  it('leaves the Slack stand-in and the terminal client out of the image (local mode only)', () => {
    expect(build.include).not.toContain('slack-standin');
    expect(build.include).not.toContain('local-mode');
    expect(dockerfile).not.toMatch(/^COPY (slack-standin|local-mode|test)\b/m);
  });

  it('runs as a non-root user on Node 20 with a health check', () => {
    expect(dockerfile.match(/^FROM node:20-bookworm-slim/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER chatops$/m);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
  });
});
