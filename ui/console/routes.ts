// Routes of the Watch Commander console, mounted inside the precinct API after its operator
// authentication (so every request here is by a signed-in operator and audit-logged there).
// Forms post here and come back to the page (POST-redirect-GET); the actions are the same
// functions the JSON API uses, so an override from the console is recorded the same way.
// Cross-site forms cannot ride on the session: the sign-in cookie is SameSite=Strict.
import { Hono, type Context } from 'hono';
import type { Logger } from '../../sync/schema.js';
import type { SectorReplica } from '../../sync/replica.js';
import type { Presence } from '../../sync/presence.js';
import type { Department } from '../../daemon/department.js';
import type { Operator } from '../../daemon/operators.js';
import type { PrecinctDispatch } from '../../dispatch/station.js';
import * as actions from '../../dispatch/operator-actions.js';
import * as inboxActions from '../../dispatch/inbox-actions.js';
import { computeFigures } from '../../dispatch/figures.js';
import { activeShifts } from '../../dispatch/schedule.js';
import { renderConsolePage, renderSectors, type ConsoleModel, type SectorPanel } from './page.js';

export interface ConsoleDeps {
  precinct: { id: string; name: string };
  department: Department;
  sectors: ReadonlyMap<string, { replica: SectorReplica; presence: Map<string, Presence> }>;
  /** Read per request: the API can be built before dispatch starts. */
  dispatch: () => PrecinctDispatch;
  log: Logger;
}

type Env = { Variables: { operator: Operator } };

const EIGHT_HOURS = 8 * 3_600_000;

