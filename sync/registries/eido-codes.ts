// The remaining EIDO registry texts the export needs, in one table per field so an agency (or
// the NENA registry once checked) can correct them without touching code.
import type { PatrolMode } from '../schema.js';

export const EIDO_VERSION = '1.0';

/** agencyComponent of the exporting police agency. */
export const AGENCY_ROLE = ['Dispatching', 'Responding'];
export const AGENCY_TYPE = ['police'];

/** emergencyResourceTypeCommonRegistryText for every unit of this department. */
export const RESOURCE_TYPE = 'LawEnforcement';

/** resourceAttributeRegistryText by patrol mode. */
export const PATROL_MODE_ATTRIBUTE = {
  car: ['PatrolCar'],
  foot: ['FootPatrol'],
  bicycle: ['BicyclePatrol'],
} as const satisfies Record<PatrolMode, readonly string[]>;

export const AGENT_ROLE_OFFICER = ['Responder'];
export const AGENT_ROLE_OPERATOR = ['Dispatching'];

/** locationTypeDescriptionRegistryText of the incident location we export. */
export const LOCATION_TYPE_INCIDENT = 'Incident';
