// The precinct's copy of retained messages that must outlive a broker restart (unit presence).
// aedes keeps retained messages in its in-memory persistence, so without this a restarted
// precinct would forget every car that is offline right now. Entries are keyed by topic (one
// retained message per topic, MQTT 3.1.1 §3.3.1.3) and bounded by the number of topics.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.js';
import type { Logger } from './logger.js';

export class RetainedStore {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly entries: Map<string, Buffer>,
    private readonly log: Logger,
    private readonly maxTopics: number,
  ) {}

  static async open(file: string, log: Logger, maxTopics = 10_000): Promise<RetainedStore> {
    const entries = new Map<string, Buffer>();
    try {
      const raw = JSON.parse(await readFile(file, 'utf8')) as unknown;
      if (raw && typeof raw === 'object') {
        for (const [topic, b64] of Object.entries(raw as Record<string, unknown>)) {
          if (typeof b64 === 'string') entries.set(topic, Buffer.from(b64, 'base64'));
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ file, err }, 'retained store unreadable; starting empty');
    }
    return new RetainedStore(file, entries, log, maxTopics);
  }

  all(): Array<[string, Buffer]> {
    return [...this.entries];
  }

  /** Records the latest retained payload of a topic; an empty payload clears it (§3.3.1.3). */
  record(topic: string, payload: Buffer): void {
    const old = this.entries.get(topic);
    if (old && old.equals(payload)) return;
    if (payload.length === 0) this.entries.delete(topic);
    else if (!old && this.entries.size >= this.maxTopics) {
      this.log.warn({ topic, maxTopics: this.maxTopics }, 'retained store full; message not kept across restarts');
      return;
    } else this.entries.set(topic, payload);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), 500);
      this.timer.unref();
    }
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const snapshot = JSON.stringify(Object.fromEntries([...this.entries].map(([t, p]) => [t, p.toString('base64')])));
    const run = this.writing.then(() =>
      writeFileAtomic(this.file, snapshot, 0o600).catch((err: unknown) => this.log.warn({ err }, 'retained store not saved')),
    );
    this.writing = run;
    return run;
  }
}
