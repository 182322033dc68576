// Single-entity reads used by the operations to validate a request against the current state.
// They scan only one entity's log keys, so an operation costs O(keys) rather than a full readBoard.
import type { CallView, StoredCallEvent, StoredUnitEvent, UnitView } from '../schema.js';
import { keysOf, type SectorBoard } from './common.js';
import { ARCHIVED, deriveCall, deriveUnit, terminalOf } from './derive.js';

export function callView(doc: SectorBoard, id: string): CallView | undefined {
  const call = doc.calls[id];
  if (!call) return undefined;
  const events: StoredCallEvent[] = [];
  for (const k of keysOf(doc.callLog, id)) {
    const e = doc.callLog[k];
    if (e) events.push(e);
  }
  return deriveCall(id, call, events);
}

export function unitView(doc: SectorBoard, id: string): UnitView | undefined {
  const unit = doc.units[id];
  if (!unit) return undefined;
  const events: StoredUnitEvent[] = [];
  for (const k of keysOf(doc.unitLog, id)) {
    const e = doc.unitLog[k];
    if (e) events.push(e);
  }
  return deriveUnit(id, unit, events, (c) => {
    const call = callView(doc, c);
    return call ? terminalOf(call) : ARCHIVED;
  }, []);
}
