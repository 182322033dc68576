// The epoch announcement on the wire: its body, its topic, and who may publish or read it.
import { describe, expect, it } from 'vitest';
import { authorizePublish, authorizeSubscribe, type Identity } from '../../../sync/acl.js';
import { encodeEpochAnnouncement, parseEpochAnnouncement } from '../../../sync/epoch-announce.js';
import { nextEpochId } from '../../../sync/epoch.js';
import { renderMosquittoAcl } from '../../../sync/mosquitto-acl.js';
import { parseTopic, topics } from '../../../sync/topics.js';

const car: Identity = { kind: 'vehicle', vehicleId: 'V1', unitId: 'NB1', sector: 'B', precinct: 'N' };
const station: Identity = { kind: 'precinct', precinct: 'N', peerId: 'precinct-N', sectors: ['B'] };

describe('epoch announcement', () => {
  it('round-trips and names the bad field of a malformed body', () => {
    const a = { v: 1 as const, sector: 'B', precinct: 'N', epoch: '2026-11-28', previous: '2026-11-27', at: 1 };
    expect(parseEpochAnnouncement(encodeEpochAnnouncement(a))).toEqual(a);
    expect(() => parseEpochAnnouncement(Buffer.from('{'))).toThrow(/\(body\): not JSON/);
    expect(() => parseEpochAnnouncement(Buffer.from(JSON.stringify({ ...a, epoch: 'a/b' })))).toThrow(/epoch: expected an id/);
    expect(() => parseEpochAnnouncement(Buffer.from(JSON.stringify({ ...a, at: -1 })))).toThrow(/at: expected epoch milliseconds/);
    expect(() => parseEpochAnnouncement(Buffer.from(JSON.stringify({ ...a, v: 2 })))).toThrow(/v: unknown version/);
  });

  it('lives on its own retained topic that only the precinct writes and its cars read', () => {
    const t = topics.epoch('B', 'N');
    expect(parseTopic(t)).toEqual({ kind: 'epoch', sector: 'B', precinct: 'N' });
    expect(authorizePublish(station, t, 100).allow).toBe(true);
    expect(authorizePublish(station, topics.epoch('B', 'E'), 100)).toMatchObject({ allow: false });
    expect(authorizePublish(car, t, 100)).toMatchObject({ allow: false, reason: 'only the precinct announces the epoch' });
    expect(authorizePublish(station, t, 4096)).toMatchObject({ allow: false });
    expect(authorizeSubscribe(car, topics.epochAll('B')).allow).toBe(true);
    expect(authorizeSubscribe(car, topics.epochAll('C'))).toMatchObject({ allow: false });
    const acl = renderMosquittoAcl({ precinct: 'N', sectors: ['B'], vehicles: [{ vehicleId: 'V1', unitId: 'NB1', sector: 'B' }] });
    expect(acl).toContain('topic write mdt/v1/epoch/B/N');
    expect(acl).toContain('topic read mdt/v1/epoch/B/+');
  });

  it('names epochs by the service day in the configured time zone, never repeating an id', () => {
    const at = Date.UTC(2026, 10, 28, 12, 0); // 04:00 in Los Angeles
    expect(nextEpochId('1', at, 'America/Los_Angeles')).toBe('2026-11-28');
    expect(nextEpochId('2026-11-27', Date.UTC(2026, 10, 28, 7, 30), 'America/Los_Angeles')).toBe('2026-11-27.2');
    expect(nextEpochId('2026-11-28', at, 'America/Los_Angeles')).toBe('2026-11-28.2');
    expect(nextEpochId('2026-11-28.2', at, 'America/Los_Angeles')).toBe('2026-11-28.3');
  });
});
