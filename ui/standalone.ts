// The in-car screen over a real board replica on disk, with no hardware and no network: what the
// bench (bench/ui.ts) and the screen's own tests run, and a way to work on the UI alone. The
// daemon's composition root (daemon/vehicle.ts) builds the real VehicleScreen; this one mirrors
// its actions with a fixed health and no sync.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { FileDocStore } from '../sync/doc-store.js';
import { SectorReplica } from '../sync/replica.js';
import * as board from '../sync/board.js';
import { silentLogger, type Actor, type OpContext, type SectorId, type UnitId, type VehicleId } from '../sync/schema.js';
import type { Logger } from '../sync/logger.js';
import type { Department } from '../daemon/department.js';
import type { AvlPosition } from '../sync/avl.js';
import type { Roster } from '../sync/roster.js';
import type { Station } from '../daemon/department.js';
import type { ScreenEvents, UnitIdentity, VehicleHealth, VehicleScreen } from './screen.js';
import { SAMPLE_BEATS, sampleNotices, sampleReport } from './demo-data.js';

export interface StandaloneOptions {
  dir: string;
  department: Department;
  identity: UnitIdentity;
  roster: Roster | undefined;
  stations: Station[];
  /** Other units on the board (call sign = id), e.g. a second car of the sector. */
  otherUnits?: Array<{ id: string; homeBeat: string }>;
  log?: Logger;
}

export interface Standalone {
  screen: VehicleScreen;
  replica: SectorReplica;
  /** Changes the health the header shows (link, GPS, modem) and pushes it. */
  setHealth(patch: Partial<VehicleHealth>): void;
  setPosition(p: AvlPosition): void;
  /** Dispatcher actions, as the precinct would make them. */
  dispatcher: {
    createCall(input: board.CreateCallInput): Promise<void>;
    assign(callId: string, unitId: string): Promise<void>;
    hold(callId: string, minutes: number, reason: string, unitId?: string): Promise<void>;
    sendMessage(to: string[], text: string): Promise<void>;
    postNotice(input: board.PostNoticeInput): Promise<void>;
  };
  emergencies: number;
}

const DISPATCHER: Actor = { kind: 'operator', operatorId: 'dispatch-1', role: 'dispatcher' };

