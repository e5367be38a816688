/** How this run treats the journal. */
export interface RunMode {
  /** An in-doubt step reconciliation cannot decide: ask (default), or what an approved Resume chose. */
  inDoubt?: 'ask' | 'rerun' | 'mark-done';
  /** Run only the cleanup (`always`) steps not yet done: the operation is being aborted. */
  abort?: boolean;
  /** Who caused this run (audit), e.g. "U1@T1". */
  actor?: string;
}
