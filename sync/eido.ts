// EIDO (NENA-STA-021 Emergency Incident Data Object) export of one call, and import of an EIDO as
// a new call: how the board talks to any CAD. Export works from the plain BoardView, so it runs on
// any replica; every registry text comes from sync/registries/ (data, not code).
import { createCall, type SectorBoard } from './board.js';
import { reqId } from './ops/common.js';
import { DISPOSITIONS, isDisposition } from './registries/dispositions.js';
import {
  AGENCY_ROLE,
  AGENCY_TYPE,
  AGENT_ROLE_OFFICER,
  EIDO_VERSION,
  LOCATION_TYPE_INCIDENT,
  PATROL_MODE_ATTRIBUTE,
  RESOURCE_TYPE,
} from './registries/eido-codes.js';
import { agencyCodeForCommon, CALL_PRIORITY_IDENTIFIER, CALL_STATE_EIDO, incidentTypeOf, INCIDENT_TYPES, PRIORITY_EIDO } from './registries/incident-types.js';
import {
  SECONDARY_BACK_TO_ASSIGNED_AREA,
  SECONDARY_COP_OR_POP,
  SECONDARY_COVERING_ALTERNATE_AREA,
  UNIT_STATUS_EIDO,
} from './registries/unit-status.js';
import { BoardError, isValidId, type BoardView, type CallView, type OpContext, type Priority, type UnitView } from './schema.js';

type Ref = { $ref: string };
type Json = Record<string, unknown>;

/** The EIDO fields this module writes; the schema allows many more. */
export interface EidoDocument extends Json {
  $id: string;
  lastUpdateTimeStamp: string;
  updatedByAgencyReference: Ref;
  eidoVersion: string;
  issuingElementIdentification: string;
  agencyComponent: Json[];
  incidentComponent: Json;
}

export interface EidoExportOptions {
  /** Globally unique agency identifier (a domain), e.g. `pd.county.example.gov`. */
  agencyId: string;
  /** The element issuing the EIDO, e.g. `precinct1.pd.county.example.gov`. */
  elementId: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export const incidentIdOf = (callId: string, agencyId: string): string => `urn:emergency:uid:incidentid:${callId}:${agencyId}`;
const unitUrn = (unitId: string, agencyId: string): string => `urn:emergency:uid:unitid:${unitId}:${agencyId}`;

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** PIDF-LO (RFC 4119 / RFC 5491) point for the incident, the form EIDO's locationByValue carries. */
function pidfPoint(entity: string, lat: number, lon: number): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" ` +
    `xmlns:gml="http://www.opengis.net/gml" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="${xmlEscape(entity)}"><dm:device id="incident">` +
    `<gp:geopriv><gp:location-info><gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>${lat} ${lon}</gml:pos></gml:Point></gp:location-info>` +
    `<gp:usage-rules/><gp:method>Manual</gp:method></gp:geopriv></dm:device></presence>`
  );
}

function secondaryFor(u: UnitView, call: CallView | undefined): string[] {
  const out: string[] = [...UNIT_STATUS_EIDO[u.status].secondary];
  if (call && call.beat !== u.homeBeat && u.callId === call.id) out.push(SECONDARY_COVERING_ALTERNATE_AREA);
  const last = u.history.at(-1);
  if (u.status === 'available' && last?.callId && call && last.callId === call.id && call.beat !== u.homeBeat) out.push(SECONDARY_BACK_TO_ASSIGNED_AREA);
  if (u.status === 'available' && (u.mode === 'foot' || u.mode === 'bicycle')) out.push(SECONDARY_COP_OR_POP);
  return out;
}

