// A change with its dependency hashes shortened (sync/compact-change.ts) must come back byte for
// byte, or not at all: an unknown dependency is a gap, a wrong one fails the checksum.
import * as A from '@automerge/automerge';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactChange, expandChange } from '../../../sync/compact-change.js';

/** A document whose last change has `deps` dependencies (concurrent heads merged first). */
function changeWithDeps(deps: number): { doc: A.Doc<Record<string, number>>; change: Uint8Array } {
  let doc = A.from<Record<string, number>>({ base: 0 }, '0a0a0a0a0a0a0a0a');
  const forks = Array.from({ length: deps }, (_, i) => A.change(A.clone(doc, `0b0b0b0b0b0b0b${i}0`), (d) => void (d[`k${i}`] = i)));
  for (const f of forks) doc = A.merge(doc, f);
  doc = A.change(A.clone(doc, '0c0c0c0c0c0c0c0c'), (d) => void (d.status = 7));
  return { doc, change: A.getLastLocalChange(doc)! };
}

function resolverFor(doc: A.Doc<unknown>): (prefix: string) => string | undefined {
  const all = A.getAllChanges(doc).map((c) => A.decodeChange(c).hash);
  return (prefix) => all.find((h) => h.startsWith(prefix));
}

describe('compact changes', () => {
  it.each([1, 2, 3])('restores a change with %i dependencies exactly, 24 B shorter per dependency', (n) => {
    const { doc, change } = changeWithDeps(n);
    const meta = A.decodeChange(change);
    expect(meta.deps).toHaveLength(n);
    const compact = compactChange(change)!;
    // Each hash 32 -> 8 B, and the chunk's length field (1-2 B) dropped.
    expect(change.length - compact.length - 24 * n).toBeGreaterThanOrEqual(1);
    expect(change.length - compact.length - 24 * n).toBeLessThanOrEqual(2);
    const x = expandChange(compact, resolverFor(doc));
    if ('gap' in x) throw new Error('unexpected gap');
    expect(Buffer.from(x.change)).toEqual(Buffer.from(change));
    expect(x.hash).toBe(meta.hash);
    expect(x.deps).toEqual(meta.deps);
  });

  it('reports a dependency the receiver does not hold as a gap', () => {
    const { change } = changeWithDeps(2);
    const known = A.decodeChange(change).deps[0]!;
    const x = expandChange(compactChange(change)!, (p) => (known.startsWith(p) ? known : undefined));
    expect(x).toEqual({ gap: A.decodeChange(change).deps[1]!.slice(0, 16) });
  });

  it('refuses a restoration that is not the sender\'s change (wrong dependency, altered byte)', () => {
    const { doc, change } = changeWithDeps(1);
    const other = A.decodeChange(A.getAllChanges(doc)[0]!).hash;
    expect(() => expandChange(compactChange(change)!, () => other)).toThrow(/checksum/);
    const altered = compactChange(change)!;
    altered[altered.length - 3]! ^= 1;
    expect(() => expandChange(altered, resolverFor(doc))).toThrow(/checksum/);
  });

  it('leaves what is not a plain change chunk to go as it is, and throws a clear error on a bad body', () => {
    expect(compactChange(new Uint8Array([1, 2, 3]))).toBeUndefined();
    const { doc, change } = changeWithDeps(1);
    const truncatedLength = Uint8Array.from(change);
    truncatedLength[9] = 0x7f; // the chunk's length no longer matches its bytes
    expect(compactChange(truncatedLength)).toBeUndefined();
    expect(() => expandChange(new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, 5, 1, 2]), resolverFor(doc))).toThrow(/truncated/);
    expect(() => expandChange(new Uint8Array([9, 9, 9]), resolverFor(doc))).toThrow(/not a compact Automerge change/);
  });

  it('never restores random or mutated bytes into anything but an error, a gap or the change itself', () => {
    const { doc, change } = changeWithDeps(2);
    const compact = compactChange(change)!;
    const resolve = resolverFor(doc);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(compact.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
        const mutated = Uint8Array.from(compact);
        for (const [at, x] of flips) mutated[at]! ^= x;
        let out;
        try {
          out = expandChange(mutated, resolve);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          return;
        }
        if ('gap' in out) return;
        // Flips confined to the magic or chunk type would throw; anything restored is the original.
        expect(Buffer.from(out.change)).toEqual(Buffer.from(change));
      }),
      { numRuns: 500 },
    );
  });
});
