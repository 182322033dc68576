// Our unit statuses in the vocabulary of APCO ANS 1.116 (Common Status Codes for Data Exchange)
// as EIDO carries it: primaryUnitStatusRegistryText plus secondaryUnitStatusRegistryText.
// Data, not code: an agency that reads the registry differently edits this table only.
// Values named in NENA's EIDO documentation (Available, Dispatched, EnRoute, OnScene, Cleared,
// OutofService, COP_or_POP, CoveringAlternateArea, BacktoAssignedArea) are used as spelled there;
// docs/sector-board.md lists the ones still to be checked against the registry itself.
import type { UnitStatus } from '../schema.js';

export interface EidoUnitStatus {
  primary: string;
  secondary: string[];
}

export const UNIT_STATUS_EIDO = {
  available: { primary: 'Available', secondary: [] },
  dispatched: { primary: 'Dispatched', secondary: [] },
  en_route: { primary: 'EnRoute', secondary: [] },
  on_scene: { primary: 'OnScene', secondary: [] },
  transporting: { primary: 'OnScene', secondary: ['Transporting'] },
  out_of_service: { primary: 'OutofService', secondary: [] },
  off_duty: { primary: 'OutofService', secondary: ['OffDuty'] },
  emergency: { primary: 'OnScene', secondary: ['Emergency'] },
} as const satisfies Record<UnitStatus, EidoUnitStatus>;

/** Added when a unit works a call outside its home beat (beat integrity is the norm here). */
export const SECONDARY_COVERING_ALTERNATE_AREA = 'CoveringAlternateArea';
/** Added to an available unit whose last call was outside its home beat. */
export const SECONDARY_BACK_TO_ASSIGNED_AREA = 'BacktoAssignedArea';
/** Added to an available foot or bicycle unit: community / problem-oriented policing time. */
export const SECONDARY_COP_OR_POP = 'COP_or_POP';

/** Reverse map for imports: EIDO primary status text -> our status. */
export const EIDO_PRIMARY_TO_STATUS: Record<string, UnitStatus> = {
  Available: 'available',
  Dispatched: 'dispatched',
  EnRoute: 'en_route',
  OnScene: 'on_scene',
  Cleared: 'available',
  OutofService: 'out_of_service',
};