/** One call of the board as an EIDO document (validate it with sync/eido-validate.ts). */
export function exportEido(view: BoardView, callId: string, opts: EidoExportOptions): EidoDocument {
  const call = view.calls[callId];
  if (!call) throw new BoardError('not_found', `call ${callId} is not on board ${view.sector}@${view.epoch}`, 'callId');
  const agency: Ref = { $ref: opts.agencyId };
  const incidentId = incidentIdOf(call.id, opts.agencyId);
  const lastUpdate = Math.max(call.receivedAt, ...call.history.map((h) => h.at));
  const prologue = (id: string, at: number, agent?: string): Json => ({
    $id: id,
    lastUpdateTimeStamp: iso(at),
    updatedByAgencyReference: agency,
    ...(agent ? { updatedByAgentReference: { $ref: agent } } : {}),
  });
  const type = incidentTypeOf(call.type);

  const locationId = `${incidentId}:location`;
  const location: Json = {
    ...prologue(locationId, call.receivedAt),
    locationTypeDescriptionRegistryText: LOCATION_TYPE_INCIDENT,
    locationDescriptionText: call.address,
    ...(call.lat !== undefined && call.lon !== undefined ? { locationByValue: pidfPoint(incidentId, call.lat, call.lon) } : {}),
  };

  const notes: Json[] = [];
  if (call.callerNotes) notes.push({ ...prologue(`${incidentId}:caller-notes`, call.receivedAt), notesActionComments: call.callerNotes });
  call.notes.forEach((n, i) => notes.push({ ...prologue(`${incidentId}:note:${i + 1}`, n.at, n.author), notesActionComments: n.text, agentReference: { $ref: n.author } }));

  const disposition: Json[] = [];
  if (call.state === 'cleared' && call.disposition) {
    const d = isDisposition(call.disposition) ? DISPOSITIONS[call.disposition] : { apco: call.disposition, label: call.disposition };
    disposition.push({
      ...prologue(`${incidentId}:disposition`, call.clearedAt ?? lastUpdate),
      dispositionCommonRegistryCode: d.apco,
      dispositionPrimaryIndicator: true,
      dispositionCategoryText: call.disposition,
      dispositionDescriptionText: d.label,
    });
  }

  const incident: Json = {
    ...prologue(incidentId, lastUpdate),
    incidentTypeCommonRegistryText: type.common,
    incidentTypeInternalCode: call.type,
    incidentTypeInternalText: type.label,
    incidentStatusCommonRegistryText: [CALL_STATE_EIDO[call.state]],
    incidentStatusInternalText: [call.state],
    internalIncidentId: call.cadNumber,
    incidentCommonPriorityNumber: PRIORITY_EIDO[call.priority],
    incidentPriorityInternalText: `P${call.priority}${call.late ? ' (late report)' : ''}`,
    beatOrDispatchGroupText: call.beat,
    locationReference: [{ $ref: locationId }],
    ...(notes.length ? { notesReference: notes.map((n) => ({ $ref: n.$id as string })) } : {}),
    ...(disposition.length ? { dispositionComponent: disposition } : {}),
  };

  // Units on the call, plus units the held call waits for (EIDO: stackedOnIncidentId).
  const related = Object.values(view.units).filter((u) => call.assigned.includes(u.id) || u.stacked.includes(call.id));
  const agents: Json[] = [];
  const resources = related.map((u) => {
    const officerRefs = u.officers.map((_, i) => `${unitUrn(u.id, opts.agencyId)}:officer:${i + 1}`);
    officerRefs.forEach((id) => agents.push({ ...prologue(id, u.statusAt), agentRoleRegistryText: AGENT_ROLE_OFFICER, agencyReference: agency }));
    const r: Json = {
      ...prologue(unitUrn(u.id, opts.agencyId), u.statusAt),
      emergencyResourceTypeCommonRegistryText: RESOURCE_TYPE,
      resourceAttributeRegistryText: [...PATROL_MODE_ATTRIBUTE[u.mode]],
      emergencyResourceName: u.callSign,
      primaryUnitStatusRegistryText: UNIT_STATUS_EIDO[u.status].primary,
      secondaryUnitStatusRegistryText: secondaryFor(u, call),
      unitStatusInternal: [u.status],
      agentReference: officerRefs.map((id) => ({ $ref: id })),
    };
    if (u.callId) r.activeOnIncidentId = incidentIdOf(u.callId, opts.agencyId);
    if (u.stacked.length) r.stackedOnIncidentId = u.stacked.map((c) => incidentIdOf(c, opts.agencyId));
    return r;
  });

  const doc: EidoDocument = {
    $id: incidentId,
    lastUpdateTimeStamp: iso(lastUpdate),
    updatedByAgencyReference: agency,
    eidoVersion: EIDO_VERSION,
    issuingElementIdentification: opts.elementId,
    agencyComponent: [{ ...prologue(opts.agencyId, lastUpdate), agencyRoleDescriptionRegistryText: AGENCY_ROLE, agencyType: AGENCY_TYPE, incidentOwningAgencyIndicator: true }],
    incidentComponent: incident,
    locationComponent: [location],
  };
  if (notes.length) doc.notesComponent = notes;
  if (resources.length) doc.emergencyResourceComponent = resources;
  if (agents.length) doc.agentComponent = agents;
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Import

export interface EidoImportOptions {
  /** Beat to file the call under when the EIDO names none (or one that is not a beat id). */
  beat?: string;
  /** Call id to use; defaults to the CAD number derived from the incident id. */
  id?: string;
}

const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** `urn:emergency:uid:incidentid:<id>:<domain>` -> an id the board accepts. */
function cadNumberOf(urn: string): string {
  const m = /^urn:emergency:uid:(?:incidentid|callid):([^:]+):/.exec(urn);
  const raw = m?.[1] ?? urn;
  const cleaned = raw.replace(/[^A-Za-z0-9._:-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return cleaned || 'EIDO';
}

/** Civic address and point out of a PIDF-LO locationByValue (RFC 5139 element names). */
export function parsePidf(xml: string): { address?: string; lat?: number; lon?: number } {
  const tag = (name: string): string | undefined => {
    const m = new RegExp(`<(?:[A-Za-z0-9]+:)?${name}>([^<]*)</(?:[A-Za-z0-9]+:)?${name}>`).exec(xml);
    return m?.[1]?.trim() || undefined;
  };
  const street = [tag('HNO'), tag('HNS'), tag('PRD'), tag('RD'), tag('STS'), tag('POD')].filter(Boolean).join(' ');
  const parts = [street, tag('A6'), tag('A3'), tag('A1'), tag('PC')].filter((p): p is string => !!p);
  const out: { address?: string; lat?: number; lon?: number } = {};
  if (parts.length) out.address = parts.join(', ');
  const pos = tag('pos');
  if (pos) {
    const [lat, lon] = pos.split(/\s+/).map(Number);
    if (lat !== undefined && lon !== undefined && Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
      out.lat = lat;
      out.lon = lon;
    }
  }
  return out;
}

/**
 * Creates a new call from an EIDO document. Validate the document first (sync/eido-validate.ts)
 * when it comes from outside; this function reads defensively either way and names the field
 * that is missing.
 */
export function importEido(doc: SectorBoard, eido: unknown, ctx: OpContext, opts: EidoImportOptions = {}): SectorBoard {
  const root = obj(eido);
  const rootId = str(root?.$id);
  if (!root || !rootId) throw new BoardError('invalid_input', 'eido: not an EIDO document (no $id)', 'eido');
  const incident = obj(root.incidentComponent) ?? obj(arr(root.incidentComponent)[0]);
  const firstCall = obj(arr(root.callComponent)[0]);

  const cadNumber = cadNumberOf(str(incident?.$id) ?? rootId);
  const internalType = str(incident?.incidentTypeInternalCode);
  const common = str(incident?.incidentTypeCommonRegistryText);
  const type =
    (internalType && internalType in INCIDENT_TYPES ? internalType : undefined) ?? (common ? agencyCodeForCommon(common) : undefined) ?? 'EIDO';

  let priority: Priority = incidentTypeOf(type).priority;
  const pn = incident?.incidentCommonPriorityNumber;
  if (typeof pn === 'number' && Number.isInteger(pn)) priority = Math.min(4, Math.max(1, pn)) as Priority;
  else {
    const pi = str(firstCall?.priorityIdentifier);
    if (pi && CALL_PRIORITY_IDENTIFIER[pi]) priority = CALL_PRIORITY_IDENTIFIER[pi];
  }

  let address: string | undefined;
  let lat: number | undefined;
  let lon: number | undefined;
  for (const l of arr(root.locationComponent).map(obj)) {
    if (!l) continue;
    const byValue = str(l.locationByValue);
    const parsed = byValue ? parsePidf(byValue) : {};
    address ??= parsed.address ?? str(l.locationDescriptionText);
    if (lat === undefined && parsed.lat !== undefined && parsed.lon !== undefined) {
      lat = parsed.lat;
      lon = parsed.lon;
    }
  }
  if (!address) {
    const byRef = arr(root.locationComponent).map(obj).map((l) => str(l?.locationByReferenceUrl)).find(Boolean);
    address = byRef ? `location by reference: ${byRef}` : undefined;
  }
  if (!address) throw new BoardError('invalid_input', 'eido.locationComponent: no address, description or location reference', 'locationComponent');

  const beatText = str(incident?.beatOrDispatchGroupText);
  const beat = beatText && isValidId(beatText) ? beatText : opts.beat;
  if (!beat) throw new BoardError('invalid_input', 'eido.incidentComponent.beatOrDispatchGroupText: none given and no default beat', 'beat');

  const noteTexts = arr(root.notesComponent).map((n) => str(obj(n)?.notesActionComments)).filter((t): t is string => !!t);
  const source = `EIDO ${rootId} from ${str(root.issuingElementIdentification) ?? 'unknown element'}`;
  const callerNotes = [...noteTexts, source].join('\n').slice(0, 2000);

  const startedAt = Date.parse(str(firstCall?.callStartTimestamp) ?? str(root.lastUpdateTimeStamp) ?? '');
  const receivedAt = Number.isFinite(startedAt) && startedAt >= 0 ? startedAt : ctx.at;

  return createCall(
    doc,
    {
      id: opts.id === undefined ? cadNumber : reqId('id', opts.id),
      cadNumber,
      type,
      priority,
      address: address.slice(0, 200),
      beat,
      callerNotes,
      receivedAt,
      ...(lat !== undefined && lon !== undefined ? { lat, lon } : {}),
    },
    ctx,
  );
}
