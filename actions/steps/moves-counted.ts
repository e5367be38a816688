/**
 * How many instances a run of move steps has moved, for the card's progress and the 25/50/75%
 * replies, when the steps run side by side (a window, `parallel=N`) and a restarted bot resumes:
 * the steps this process finished plus those the journal had finished before (their outputs), each
 * counted once.
 */
export interface MoveCounter {
  /** Step `id` just ended: the count before it as last reported (`from`) and now (`reached`). */
  ended(id: string, outputs: Readonly<Record<string, unknown>>): { from: number; reached: number };
}

export function movesCounted(steps: readonly { id: string; instances: number }[]): MoveCounter {
  const here = new Set<string>();
  let reported: number | undefined;
  return {
    ended(id, outputs) {
      here.add(id);
      let n = 0;
      for (const s of steps) if (here.has(s.id) || outputs[s.id] !== undefined) n += s.instances;
      // A resumed process announces no mark an earlier one passed.
      const from = reported ?? n - 1;
      reported = Math.max(reported ?? 0, n);
      return { from, reached: reported };
    },
  };
}

/** The marks a long move announces in the thread: a quarter, half and three quarters of `total`. */
export function quarterMarks(total: number): number[] {
  return [...new Set([0.25, 0.5, 0.75].map((f) => Math.ceil(total * f)))].filter((n) => n > 0 && n < total);
}
