/**
 * Preloaded (`--import`) into the bot by bench/idle-rss.ts: logs every module file the process loads
 * (CommonJS through Module._resolveFilename, ES modules through a load hook) to CHATOPS_MODULE_LOG, and
 * on SIGUSR2 writes process.memoryUsage() and V8's heap spaces next to it. Bench only; never in production.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import process from 'node:process';
import v8 from 'node:v8';

const log = process.env.CHATOPS_MODULE_LOG;
if (log) {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, ...rest) {
    const f = resolve.call(this, request, parent, ...rest);
    if (f.startsWith('/')) appendFileSync(log, `cjs ${f}\n`);
    return f;
  };
  const hooks = `import{appendFileSync}from'node:fs';export async function load(u,c,n){if(u.startsWith('file:'))appendFileSync(${JSON.stringify(log)},'esm '+u.slice(7)+'\\n');return n(u,c);}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  process.on('SIGUSR2', () => {
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
    writeFileSync(`${log}.memory.json`, JSON.stringify({ memory: process.memoryUsage(), heap: v8.getHeapStatistics(), spaces }));
  });
}
