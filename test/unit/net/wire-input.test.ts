// Everything that arrives from the wire: envelope, topics, JSON payloads, ACL decisions for
// links, the breadcrumb bound, and the Mosquitto ACL generated from the registry.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { decodeEnvelope, encodeEnvelope, PayloadRejected } from '../../../sync/envelope.js';
import { parseTopic, topics } from '../../../sync/topics.js';
import { appendBreadcrumb, parseAvl, type AvlPosition } from '../../../sync/avl.js';
import { parseAlert, parsePresence } from '../../../sync/presence.js';
import { authorizePublish, authorizeSubscribe, type Identity } from '../../../sync/acl.js';
import { renderMosquittoAcl } from '../../../sync/mosquitto-acl.js';
import { VehicleRegistry } from '../../../sync/credentials.js';

describe('decoding hostile bytes', () => {
  it('decodeEnvelope either returns an envelope or throws PayloadRejected, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const env = decodeEnvelope(bytes);
          expect(['sync', 'hello']).toContain(env.kind);
        } catch (err) {
          expect(err).toBeInstanceOf(PayloadRejected);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects truncated and oversized envelopes with a reason', () => {
    const good = encodeEnvelope({ kind: 'sync', docId: 'B@1', body: new Uint8Array([1, 2, 3]) });
    for (let n = 0; n < 7; n++) expect(() => decodeEnvelope(good.subarray(0, n))).toThrow(PayloadRejected);
    expect(decodeEnvelope(good).docId).toBe('B@1');
    expect(() => decodeEnvelope(new Uint8Array(2000), 1000)).toThrow(/larger than 1000/);
  });

  it('deflates a sync body only when that makes it smaller, and refuses one that inflates past the cap', () => {
    const repetitive = new Uint8Array(600).fill(7);
    const small = encodeEnvelope({ kind: 'sync', docId: 'B@1', body: repetitive });
    expect(small[1]).toBe(3);
    expect(small.length).toBeLessThan(100);
    expect(Buffer.from(decodeEnvelope(small).body)).toEqual(Buffer.from(repetitive));
    const noise = new Uint8Array(Buffer.from('9f3a71c2e85d04b6aa13f0c9d2e7b8a1', 'hex'));
    const plain = encodeEnvelope({ kind: 'sync', docId: 'B@1', body: noise });
    expect(plain[1]).toBe(1);
    expect(Buffer.from(decodeEnvelope(plain).body)).toEqual(Buffer.from(noise));
    // 1 MB of zeros deflates to about 1 KB: within the payload cap, far beyond it inflated.
    const bomb = Buffer.concat([Buffer.from([1, 3, 3]), Buffer.from('B@1'), deflateRawSync(Buffer.alloc(1_000_000))]);
    expect(bomb.length).toBeLessThan(2000);
    expect(() => decodeEnvelope(bomb, 64 * 1024)).toThrow(/does not inflate within 65536 B/);
    expect(() => decodeEnvelope(Buffer.from([1, 3, 3, 0x42, 0x40, 0x31, 0xff, 0x00]))).toThrow(PayloadRejected);
  });

  it('carries a change as it is (whole or compact) and an 8-byte ack, and refuses an empty change or a wrong-sized ack', () => {
    const change = Buffer.from([0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]);
    const env = decodeEnvelope(encodeEnvelope({ kind: 'change', docId: 'B@1', body: change }));
    expect(env.kind).toBe('change');
    expect(Buffer.from(env.body)).toEqual(change);
    const ack = encodeEnvelope({ kind: 'ack', docId: 'B@1', body: Buffer.alloc(8, 7) });
    expect(ack.length).toBe(3 + 3 + 8);
    expect(decodeEnvelope(ack).kind).toBe('ack');
    expect(() => decodeEnvelope(Buffer.from([1, 4, 3, 0x42, 0x40, 0x31]))).toThrow(/empty change body/);
    expect(() => decodeEnvelope(encodeEnvelope({ kind: 'ack', docId: 'B@1', body: Buffer.alloc(7) }))).toThrow(/an ack body is 8 B, not 7/);
    const compact = decodeEnvelope(encodeEnvelope({ kind: 'compact', docId: 'B@1', body: change }));
    expect([compact.kind, encodeEnvelope({ kind: 'compact', docId: 'B@1', body: change })[1]]).toEqual(['compact', 6]);
    expect(() => decodeEnvelope(Buffer.from([1, 6, 3, 0x42, 0x40, 0x31]))).toThrow(/empty compact body/);
    expect(() => decodeEnvelope(Buffer.from([1, 7, 3, 0x42, 0x40, 0x31, 0]))).toThrow(/unknown kind 7/);
  });

  it('JSON payload readers return undefined for garbage, never throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.json().map((j) => new TextEncoder().encode(j))), (bytes) => {
        const b = Buffer.from(bytes);
        expect(() => [parseAvl(b), parsePresence(b), parseAlert(b)]).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });

  it('parseTopic refuses anything outside the layout', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const t = parseTopic(s);
        if (t) expect(s.startsWith('mdt/v1/')).toBe(true);
      }),
    );
    expect(parseTopic('mdt/v1/sync/B/V1/precinct-N')).toEqual({ kind: 'sync', sector: 'B', from: 'V1', to: 'precinct-N' });
    expect(parseTopic('mdt/v1/sync/B/+/precinct-N')).toBeUndefined();
    expect(parseTopic('mdt/v1/avl/B/U1/extra')).toBeUndefined();
  });
});

