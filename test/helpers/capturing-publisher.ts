// An always-online publisher that keeps what it was asked to publish, for tests of the precinct's
// epoch code (cut, announce, sync) without a broker.
import type { EpochPublisher } from '../../sync/precinct-epochs.js';

export class CapturingPublisher implements EpochPublisher {
  readonly sent: Array<{ topic: string; payload: Buffer; retain: boolean }> = [];
  isOnline(): boolean {
    return true;
  }
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    this.sent.push({ topic, payload, retain: opts.retain ?? false });
    return Promise.resolve();
  }
}
