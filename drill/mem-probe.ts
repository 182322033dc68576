// What the drill's own process holds, beyond process.memoryUsage(): the size of Automerge's wasm
// linear memory (it only grows), how many Automerge documents and sync states are alive on the
// wasm side (a JS handle not yet freed, explicitly or by its finalizer), and the V8 heap used after
// the latest full collection. Import this module before anything that imports Automerge: it
// instantiates Automerge's wasm module itself (the ESM entry point then finds it in the CommonJS
// cache) so that it can keep the instance and read its memory.
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

const require = createRequire(import.meta.url);

/** The little of WebAssembly's JS API used here (the project's lib settings do not declare it). */
interface WasmMemory {
  buffer: ArrayBuffer;
}
interface WasmInstance {
  exports: Record<string, unknown>;
}
type WasmInstanceCtor = new (module: unknown, imports?: unknown) => WasmInstance;
const WA = (globalThis as unknown as { WebAssembly: { Instance: WasmInstanceCtor; Memory: new (d: { initial: number }) => WasmMemory } }).WebAssembly;
const instances: WasmInstance[] = [];

interface WasmClass {
  __wrap(ptr: number): object;
  prototype: { free(): void };
}

const counts = { docsMade: 0, docsFreed: 0, docsFinalized: 0, syncMade: 0, syncFreed: 0, syncFinalized: 0 };
let loaded = false;

function count(cls: WasmClass | undefined, made: 'docsMade' | 'syncMade', freed: 'docsFreed' | 'syncFreed', finalized: 'docsFinalized' | 'syncFinalized'): void {
  if (!cls) return;
  const registry = new FinalizationRegistry<null>(() => void (counts[finalized] += 1));
  const wrap = cls.__wrap.bind(cls);
  cls.__wrap = (ptr: number) => {
    const obj = wrap(ptr);
    counts[made] += 1;
    registry.register(obj, null, obj);
    return obj;
  };
  const free = cls.prototype.free;
  cls.prototype.free = function (this: object) {
    if (registry.unregister(this)) counts[freed] += 1;
    free.call(this);
  };
}

try {
  const glue = new URL('../wasm_bindgen_output/nodejs/automerge_wasm.cjs', import.meta.resolve('@automerge/automerge')).pathname;
  const Original = WA.Instance;
  const Capturing = function (module: unknown, imports?: unknown) {
    const i = new Original(module, imports);
    instances.push(i);
    return i;
  } as unknown as WasmInstanceCtor;
  WA.Instance = Capturing;
  let mod: { Automerge?: WasmClass; SyncState?: WasmClass };
  try {
    mod = require(glue) as typeof mod;
  } finally {
    WA.Instance = Original;
  }
  count(mod.Automerge, 'docsMade', 'docsFreed', 'docsFinalized');
  count(mod.SyncState, 'syncMade', 'syncFreed', 'syncFinalized');
  loaded = instances.length > 0;
} catch {
  loaded = false; // another layout of the package: the probe reports NaN
}

// Every collection's heap figures before and after it (v8.GCProfiler): the live heap after a full
// collection is exact, not a sample taken some time later.
interface GcRecord {
  gcType: string;
  beforeGC: { heapStatistics: { usedHeapSize: number; totalHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number; totalHeapSize: number } };
}
let profiler = new v8.GCProfiler();
profiler.start();
let heapAfterGc = NaN;

/** Full collections since the previous call: how many, the live heap after the last, the most the heap held before one. */
function gcWindow(): { fullGcs: number; afterMiB: number; maxBeforeMiB: number } {
  const stats = ((profiler.stop() as { statistics?: GcRecord[] } | undefined)?.statistics ?? []).filter((g) => g.gcType === 'MarkSweepCompact');
  profiler = new v8.GCProfiler();
  profiler.start();
  if (stats.length > 0) heapAfterGc = stats.at(-1)!.afterGC.heapStatistics.usedHeapSize / 2 ** 20;
  return { fullGcs: stats.length, afterMiB: heapAfterGc, maxBeforeMiB: stats.length > 0 ? Math.max(...stats.map((g) => g.beforeGC.heapStatistics.usedHeapSize / 2 ** 20)) : NaN };
}

v8.setFlagsFromString('--expose-gc');
const forceGc = runInNewContext('gc') as () => void;

/**
 * The live V8 heap now, MiB: after a full collection forced here. The collector's own full GCs
 * (about one a minute in the soak's cars process) land at any point of the simulated day, some in
 * an epoch cut's switch-over while each car still holds two boards, so the latest of them swings
 * with the phase (98-216 MiB seen); a forced one at each sample measures the same moment every time.
 */
export function liveHeapMiB(): number {
  forceGc();
  return v8.getHeapStatistics().used_heap_size / 2 ** 20;
}

export interface MemProbe {
  /** Automerge's wasm linear memory, MiB (never shrinks). */
  wasmMiB: number;
  /** Automerge documents and sync states alive on the wasm side (JS handles neither freed nor finalized). */
  docsLive: number;
  docsMade: number;
  syncLive: number;
  /** V8 heap used after the latest full GC, MiB (NaN before the first), and full GCs since the previous probe. */
  heapAfterGcMiB: number;
  fullGcs: number;
  /** Most heap used before one of those full GCs, MiB (NaN if none): how far V8 let garbage pile up. */
  heapBeforeGcMiB: number;
}

/** Call once per sample: the GC figures cover the time since the previous call. */
export function memProbe(): MemProbe {
  const gc = gcWindow();
  const wasmBytes = instances.reduce((n, i) => {
    const m = i.exports.memory;
    return n + (m instanceof WA.Memory ? m.buffer.byteLength : 0);
  }, 0);
  return {
    wasmMiB: loaded ? wasmBytes / 2 ** 20 : NaN,
    docsLive: loaded ? counts.docsMade - counts.docsFreed - counts.docsFinalized : NaN,
    docsMade: loaded ? counts.docsMade : NaN,
    syncLive: loaded ? counts.syncMade - counts.syncFreed - counts.syncFinalized : NaN,
    heapAfterGcMiB: gc.afterMiB,
    fullGcs: gc.fullGcs,
    heapBeforeGcMiB: gc.maxBeforeMiB,
  };
}
