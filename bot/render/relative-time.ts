/** Times as people read them in a channel: UTC, and relative to now ("in 3 h", "12 min ago"). */

/** `2026-12-01 02:00 UTC` (seconds only when they are not zero). */
export function utcText(ms: number): string {
  const iso = new Date(ms).toISOString();
  const secs = iso.slice(17, 19);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}${secs === '00' ? '' : `:${secs}`} UTC`;
}

/** "in 3 h", "in 1 h 30 min", "in 12 min", "in 40 s", "now", "5 min ago". */
export function relativeTime(at: number, now: number): string {
  const d = at - now;
  const abs = Math.abs(d);
  if (abs < 1000) return 'now';
  const s = Math.round(abs / 1000);
  let text: string;
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.round(s / 60)} min`;
  else if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    text = m ? `${h} h ${m} min` : `${h} h`;
  } else {
    const days = Math.floor(s / 86_400);
    const h = Math.round((s % 86_400) / 3600);
    text = h ? `${days} d ${h} h` : `${days} d`;
  }
  return d > 0 ? `in ${text}` : `${text} ago`;
}
