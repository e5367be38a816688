/**
 * Reading nova-compute's log for "Connected to AMQP server on …" (the runbook's check that a
 * restarted nova-compute reached the message bus after a given time). Nova (oslo.log) writes
 * `2026-11-25 14:15:34.123 1234 INFO oslo.messaging._drivers.impl_rabbit [-] Connected to AMQP server on 10.0.0.5:5672 via [amqp] client with port 41234.`
 * in the node's local time; journalctl -o short-iso prefixes `2026-11-25T14:15:34+0000`.
 */

/**
 * The text grepped for, case-insensitively so that oslo.messaging's INFO line "Reconnected to AMQP
 * server on" counts too: since oslo.messaging 12 (Zed included) the first "Connected to AMQP server
 * on" is logged at DEBUG only, so on a node without `debug = True` only reconnections show up.
 */
export const AMQP_CONNECTED = 'connected to AMQP server on';
const AMQP_RE = /connected to AMQP server on/i;

/** One "Connected to AMQP" line. */
export interface AmqpConnection {
  /** Epoch ms. */
  at: number;
  /** `host:port` of the broker, when the line names it. */
  server: string | undefined;
  line: string;
}

const NOVA_TS = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?(?:([+-])(\d{2}):?(\d{2})|Z)?(?=\s)/;

/**
 * Epoch ms of the timestamp a log line starts with, or undefined. A timestamp without a zone is
 * the node's local time: `tzOffsetMinutes` east of UTC (0 when the nodes run in UTC).
 */
export function parseLogTime(line: string, tzOffsetMinutes = 0): number | undefined {
  const m = NOVA_TS.exec(line);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  let t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (Number.isNaN(t) || new Date(t).getUTCDate() !== d) return undefined;
  const offset = m[8] ? (m[8] === '+' ? 1 : -1) * (Number(m[9]) * 60 + Number(m[10])) : m[0].endsWith('Z') ? 0 : tzOffsetMinutes;
  t -= offset * 60_000;
  return t;
}

/** Every AMQP connection line in `text` (lines without a readable time are skipped). */
export function parseAmqpConnections(text: string, tzOffsetMinutes = 0): AmqpConnection[] {
  const out: AmqpConnection[] = [];
  for (const line of text.split('\n')) {
    const hit = AMQP_RE.exec(line);
    if (!hit) continue;
    const i = hit.index;
    const at = parseLogTime(line, tzOffsetMinutes);
    if (at === undefined) continue;
    const server = /^\s*([^\s,]+?)(?:\s+via\b|[.,]?\s*$|\s)/.exec(line.slice(i + AMQP_CONNECTED.length))?.[1];
    out.push({ at, server, line });
  }
  return out;
}

/** The latest connection at or after `sinceMs`, if any. */
export function amqpConnectedSince(text: string, sinceMs: number, tzOffsetMinutes = 0): AmqpConnection | undefined {
  return parseAmqpConnections(text, tzOffsetMinutes)
    .filter((c) => c.at >= sinceMs)
    .sort((a, b) => b.at - a.at)[0];
}
