// The precinct's announcement of a sector board's current epoch: a small JSON body, retained on
// mdt/v1/epoch/{sector}/{precinct} (sync/topics.ts), so a car learns it the moment it subscribes,
// even when it connects hours after the cut. Cars switch only on what their home precinct
// announces; they never cut by their own clock (docs/sector-board.md, "Epochs").
import { isValidId } from './schema.js';

export interface EpochAnnouncement {
  v: 1;
  sector: string;
  precinct: string;
  /** The live epoch: cars open `${sector}@${epoch}`. */
  epoch: string;
  /** The epoch it was carried from, when this one was opened by a cut. */
  previous?: string;
  /** When the precinct opened this epoch (epoch ms). */
  at: number;
}

export class EpochAnnouncementError extends Error {
  readonly code = 'EPOCH_ANNOUNCEMENT_INVALID';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`epoch announcement: ${field}: ${problem}`);
  }
}

export function encodeEpochAnnouncement(a: EpochAnnouncement): Buffer {
  return Buffer.from(JSON.stringify(a));
}

/** Parses and checks an announcement; throws EpochAnnouncementError naming the bad field. */
export function parseEpochAnnouncement(payload: Buffer): EpochAnnouncement {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new EpochAnnouncementError('(body)', 'not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new EpochAnnouncementError('(body)', 'not an object');
  const o = raw as Record<string, unknown>;
  if (o.v !== 1) throw new EpochAnnouncementError('v', `unknown version ${JSON.stringify(o.v)}`);
  const id = (field: string, optional = false): string | undefined => {
    const value = o[field];
    if (value === undefined && optional) return undefined;
    if (typeof value !== 'string' || !isValidId(value)) throw new EpochAnnouncementError(field, 'expected an id');
    return value;
  };
  const sector = id('sector')!;
  const precinct = id('precinct')!;
  const epoch = id('epoch')!;
  const previous = id('previous', true);
  if (typeof o.at !== 'number' || !Number.isSafeInteger(o.at) || o.at < 0) throw new EpochAnnouncementError('at', 'expected epoch milliseconds');
  return { v: 1, sector, precinct, epoch, ...(previous !== undefined ? { previous } : {}), at: o.at };
}
