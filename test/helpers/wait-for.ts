/**
 * The one way tests wait: poll a probe until it yields a value (anything but undefined or false),
 * starting every 25 ms and backing off to `intervalMs`; a probe that throws is tried again and its
 * last error is named if time runs out. No fixed sleeps in tests.
 */
export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** The longest pause between two probes (default 200 ms; the first ones come sooner). */
  intervalMs?: number;
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: number | WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 200 } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (let delay = Math.min(25, intervalMs); ; delay = Math.min(delay * 1.5, intervalMs)) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${lastError ? `error: ${(lastError as Error).message}` : String(last)})`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
