/**
 * Collects one output stream up to a byte cap and counts the rest, so a command that prints 100 MB
 * costs at most `max` bytes of memory. `head` keeps the beginning (stdout: the answer comes
 * first), `tail` keeps the end (stderr: the reason for a failure comes last).
 */
export class CappedOutput {
  private chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte seen, kept or not. */
  totalBytes = 0;

  constructor(
    readonly max: number,
    readonly keep: 'head' | 'tail',
  ) {}

  get truncated(): boolean {
    return this.totalBytes > this.kept;
  }

  push(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    if (this.keep === 'head') {
      const room = this.max - this.kept;
      if (room <= 0) return;
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      // Copy a slice so the big chunk it came from can be freed.
      this.chunks.push(part === chunk ? chunk : Buffer.from(part));
      this.kept += part.length;
      return;
    }
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept > this.max) {
      const first = this.chunks[0]!;
      const excess = this.kept - this.max;
      if (first.length <= excess) {
        this.chunks.shift();
        this.kept -= first.length;
      } else {
        this.chunks[0] = Buffer.from(first.subarray(excess));
        this.kept -= excess;
      }
    }
  }

  /** The kept text; when truncated, with a visible mark saying how much was dropped. */
  text(): string {
    const body = Buffer.concat(this.chunks).toString('utf8');
    if (!this.truncated) return body;
    const dropped = this.totalBytes - this.kept;
    return this.keep === 'head'
      ? `${body}\n[… output truncated: ${dropped} more bytes not shown (kept the first ${this.kept} of ${this.totalBytes}) …]`
      : `[… output truncated: ${dropped} earlier bytes not shown (kept the last ${this.kept} of ${this.totalBytes}) …]\n${body}`;
  }
}
