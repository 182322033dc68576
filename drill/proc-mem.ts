// What a child process's resident memory is made of, read from /proc/PID/smaps without touching
// the process. RSS alone mixes four things that behave differently: the V8 heap (garbage stays
// resident until a full GC), Automerge's wasm linear memory (it never shrinks: a high-water mark),
// other anonymous memory (malloc arenas, Buffers' backing stores, stacks) and file-backed pages
// (node's own code and libraries).
//
// V8 reserves the whole address range a WebAssembly memory may ever reach (8 GiB here, with guard
// regions) and makes only the memory's current pages accessible: each wasm memory shows in smaps
// as a writable anonymous mapping directly followed by a no-access one, the two spanning several
// GiB. In the node processes looked at nothing else does (glibc's malloc arenas have the same
// shape at 64 MiB, far under the threshold), so the Rss of those writable mappings is the wasm
// memory resident.
import { readFileSync } from 'node:fs';
import { rss } from './common.js';
import type { GcTrace } from './gc-trace.js';

const MiB = 2 ** 20;
const WASM_SPAN = 4 * 2 ** 30;

export interface MemComposition {
  /** Sum of the mappings' Rss, MiB (VmRSS give or take a page table's worth). */
  rss: number;
  /** Resident pages of WebAssembly memories (Automerge's), MiB. */
  wasm: number;
  /** Their size (the accessible part of the reservation: what the memories have grown to), MiB. */
  wasmSize: number;
  /** Other anonymous memory, MiB: the V8 heap, malloc arenas, Buffers, stacks. */
  anon: number;
  /** File-backed pages, MiB: code and libraries. */
  file: number;
}

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  rss: number;
  anonymous: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/;
const FIELD = /^(Rss|Anonymous):\s+(\d+) kB$/;

export function parseSmaps(text: string): MemComposition {
  const maps: Mapping[] = [];
  for (const line of text.split('\n')) {
    const h = HEADER.exec(line);
    if (h) {
      maps.push({ start: BigInt(`0x${h[1]}`), end: BigInt(`0x${h[2]}`), perms: h[3]!, path: h[4]!, rss: 0, anonymous: 0 });
      continue;
    }
    const f = FIELD.exec(line);
    const m = maps.at(-1);
    if (f && m) m[f[1] === 'Rss' ? 'rss' : 'anonymous'] = Number(f[2]) * 1024;
  }
  const out = { rss: 0, wasm: 0, wasmSize: 0, anon: 0, file: 0 };
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    const wasm = m.path === '' && m.perms.startsWith('rw') && next !== undefined && next.start === m.end && next.path === '' && next.perms === '---p' && next.end - m.start >= WASM_SPAN;
    out.rss += m.rss;
    if (wasm) {
      out.wasm += m.rss;
      out.wasmSize += Number(m.end - m.start);
    } else {
      out.anon += m.anonymous;
      out.file += m.rss - m.anonymous;
    }
  });
  return { rss: out.rss / MiB, wasm: out.wasm / MiB, wasmSize: out.wasmSize / MiB, anon: out.anon / MiB, file: out.file / MiB };
}

/** The composition of a process's resident memory, or NaN figures if it is gone (or not ours to read). */
export function memComposition(pid: number | undefined): MemComposition {
  try {
    if (pid === undefined) throw new Error('no pid');
    return parseSmaps(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  } catch {
    return { rss: NaN, wasm: NaN, wasmSize: NaN, anon: NaN, file: NaN };
  }
}

export interface NodeMemory extends MemComposition {
  /** VmRSS, MiB. */
  vmRss: number;
  /** V8 heap used after the latest full GC of each isolate (the station's: main thread and broker worker), MiB. */
  heap: number;
  /** V8 heap committed, garbage room included, MiB. */
  committed: number;
  /** Anonymous memory outside the V8 heaps (malloc arenas, Buffers, stacks), MiB. */
  outside: number;
}

/**
 * A daemon's memory as the drills judge it (a child started with --trace-gc): what it keeps alive
 * (heap after GC, wasm resident, anonymous memory outside the V8 heaps) beside its RSS, which
 * the garbage room V8 gives its heaps swings.
 */
export function nodeMemory(pid: number | undefined, gc: GcTrace): NodeMemory {
  const c = memComposition(pid);
  const committed = gc.heapCommitted();
  return { ...c, vmRss: rss(pid), heap: gc.heapAfterGc(), committed, outside: c.anon - committed };
}