describe('ACL for precinct links', () => {
  const link: Identity = { kind: 'link', name: 'E', sectors: ['B'] };
  it('lets a link relay only the sectors it was registered for', () => {
    expect(authorizePublish(link, topics.sync('B', 'V1', 'precinct-N'), 100).allow).toBe(true);
    expect(authorizePublish(link, topics.presence('B', 'U1'), 100).allow).toBe(true);
    expect(authorizePublish(link, topics.sync('J', 'V9', 'precinct-N'), 100)).toMatchObject({ allow: false });
    expect(authorizeSubscribe(link, topics.sync('B', 'precinct-N', 'V1')).allow).toBe(true);
    expect(authorizeSubscribe(link, topics.presenceAll('B')).allow).toBe(true);
    expect(authorizeSubscribe(link, 'mdt/v1/#')).toMatchObject({ allow: false });
    expect(authorizeSubscribe(link, topics.presenceAll('J'))).toMatchObject({ allow: false });
    expect(authorizeSubscribe({ kind: 'link', name: 'county' }, 'mdt/v1/#').allow).toBe(true);
  });

  it('authenticates a registered link and refuses a wrong secret or a reserved vehicle id', async () => {
    const reg = VehicleRegistry.inMemory();
    await reg.registerLink('E', ['B'], 'link-secret-123');
    expect(await reg.authenticate('link-E', 'link-secret-123')).toEqual({ kind: 'link', name: 'E', sectors: ['B'] });
    expect(await reg.authenticate('link-E', 'nope')).toEqual({ refused: 'wrong password' });
    expect(await reg.authenticate('link-X', 'nope')).toEqual({ refused: 'unknown link' });
    await expect(reg.register('link-E', { unitId: 'U', sector: 'B', precinct: 'N' }, 'x')).rejects.toThrow(/reserved/);
  });
});

describe('AVL breadcrumbs', () => {
  const pos = (unit: string, at: number): AvlPosition => ({ v: 1, unit, lat: 47.6, lon: -122.3, mode: '3d', at });
  it('keeps a bounded trail per unit, a bounded number of units, and drops replayed positions', () => {
    const trails = new Map<string, AvlPosition[]>();
    for (let i = 1; i <= 50; i++) expect(appendBreadcrumb(trails, pos('U1', i), 20, 2)).toBe(true);
    expect(trails.get('U1')).toHaveLength(20);
    expect(trails.get('U1')![0]!.at).toBe(31);
    expect(appendBreadcrumb(trails, pos('U1', 50), 20, 2)).toBe(false); // replay
    expect(appendBreadcrumb(trails, pos('U1', 10), 20, 2)).toBe(false); // out of order
    expect(appendBreadcrumb(trails, pos('U2', 1), 20, 2)).toBe(true);
    expect(appendBreadcrumb(trails, pos('U3', 1), 20, 2)).toBe(false); // unit cap
  });
});

describe('Mosquitto ACL from the registry', () => {
  it('gives each car only its sector and unit, the station its sectors, and revoked cars nothing', () => {
    const acl = renderMosquittoAcl({
      precinct: 'N',
      sectors: ['B'],
      vehicles: [
        { vehicleId: 'V1', unitId: 'U1', sector: 'B' },
        { vehicleId: 'V2', unitId: 'U2', sector: 'B', revoked: true },
      ],
      bridges: ['county'],
    });
    expect(acl).toContain('user V1\ntopic write mdt/v1/sync/B/V1/precinct-N\ntopic read mdt/v1/sync/B/+/V1');
    expect(acl).toContain('topic write mdt/v1/presence/B/U1');
    expect(acl).not.toContain('user V2');
    expect(acl).toContain('user precinct-N');
    expect(acl).toContain('user county\ntopic readwrite mdt/v1/#');
    expect(() => renderMosquittoAcl({ precinct: 'N', sectors: ['B'], vehicles: [{ vehicleId: 'V1\ntopic readwrite #', unitId: 'U', sector: 'B' }] })).toThrow(/not a valid topic id/);
  });
});
