import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../core/errors.js';
import { arg, argSchemas, remoteLine, shellQuote, sshEquivalent, template } from '../../../adapters/ssh/shell-quote.js';

/** Undo POSIX single quoting of one word made of '…' runs and \\' escapes; undefined if it isn't one. */
function unquote(word: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < word.length) {
    if (word.startsWith("\\'", i)) {
      out += "'";
      i += 2;
    } else if (word[i] === "'") {
      const j = word.indexOf("'", i + 1);
      if (j < 0) return undefined;
      out += word.slice(i + 1, j);
      i = j + 1;
    } else return undefined; // a bare character: the shell would interpret it
  }
  return out;
}

describe('shell quoting and templates', () => {
  it('quotes any string into one word that means exactly that string', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')),
        (s) => {
          expect(unquote(shellQuote(s))).toBe(s);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('fills a template with quoted validated arguments, and a display form for plans', () => {
    const c = template('systemctl stop {unit}', { unit: arg.unit('nova-compute') });
    expect(c.text).toBe("systemctl stop 'nova-compute'");
    expect(c.display).toBe('systemctl stop nova-compute');
    expect(sshEquivalent('c01', c, true)).toBe('ssh c01 sudo systemctl stop nova-compute');
    const g = template('grep -F -e {p} -- {f}', { p: arg.pattern('Connected to AMQP server on'), f: arg.path('/var/log/nova/nova-compute.log') });
    expect(g.text).toBe("grep -F -e 'Connected to AMQP server on' -- '/var/log/nova/nova-compute.log'");
    expect(g.display).toBe("grep -F -e 'Connected to AMQP server on' -- /var/log/nova/nova-compute.log");
  });

  it('refuses values outside the argument schemas', () => {
    for (const bad of ["nova'compute", 'nova compute', '-rf', '$(reboot)', 'a;b', '', 'x\ny']) {
      expect(() => arg.unit(bad)).toThrow(InputError);
    }
    for (const bad of ['relative/path', '/etc/../shadow', '/tmp/a b', "/tmp/'x", '/tmp/$(x)', '//etc']) {
      expect(() => arg.path(bad)).toThrow(InputError);
    }
    expect(() => arg.host('c01;reboot')).toThrow(InputError);
    expect(() => arg.int(-1)).toThrow(InputError);
    expect(() => arg.int(1.5)).toThrow(InputError);
    expect(() => arg.pattern("it's")).toThrow(InputError);
    expect(() => arg.choice('restart' as 'start' | 'stop' | 'restart', ['start', 'stop'])).toThrow(InputError);
  });

  it('no validated value, whatever the input, contains a character the shell treats specially', () => {
    const special = /['"\\`$;&|<>(){}\n\r\t*?[\]#~!]/;
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        for (const k of ['unit', 'container', 'path', 'host', 'pattern'] as const) {
          const r = argSchemas[k].safeParse(s);
          if (r.success) {
            expect(String(r.data)).not.toMatch(special);
            expect(String(r.data).startsWith('-')).toBe(false);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses malformed templates and arguments not made by arg.*', () => {
    expect(() => template('echo {a}', {})).toThrow(/missing/);
    expect(() => template('echo', { a: arg.int(1) })).toThrow(/not used/);
    expect(() => template("echo 'x'", {})).toThrow(/may not contain/);
    expect(() => template('echo $(id)', {})).toThrow(/may not contain/);
    expect(() => template('echo {', {})).toThrow(/stray/);
    const forged = { kind: 'unit', value: "x'; reboot; '" } as unknown as ReturnType<typeof arg.unit>;
    expect(() => template('systemctl stop {u}', { u: forged })).toThrow(/not made by arg/);
  });

  it('sends plain commands as is (sudoers rules match) and shell syntax through sh -c, bounded by timeout', () => {
    const stop = template('systemctl stop {unit}', { unit: arg.unit('nova-compute') });
    expect(remoteLine(stop, { sudo: true, remoteTimeoutSec: 61 })).toBe("timeout -k 5 61 sudo -n -- systemctl stop 'nova-compute'");
    expect(remoteLine(stop, { sudo: false, remoteTimeoutSec: undefined })).toBe("systemctl stop 'nova-compute'");
    const pipe = template('grep -F -e {p} -- {f} | tail -n 5', { p: arg.pattern('AMQP'), f: arg.path('/var/log/x.log') });
    expect(remoteLine(pipe, { sudo: true, remoteTimeoutSec: undefined })).toBe(`sudo -n -- sh -c ${shellQuote(pipe.text)}`);
  });
});

describe('arg.fileName (copy-instances: one name inside a directory)', () => {
  it("takes Nova's names and refuses anything that could leave the directory or be an option", () => {
    for (const ok of ['_base', 'disk.info', '3f8b1c2e-1b7a-4a43-9c7e-0d1f2a3b4c5d', 'instance-0000002a', 'ephemeral_20_40d1d2c', 'lt-copy-abc123-img'])
      expect(arg.fileName(ok).value).toBe(ok);
    for (const bad of ['', '.', '..', '.hidden', '-rf', 'a/b', '../etc', 'a b', "a'b", 'x'.repeat(256)])
      expect(() => arg.fileName(bad), bad).toThrow(InputError);
  });
});