export function createConsole(deps: ConsoleDeps): Hono<Env> {
  const app = new Hono<Env>();

  const model = (op: Operator, message?: ConsoleModel['message']): ConsoleModel => {
    const dispatch = deps.dispatch();
    const now = dispatch.clock.now();
    // The live shift: the watch in progress per the schedule, else the last eight hours.
    const shift = dispatch.schedule ? activeShifts(dispatch.schedule, now).at(-1) : undefined;
    const from = shift?.start ?? now - EIGHT_HOURS;
    const shiftLabel = shift ? `${shift.shift} watch since ${new Date(shift.start).toISOString().slice(11, 16)}Z` : 'last 8 hours';
    const sectors: SectorPanel[] = [...deps.sectors].map(([sector, s]) => {
      const board = s.replica.view();
      return {
        sector,
        beats: deps.department.sectors[sector]?.beats ?? [],
        board,
        adjacent: dispatch.dispatcher.adjacentSectors(sector),
        expected: dispatch.dispatcher.expectations(sector),
        presence: Object.fromEntries([...s.presence].map(([u, p]) => [u, p.state])),
        figures: computeFigures([{ sector, board }], (beat, unit, at) => dispatch.isBeatOfficer(sector, beat, unit, at), from, now, dispatch.holdMs),
        shiftLabel,
      };
    });
    return {
      precinct: deps.precinct,
      operator: op,
      now,
      holdMs: dispatch.holdMs,
      sectors,
      scheduleWarnings: dispatch.scheduleWarnings,
      beats: [...deps.sectors.keys()].flatMap((s) => deps.department.sectors[s]?.beats ?? []),
      ...(message ? { message } : {}),
    };
  };
  const actionDeps = (): actions.ActionDeps => ({ precinct: deps.precinct, department: deps.department, sectors: deps.sectors, dispatch: deps.dispatch() });

  app.get('/', (c) => {
    const ok = c.req.query('ok');
    const error = c.req.query('error');
    const message = error ? { kind: 'error' as const, text: error } : ok ? { kind: 'ok' as const, text: ok } : undefined;
    return c.html(renderConsolePage(model(c.get('operator'), message)));
  });
  app.get('/console/boards', (c) => c.html(renderSectors(model(c.get('operator')))));

  const form = async (c: Context<Env>): Promise<Record<string, string>> => {
    const body = await c.req.parseBody();
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v.trim();
    return out;
  };
  /** Runs an action and goes back to the page with its outcome; a refusal names the field. */
  const act = async (c: Context<Env>, anchor: string, run: () => Promise<string>) => {
    let query: string;
    try {
      query = `ok=${encodeURIComponent(await run())}`;
    } catch (err) {
      const e = actions.fromBoardError(err);
      query = `error=${encodeURIComponent(`${e.field ? `${e.field}: ` : ''}${e.message}`)}`;
    }
    return c.redirect(`/?${query}#${anchor}`, 303);
  };
  const reason = (f: Record<string, string>) => {
    if (!f.reason) throw new actions.ActionError(400, 'invalid', 'reason', 'give a reason: it is recorded in the call history');
    return f.reason.slice(0, 160);
  };

  app.post('/console/calls/:id/assign', async (c) => {
    const f = await form(c);
    const id = c.req.param('id');
    return act(c, `sector-${sectorOf(id)}`, async () => {
      if (!f.unitId) throw new actions.ActionError(400, 'invalid', 'unitId', 'choose an available unit');
      await actions.assignByHand(actionDeps(), c.get('operator'), id, { unitId: f.unitId, reason: reason(f) });
      return `${f.unitId} assigned to call ${id}`;
    });
  });
  app.post('/console/calls/:id/update', async (c) => {
    const f = await form(c);
    const id = c.req.param('id');
    return act(c, `sector-${sectorOf(id)}`, async () => {
      const priority = Number(f.priority);
      if (![1, 2, 3, 4].includes(priority)) throw new actions.ActionError(400, 'invalid', 'priority', 'choose a priority, P1 to P4');
      const call = await actions.updateCall(actionDeps(), c.get('operator'), id, {
        priority: priority as 1 | 2 | 3 | 4,
        late: f.late === 'on',
        ...(f.beat ? { beat: f.beat } : {}),
        ...(f.type ? { type: f.type } : {}),
        ...(f.address ? { address: f.address } : {}),
        reason: reason(f),
      });
      return `call ${id} updated: ${actions.lastDecision(call) ?? call.state}`;
    });
  });
  app.post('/console/calls/:id/transfer', async (c) => {
    const f = await form(c);
    const id = c.req.param('id');
    return act(c, `sector-${f.toSector ?? ''}`, async () => {
      if (!f.toSector) throw new actions.ActionError(400, 'invalid', 'toSector', 'choose the sector to transfer to');
      const { sector, call } = await actions.transferCall(actionDeps(), c.get('operator'), id, { toSector: f.toSector, reason: reason(f) });
      return `call ${id} transferred to sector ${sector}: ${actions.lastDecision(call) ?? call.state}`;
    });
  });
  app.post('/console/calls/:id/release', async (c) => {
    const f = await form(c);
    const id = c.req.param('id');
    return act(c, `sector-${sectorOf(id)}`, async () => {
      const call = await actions.releaseHold(actionDeps(), c.get('operator'), id, { reason: reason(f) });
      return `hold on call ${id} released: ${actions.lastDecision(call) ?? call.state}`;
    });
  });
  app.post('/console/calls/:id/extend', async (c) => {
    const f = await form(c);
    const id = c.req.param('id');
    return act(c, `sector-${sectorOf(id)}`, async () => {
      const minutes = Number(f.minutes);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 120) throw new actions.ActionError(400, 'invalid', 'minutes', 'a whole number of minutes, 1 to 120');
      await actions.extendHold(actionDeps(), c.get('operator'), id, { minutes, reason: reason(f) });
      return `hold on call ${id} extended by ${minutes} min`;
    });
  });
  app.post('/console/reports', async (c) => {
    const f = await form(c);
    return act(c, 'care', async () => {
      // datetime-local has no zone: the form says UTC.
      const incidentAt = Date.parse(`${f.incidentAt ?? ''}Z`);
      if (!f.incidentAt || Number.isNaN(incidentAt)) throw new actions.ActionError(400, 'invalid', 'incidentAt', 'give the incident time');
      const r = await actions.createReport(actionDeps(), c.get('operator'), {
        beat: f.beat ?? '',
        ...(f.callId ? { callId: f.callId } : {}),
        title: f.title ?? '',
        body: f.body ?? '',
        incidentAt,
      });
      return `report ${r.id} delivered to ${r.recipients.map((x) => x.id).join(', ')}`;
    });
  });

  // Messages and notices (dispatch/inbox-actions.ts): the API's rules, recorded the same way.
  app.post('/console/messages', async (c) => {
    const body = await c.req.parseBody({ all: true });
    const picked = ([] as unknown[]).concat(body.to ?? []).filter((v): v is string => typeof v === 'string');
    const text = typeof body.text === 'string' ? body.text.trim() : '';
    return act(c, 'dispatch-message', async () => {
      if (picked.length === 0) throw new actions.ActionError(400, 'invalid', 'to', 'choose at least one unit');
      const bySector = new Map<string, string[]>();
      for (const v of picked) {
        const [sector, unit] = v.split('/');
        if (!sector || !unit) throw new actions.ActionError(400, 'invalid', 'to', `not a sector/unit pair: ${v}`);
        bySector.set(sector, [...(bySector.get(sector) ?? []), unit]);
      }
      const sent: string[] = [];
      for (const [sector, to] of bySector) {
        const m = await inboxActions.sendDispatchMessage(actionDeps(), c.get('operator'), { sector, to, text });
        deps.log.info({ audit: true, operator: c.get('operator').id, message: m.id, sector, to }, 'message to units sent');
        sent.push(...to);
      }
      return `message sent to ${sent.join(', ')}`;
    });
  });
  app.post('/console/messages/:sector/:id/read', async (c) => {
    const { sector, id } = c.req.param();
    return act(c, `messages-${sector}`, async () => {
      await inboxActions.markDispatchRead(actionDeps(), c.get('operator'), sector, id);
      deps.log.info({ audit: true, operator: c.get('operator').id, message: id, sector }, 'message to dispatch read');
      return `message ${id} marked read`;
    });
  });
  app.post('/console/notices', async (c) => {
    const f = await form(c);
    return act(c, 'notice', async () => {
      // datetime-local has no zone: the form says UTC.
      const startsAt = Date.parse(`${f.startsAt ?? ''}Z`);
      if (!f.startsAt || Number.isNaN(startsAt)) throw new actions.ActionError(400, 'invalid', 'startsAt', 'give the meeting time');
      const posted = await inboxActions.postWatchNotice(actionDeps(), c.get('operator'), {
        title: f.title ?? '',
        startsAt,
        place: f.place ?? '',
        ...(f.details ? { details: f.details } : {}),
        ...(f.beat ? { beat: f.beat } : {}),
      });
      deps.log.info({ audit: true, operator: c.get('operator').id, notices: posted.map((p) => `${p.sector}/${p.notice.id}`) }, 'watch meeting notice posted');
      return `notice posted to sector ${posted.map((p) => p.sector).join(', ')}`;
    });
  });

  function sectorOf(callId: string): string {
    try {
      return actions.findCall(actionDeps(), callId).sector;
    } catch {
      return '';
    }
  }

  return app;
}
