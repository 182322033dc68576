// The station directory shown on the beat page: precinct and neighborhood stations with their
// addresses and phones, and upcoming neighborhood watch meetings. It is reference data a
// department edits rarely, read from a JSON file at start (vehicle config `directoryFile`; the
// sample department's invented stations by default). It belongs in the precinct-published data
// eventually (docs/in-car-screen.md, "What the board still needs").
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { packagePath } from '../daemon/paths.js';

const station = z
  .object({
    id: z.string().min(1).max(40),
    name: z.string().min(1).max(120),
    kind: z.enum(['precinct', 'neighborhood']),
    precinct: z.string().min(1).max(40),
    address: z.string().min(1).max(200),
    phone: z.string().min(3).max(40),
    hours: z.string().max(120).optional(),
  })
  .strict();

const notice = z
  .object({
    id: z.string().min(1).max(40),
    title: z.string().min(1).max(200),
    when: z.string().min(1).max(120),
    place: z.string().min(1).max(200),
    precinct: z.string().min(1).max(40),
    beat: z.string().max(40).optional(),
    contact: z.string().max(120).optional(),
  })
  .strict();

export const directorySchema = z.object({ v: z.literal(1), stations: z.array(station).max(200), notices: z.array(notice).max(200) }).strict();
export type Directory = z.infer<typeof directorySchema>;
export type Station = Directory['stations'][number];
export type WatchNotice = Directory['notices'][number];

export const SAMPLE_DIRECTORY = packagePath('ui', 'sample-directory.json');
export const EMPTY_DIRECTORY: Directory = { v: 1, stations: [], notices: [] };

export async function loadDirectory(file: string): Promise<Directory> {
  const raw: unknown = JSON.parse(await readFile(file, 'utf8'));
  const parsed = directorySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
