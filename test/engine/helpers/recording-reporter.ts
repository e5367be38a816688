/** A reporter that keeps every event, for assertions. */
import type { OperationEvent, Reporter } from '../../../engine/reporter.js';

export class RecordingReporter implements Reporter {
  readonly events: OperationEvent[] = [];
  emit(e: OperationEvent): void {
    this.events.push(e);
  }
  of<T extends OperationEvent['type']>(type: T): Extract<OperationEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<OperationEvent, { type: T }> => e.type === type);
  }
}
