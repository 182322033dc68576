// `npm run bench`: runs every bench module in this directory (a module exporting functions named
// bench<Something>(): Promise<BenchTable>), prints the tables and writes them as JSON under
// .bench/ (git-ignored). New benches need no registration here: drop a module beside this one.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printTable, type BenchTable } from './table.js';

// The sync bench runs dozens of cars in this one process, each fsync'ing its own board: with
// libuv's default 4 threads their fsyncs would queue behind each other, which no real car (own
// disk, own process) does. Set before the pool starts (the first fs call below).
process.env.UV_THREADPOOL_SIZE ??= '64';

type BenchFn = () => Promise<BenchTable | BenchTable[]>;

async function discover(dir: string): Promise<Array<{ name: string; fn: BenchFn }>> {
  const found: Array<{ name: string; fn: BenchFn }> = [];
  const self = fileURLToPath(import.meta.url);
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.js')).sort()) {
    const path = join(dir, f);
    if (path === self || f === 'table.js') continue;
    const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      if (/^bench[A-Z]/.test(name) && typeof value === 'function') found.push({ name, fn: value as BenchFn });
    }
  }
  return found;
}

async function main(): Promise<void> {
  const only = process.argv[2];
  const benches = (await discover(dirname(fileURLToPath(import.meta.url)))).filter((b) => !only || b.name === only);
  if (benches.length === 0) throw new Error(only ? `no bench named ${only}` : 'no benches found');
  const outDir = join(process.cwd(), '.bench');
  await mkdir(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const b of benches) {
    const started = Date.now();
    const result = await b.fn();
    const tables = Array.isArray(result) ? result : [result];
    for (const t of tables) printTable(t);
    const json = JSON.stringify({ bench: b.name, at: new Date().toISOString(), ms: Date.now() - started, node: process.version, tables }, null, 2);
    await writeFile(join(outDir, `${b.name}-${stamp}.json`), json);
    await writeFile(join(outDir, `${b.name}-latest.json`), json);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
