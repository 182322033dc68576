// Durable whole-file replace: write a temp file, fsync it, rename over the target, fsync the
// directory. After a crash the file is either the old or the new content, never a torn mix.
import { open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    // writeFile loops until every byte is written or throws (a bare write() may stop short
    // on a full disk without an error, and a short file renamed over a good one is a loss).
    const handle = await open(tmp, 'w', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined); // give the space back
    throw err;
  }
  await fsyncDir(dirname(file));
}