export async function openStandalone(opts: StandaloneOptions): Promise<Standalone> {
  const { identity } = opts;
  const log = opts.log ?? silentLogger;
  const replica = await SectorReplica.open({ store: new FileDocStore(opts.dir, log), sector: identity.sector as SectorId, epoch: '1', actorId: randomBytes(16).toString('hex'), log });
  const op = (): OpContext => ({ by: DISPATCHER, at: Date.now() });
  const mine = (): OpContext => ({ by: { kind: 'vehicle', vehicleId: identity.vehicleId as VehicleId, unitId: identity.unitId as UnitId }, at: Date.now() });
  const view = replica.view();
  if (!view.units[identity.unitId]) {
    // One durable write for the whole seed (each update is an fsync).
    const now = Date.now();
    await replica.update((doc) => {
      let d = board.upsertUnit(doc, { id: identity.unitId, callSign: identity.callSign, homeBeat: identity.homeBeat, mode: 'car' }, mine());
      for (const b of SAMPLE_BEATS) if (opts.department.beats[String(b.id)]) d = board.upsertBeat(d, b, op());
      d = board.deliverReport(d, sampleReport(identity.unitId, identity.homeBeat, now), { by: { kind: 'operator', operatorId: 'care-1', role: 'care' }, at: now });
      for (const n of sampleNotices(opts.department.sectors[identity.sector]?.beats ?? [], now)) d = board.postNotice(d, n, op());
      for (const u of opts.otherUnits ?? []) {
        const other: OpContext = { by: { kind: 'vehicle', vehicleId: `V-${u.id}` as VehicleId, unitId: u.id as UnitId }, at: now };
        d = board.upsertUnit(d, { id: u.id, callSign: u.id, homeBeat: u.homeBeat, mode: 'car' }, other);
        d = board.signOn(d, { unitId: u.id, officers: ['0000'] }, other);
      }
      return d;
    });
  }
  const events = new EventEmitter<ScreenEvents>();
  replica.on('change', (v) => events.emit('board', v));
  const positions: Record<string, AvlPosition> = {};
  let health: VehicleHealth = {
    gps: { state: 'ok', since: Date.now() },
    modem: { state: 'ok', since: Date.now() },
    inputs: { state: 'ok', since: Date.now() },
    broker: { state: 'online', broker: 'mqtt://127.0.0.1:1883', since: Date.now() },
    sync: { docId: replica.docId, pending: false, peer: `precinct-${identity.precinct}`, waiting: 0 },
    gpsFix: { mode: '3d', at: Date.now(), satellites: 9 },
    modemStatus: { bars: 4, rssiDbm: -71, tech: 'LTE', operator: 'Sim', registration: 'home' },
  };
  const act = (fn: (d: board.SectorBoard, c: OpContext) => board.SectorBoard) => replica.update((d) => fn(d, mine())).then(() => undefined);
  const unitId = identity.unitId;
  const sa: Standalone = {
    replica,
    emergencies: 0,
    setHealth(patch) {
      health = { ...health, ...patch };
      events.emit('health', health);
    },
    setPosition(p) {
      positions[p.unit] = p;
      events.emit('avl', p);
    },
    dispatcher: {
      createCall: (input) => replica.update((d) => board.createCall(d, input, op())).then(() => undefined),
      assign: (callId, u) => replica.update((d) => board.assignUnit(d, { callId, unitId: u }, op())).then(() => undefined),
      hold: (callId, minutes, reason, u) =>
        replica.update((d) => board.holdCall(d, { callId, until: Date.now() + minutes * 60_000, reason, ...(u ? { unitId: u } : {}) }, op())).then(() => undefined),
      sendMessage: (to, text) => replica.update((d) => board.sendMessage(d, { to: to.map((id) => ({ kind: 'unit' as const, id })), text }, op())).then(() => undefined),
      postNotice: (input) => replica.update((d) => board.postNotice(d, input, op())).then(() => undefined),
    },
    screen: {
      identity,
      department: opts.department,
      events,
      board: () => replica.view(),
      health: () => health,
      positions: () => ({ ...positions }),
      presence: () => ({}),
      alerts: () => [],
      roster: () => opts.roster,
      stations: opts.stations,
      actions: {
        setStatus: (status, reason) => act((d, c) => board.setUnitStatus(d, { unitId, status, ...(reason ? { reason } : {}) }, c)),
        acceptCall: (callId) => act((d, c) => board.acceptCall(d, { callId, unitId }, c)),
        addNote: (callId, text) => act((d, c) => board.addNote(d, { callId, text }, c)),
        clearCall: (callId, disposition) => act((d, c) => board.clearCall(d, { callId, disposition }, c)),
        emergency: async () => {
          sa.emergencies += 1;
          await act((d, c) => board.setUnitStatus(d, { unitId, status: 'emergency', reason: 'emergency screen' }, c)).catch(() => undefined);
        },
        signOn: async (o) => {
          const u = replica.view().units[unitId];
          if (u && u.status !== 'off_duty' && u.officers.includes(o.badge)) return;
          await act((d, c) => board.signOn(d, { unitId, officers: [o.badge] }, c));
        },
        signOff: async () => {
          if (replica.view().units[unitId]?.status === 'off_duty') return;
          await act((d, c) => board.signOff(d, { unitId }, c));
        },
        markRead: (reportId) => act((d, c) => board.markRead(d, { reportId, unitId }, c)),
        sendMessage: (to, text) => act((d, c) => board.sendMessage(d, { to, text }, c)),
        markMessageRead: (messageId) => act((d, c) => board.markMessageRead(d, { messageId, unitId }, c)),
      },
    },
  };
  return sa;
}
