import { describe, expect, it } from 'vitest';
import { MemoryCjiStore, MAX_CJI_TTL_MS, type CjiQueryResult } from '../../../sync/cji-store.js';

const result: CjiQueryResult = {
  source: 'NCIC',
  subject: 'vehicle',
  query: 'LIC/ABC1234.LIS/TX',
  response: 'NO RECORD NCIC IDENTIFIERS LIC/ABC1234',
  requestedBy: { unitId: '3A11', officerId: 'o-4411' },
  receivedAt: 1_000,
};

describe('MemoryCjiStore', () => {
  it('returns a result until it expires, then forgets it', async () => {
    const store = new MemoryCjiStore();
    const h = await store.put(result, { ttlMs: 60_000, now: 1_000 });
    expect(h.ref).toMatch(/^cji:[0-9a-f-]{36}$/);
    expect(h.expiresAt).toBe(61_000);
    expect(await store.get(h.ref, 60_999)).toEqual(result);
    expect(await store.get(h.ref, 61_000)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('keeps nothing in clear and purges on a timer or at once', async () => {
    const store = new MemoryCjiStore();
    const a = await store.put(result, { ttlMs: 1_000, now: 0 });
    await store.put(result, { ttlMs: 5_000, now: 0 });
    const sealed = store.sealedBytesOf(a.ref);
    expect(sealed?.toString('utf8')).not.toContain('ABC1234');
    expect(await store.purgeExpired(2_000)).toBe(1);
    expect(store.size).toBe(1);
    await store.clear();
    expect(store.size).toBe(0);
  });

  it('refuses retention beyond a shift and wrong-size keys', async () => {
    const store = new MemoryCjiStore();
    await expect(store.put(result, { ttlMs: MAX_CJI_TTL_MS + 1, now: 0 })).rejects.toMatchObject({ code: 'too_long' });
    await expect(store.put(result, { ttlMs: 0, now: 0 })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(() => new MemoryCjiStore(Buffer.alloc(16))).toThrow(/32 bytes/);
  });

  it('detects tampering with a sealed result (GCM authentication)', async () => {
    const store = new MemoryCjiStore(Buffer.alloc(32, 1));
    const h = await store.put(result, { ttlMs: 1_000, now: 0 });
    const sealed = store.sealedBytesOf(h.ref);
    if (sealed) sealed[0] = (sealed[0] ?? 0) ^ 1;
    await expect(store.get(h.ref, 0)).rejects.toThrow(/authenticate/);
  });
});
