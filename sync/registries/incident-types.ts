// Agency call types (the CAD's nature codes, here in the style of the Dallas PD board in
// test/fixtures/calls) mapped to EIDO's incidentTypeCommonRegistryText (APCO ANS 2.103 common
// incident types) with the agency's default priority. Call states map to EIDO's
// incidentStatusCommonRegistryText, priorities to incidentCommonPriorityNumber. Data, not code.
import type { CallState, Priority } from '../schema.js';

export interface IncidentTypeEntry {
  label: string;
  /** APCO 2.103 common incident type as EIDO carries it. */
  common: string;
  priority: Priority;
  /** Insurance-only reports are routed to CARE operators instead of a unit. */
  careEligible?: boolean;
}

export const INCIDENT_TYPES = {
  '04': { label: '911 hang up', common: 'Law-911HangUp', priority: 2 },
  '07': { label: 'Minor accident', common: 'Traffic-CollisionNoInjury', priority: 3 },
  '7X': { label: 'Major accident', common: 'Traffic-CollisionInjury', priority: 1 },
  '09V': { label: 'Unauthorized use of motor vehicle', common: 'Law-StolenVehicle', priority: 3, careEligible: true },
  '11B': { label: 'Burglary of business', common: 'Law-Burglary', priority: 2 },
  '11R': { label: 'Burglary of residence', common: 'Law-Burglary', priority: 2 },
  '11V': { label: 'Burglary of motor vehicle', common: 'Law-Burglary', priority: 3, careEligible: true },
  '12R': { label: 'Residential alarm', common: 'Law-Alarm', priority: 3 },
  '21R': { label: 'Residential panic alarm', common: 'Law-Alarm', priority: 1 },
  '23': { label: 'Parking violation', common: 'Traffic-Parking', priority: 4 },
  '26': { label: 'Missing person', common: 'Law-MissingPerson', priority: 2 },
  '31': { label: 'Criminal mischief', common: 'Law-Vandalism', priority: 3, careEligible: true },
  '37': { label: 'Street blockage', common: 'Traffic-Hazard', priority: 3 },
  '38': { label: 'Meet complainant', common: 'Law-Assist', priority: 4 },
  '40': { label: 'Other', common: 'Law-Other', priority: 3 },
  '41': { label: 'Robbery', common: 'Law-Robbery', priority: 1 },
  '46A': { label: 'Cutting / stabbing with ambulance', common: 'Law-Assault', priority: 1 },
  '6X': { label: 'Major disturbance (violence)', common: 'Law-Disturbance', priority: 1 },
  '6XE': { label: 'Disturbance, emergency', common: 'Law-Disturbance', priority: 1 },
  PH: { label: 'Panhandler', common: 'Law-Nuisance', priority: 4 },
  THEFT: { label: 'Theft report', common: 'Law-Theft', priority: 3, careEligible: true },
  INS: { label: 'Insurance-only report', common: 'Law-Theft', priority: 4, careEligible: true },
  DIST: { label: 'Disturbance', common: 'Law-Disturbance', priority: 2 },
  BURG: { label: 'Burglary', common: 'Law-Burglary', priority: 2 },
  EIDO: { label: 'Incident received by EIDO', common: 'Law-Other', priority: 3 },
} as const satisfies Record<string, IncidentTypeEntry>;

export type IncidentTypeCode = keyof typeof INCIDENT_TYPES;

/** Unknown agency codes still export: as the registry's catch-all, with the code kept as internal text. */
export function incidentTypeOf(code: string): IncidentTypeEntry {
  return (INCIDENT_TYPES as Record<string, IncidentTypeEntry>)[code] ?? { label: code, common: 'Law-Other', priority: 3 };
}

/** Reverse lookup for imports: the first agency code whose common type matches. */
export function agencyCodeForCommon(common: string): string | undefined {
  return Object.entries(INCIDENT_TYPES as Record<string, IncidentTypeEntry>).find(([, e]) => e.common === common)?.[0];
}

/** Our P1..P4 -> incidentCommonPriorityNumber (1 = most urgent in both). */
export const PRIORITY_EIDO = { 1: 1, 2: 2, 3: 3, 4: 4 } as const satisfies Record<Priority, number>;

/** STA-023 call priorityIdentifier -> our priority, for imports without an incident priority. */
export const CALL_PRIORITY_IDENTIFIER: Record<string, Priority> = { highest: 1, high: 2, normal: 3, low: 4, lowest: 4 };

export const CALL_STATE_EIDO = {
  pending: 'Pending',
  held: 'Pending',
  dispatched: 'Dispatched',
  en_route: 'EnRoute',
  on_scene: 'OnScene',
  cleared: 'Closed',
  cancelled: 'Cancelled',
  // Closed for this sector's board: the incident lives on in the receiving sector's EIDO, and
  // incidentStatusInternalText still says 'transferred'.
  transferred: 'Closed',
} as const satisfies Record<CallState, string>;
