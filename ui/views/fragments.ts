// Every live part of the screen as an HTML fragment keyed by the id of the element it fills.
// The daemon renders them (one renderer, typed, tested with app.request) and pushes only those
// that changed over SSE; the page's script swaps them in. While nobody is signed on, or the
// screen is locked, the board's fragments are empty: nothing of the sector shows on a locked car.
import { isClosedCallState, type BoardView, type CallView, type MessageParty, type MessageView, type UnitView } from '../../sync/schema.js';
import type { AvlPosition } from '../../sync/avl.js';
import type { Department, Station } from '../../daemon/department.js';
import { DISPOSITIONS } from '../../sync/registries/dispositions.js';
import type { SessionView } from '../session.js';
import type { UnitIdentity, VehicleHealth } from '../screen.js';
import { h, type Markup } from './html.js';
import { CALL_STATE_LABEL, PRIORITY_LABEL, STATUS_LABEL, age, clock, left } from './format.js';
import { dynamicLayer, type Projection } from './map.js';

export interface ScreenModel {
  identity: UnitIdentity;
  /** Undefined unless an officer is signed on and the screen is unlocked. */
  board: BoardView | undefined;
  health: VehicleHealth;
  positions: Record<string, AvlPosition>;
  session: SessionView;
  department: Department;
  /** The department's station directory (daemon/department.ts loadStations). */
  stations: Station[];
  projection: Projection | undefined;
  now: number;
}

export const FRAGMENT_IDS = ['hdr-status', 'hdr-call', 'hdr-gps', 'hdr-modem', 'hdr-link', 'banner', 'msg-alert', 'alerts', 'queue', 'detail', 'map-dyn', 'inbox', 'inbox-count', 'msg-to', 'beat', 'lock-info'] as const;
export type FragmentId = (typeof FRAGMENT_IDS)[number];
export type Fragments = Record<FragmentId, string>;

/** Non-markup facts the script needs: which status button is pressed, the session state. */
export interface ScreenMeta {
  session: SessionView['state'];
  status: string | null;
  call: string | null;
}

export const isOpen = (c: CallView) => !isClosedCallState(c.state);

function openCalls(view: BoardView): CallView[] {
  return Object.values(view.calls)
    .filter(isOpen)
    .sort((a, b) => a.priority - b.priority || a.receivedAt - b.receivedAt);
}

function me(m: ScreenModel): UnitView | undefined {
  return m.board?.units[m.identity.unitId];
}

/** Accept: a call dispatched to this unit, or (self-dispatch) any open call while this unit is free. */
function mayAccept(view: BoardView, unit: string, c: CallView): boolean {
  const u = view.units[unit];
  if (!u) return false;
  if (c.assigned.includes(unit)) return u.status === 'dispatched' && u.callId === c.id;
  return u.status === 'available';
}

const priority = (c: CallView) => h`<span class="prio p${c.priority}"><b>P${c.priority}</b> ${PRIORITY_LABEL[c.priority]}</span>`;
const since = (t: number, now: number) => h`<span class="age" data-since="${t}">${age(now - t)}</span>`;
const callSign = (view: BoardView, id: string) => view.units[id]?.callSign ?? id;

function header(m: ScreenModel): Pick<Fragments, 'hdr-status' | 'hdr-call' | 'hdr-gps' | 'hdr-modem' | 'hdr-link'> {
  const u = me(m);
  const call = u?.callId ? m.board?.calls[u.callId] : undefined;
  const h0 = m.health;
  const fix = h0.gpsFix;
  let gps: Markup;
  if (h0.gps.state === 'missing') gps = h`<span class="bad">No GPS</span>`;
  else if (!fix || fix.mode === 'none') gps = h`<span class="warn">No fix</span>`;
  else gps = h`<span class="${h0.gps.state === 'ok' ? 'good' : 'warn'}">${fix.mode.toUpperCase()} fix</span>`;
  const ms = h0.modemStatus;
  const bars = ms ? Math.max(0, Math.min(5, ms.bars)) : 0;
  const modem =
    h0.modem.state === 'missing' || !ms
      ? h`<span class="bad" aria-label="modem: no signal">No modem</span>`
      : h`<span class="bars b${bars}" aria-hidden="true"><i></i><i></i><i></i><i></i><i></i></span><span class="${bars >= 2 ? '' : 'warn'}">${ms.tech ?? ''} ${bars}/5</span>`;
  const link = h0.broker;
  const waiting = h0.sync.waiting;
  let linkText: Markup;
  if (link.state === 'online') linkText = h`<span class="good">Online</span>${waiting > 0 ? h` <span class="muted">· syncing ${waiting}</span>` : ''}`;
  else linkText = h`<span class="bad">${link.state === 'connecting' ? 'Connecting' : 'OFFLINE'}</span> <span class="${waiting > 0 ? 'warn' : 'muted'}">· ${waiting} waiting</span>`;
  return {
    'hdr-status': u ? h`<span class="st s-${u.status}">${STATUS_LABEL[u.status]}</span>${u.statusReason && u.status !== 'available' ? h` <small>${u.statusReason}</small>` : ''}`.value : '',
    'hdr-call': call
      ? h`<button type="button" class="linkish" data-open-call="${call.id}">${priority(call)} ${call.type} · ${call.address}</button>`.value
      : m.board
        ? h`<span class="muted">No call</span>`.value
        : '',
    'hdr-gps': gps.value,
    'hdr-modem': modem.value,
    'hdr-link': linkText.value,
  };
}

function banner(m: ScreenModel): string {
  const view = m.board;
  if (!view) return '';
  const mine = openCalls(view).filter((c) => c.state !== 'held' && c.assigned.includes(m.identity.unitId) && view.units[m.identity.unitId]?.status === 'dispatched' && view.units[m.identity.unitId]?.callId === c.id);
  return mine
    .map(
      (c) =>
        h`<div class="new-call p${c.priority}" data-new-call="${c.id}" role="alert"><span class="nc-title">NEW CALL</span> ${priority(c)} <strong>${c.type}</strong> · ${c.address} · beat ${c.beat}
        <span class="nc-actions"><button type="button" class="primary big" data-accept="${c.id}">Accept</button><button type="button" data-open-call="${c.id}">Details</button></span></div>`.value,
    )
    .join('');
}

function alerts(m: ScreenModel): string {
  const view = m.board;
  if (!view) return '';
  const em = Object.values(view.units).filter((u) => u.status === 'emergency');
  return em
    .map((u) => h`<div class="emergency-alert" role="alert">EMERGENCY: ${u.id === m.identity.unitId ? 'this unit' : `unit ${u.callSign}`} since ${clock(u.statusAt)}${u.statusReason ? ` (${u.statusReason})` : ''}</div>`.value)
    .join('');
}

function queue(m: ScreenModel): string {
  const view = m.board;
  if (!view) return '';
  const calls = openCalls(view);
  const unit = m.identity.unitId;
  const rows = calls.map((c) => {
    const mine = c.assigned.includes(unit);
    const canAccept = mayAccept(view, unit, c);
    const state =
      c.state === 'held' && c.hold
        ? h`<span class="held">Held <span class="countdown" data-until="${c.hold.deadline}">${left(c.hold.deadline - m.now)}</span></span><br><small>${c.hold.reason}${c.hold.unitId ? ` (for ${callSign(view, c.hold.unitId)})` : ''}</small>`
        : h`${CALL_STATE_LABEL[c.state]}`;
    return h`<tr data-call="${c.id}" class="${mine ? 'mine' : ''}">
      <td>${priority(c)}</td><td>${c.type}${c.late ? h` <small class="muted">(late report)</small>` : ''}</td><td>${c.address}</td><td>${c.beat}</td>
      <td>${since(c.receivedAt, m.now)}</td><td>${c.assigned.map((a) => callSign(view, a)).join(', ') || h`<span class="muted">none</span>`}</td><td>${state}</td>
      <td class="row-actions">${canAccept ? h`<button type="button" class="primary" data-accept="${c.id}" aria-label="Accept call ${c.cadNumber}">Accept</button>` : ''}<button type="button" data-open-call="${c.id}" aria-label="Open call ${c.cadNumber}">Open</button></td></tr>`;
  });
  return h`<table class="calls"><caption>${calls.length} open call${calls.length === 1 ? '' : 's'} in sector ${m.identity.sector}</caption>
    <thead><tr><th scope="col">Priority</th><th scope="col">Type</th><th scope="col">Address</th><th scope="col">Beat</th><th scope="col">Age</th><th scope="col">Units</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${rows.length ? rows : h`<tr><td colspan="8" class="muted">No open calls.</td></tr>`}</tbody></table>`.value;
}

const EVENT_LABEL: Record<string, string> = {
  created: 'Received',
  assigned: 'Assigned',
  accepted: 'Accepted',
  en_route: 'En route',
  on_scene: 'On scene',
  transporting: 'Transporting',
  held: 'Held',
  released: 'Hold released',
  note: 'Note',
  cleared: 'Cleared',
  cancelled: 'Cancelled',
  unassigned: 'Unit left',
};

function detail(m: ScreenModel): string {
  const view = m.board;
  if (!view) return '';
  const unit = m.identity.unitId;
  const myCall = view.units[unit]?.callId;
  const calls = openCalls(view);
  if (myCall && !calls.some((c) => c.id === myCall) && view.calls[myCall]) calls.push(view.calls[myCall]);
  return calls
    .map((c) => {
      const beat = view.beats[c.beat];
      const assignedMe = c.assigned.includes(unit);
      return h`<article class="call-detail" data-detail="${c.id}" aria-labelledby="d-${c.id}">
      <h2 id="d-${c.id}">${priority(c)} ${c.type} <small class="muted">CAD ${c.cadNumber}</small></h2>
      <div class="detail-actions">
        ${mayAccept(view, unit, c) ? h`<button type="button" class="primary big" data-accept="${c.id}">Accept</button>` : ''}
        ${assignedMe ? h`<button type="button" class="big" data-clear="${c.id}">Clear call…</button>` : ''}
        <button type="button" class="big" data-note-for="${c.id}">Add note…</button>
      </div>
      <div class="cols">
        <section><h3>Location</h3><p class="address">${c.address}</p><p>Beat <strong>${c.beat}</strong>${c.lat !== undefined && c.lon !== undefined ? h` · ${c.lat.toFixed(5)}, ${c.lon.toFixed(5)}` : ''}</p>
          <h3>Caller notes</h3><p class="notes">${c.callerNotes || h`<span class="muted">None.</span>`}</p>
          <h3>Assigned units</h3><ul class="plain">${c.assigned.length ? c.assigned.map((a) => h`<li>${callSign(view, a)} · ${view.units[a] ? STATUS_LABEL[view.units[a].status] : 'unknown'}</li>`) : h`<li class="muted">None</li>`}</ul>
          ${c.state === 'held' && c.hold ? h`<p class="held">Held: ${c.hold.reason}; releases in <span class="countdown" data-until="${c.hold.deadline}">${left(c.hold.deadline - m.now)}</span></p>` : ''}
        </section>
        <section><h3>Beat ${c.beat}: known hazards and problems</h3>
          ${beat && (beat.profile.crimeProblems.length || beat.profile.characteristics)
            ? h`<p class="muted source">From the beat profile of ${c.beat}${beat.updatedAt ? ` (updated ${new Date(beat.updatedAt).toISOString().slice(0, 10)})` : ''}: the beat's crime problems, not a premise history of this address.</p>
              ${beat.profile.characteristics ? h`<p>${beat.profile.characteristics}</p>` : ''}<ul class="hazards">${beat.profile.crimeProblems.map((p) => h`<li>${p}</li>`)}</ul>`
            : h`<p class="muted">No beat profile on the board: no known hazards for beat ${c.beat}.</p>`}
          <h3>Timeline</h3><ol class="timeline">${c.history
            .filter((e) => e.event !== 'note')
            .map((e) => h`<li><time>${clock(e.at)}</time> ${EVENT_LABEL[e.event] ?? e.event}${e.unitId ? ` · ${callSign(view, e.unitId)}` : ''}${e.reason ? h` <small class="muted">${e.reason}</small>` : ''}</li>`)}</ol>
        </section>
      </div>
      <section><h3>Narrative</h3><ol class="narrative">${c.notes.length ? c.notes.map((n) => h`<li><time>${clock(n.at)}</time> <b>${n.author}</b>: ${n.text}</li>`) : h`<li class="muted">No notes yet.</li>`}</ol></section>
    </article>`.value;
    })
    .join('');
}

/** What this unit's inbox holds: messages to or from it, its CARE reports, the sector's notices. */
interface InboxItems {
  messages: MessageView[];
  unreadMessages: MessageView[];
  reports: BoardView['inbox'][string][];
  unreadReports: number;
  notices: BoardView['notices'][string][];
  unreadNotices: number;
}

const addressedTo = (msg: MessageView, unit: string) => msg.to.some((p) => p.kind === 'unit' && p.id === unit);

function inboxItems(view: BoardView, m: ScreenModel): InboxItems {
  const unit = m.identity.unitId;
  const messages = Object.values(view.messages)
    .filter((x) => addressedTo(x, unit) || (x.from.kind === 'unit' && x.from.id === unit))
    .sort((a, b) => b.sentAt - a.sentAt || (a.id < b.id ? 1 : -1));
  const unreadMessages = messages.filter((x) => addressedTo(x, unit) && x.readBy[unit] === undefined);
  const reports = Object.values(view.inbox)
    .filter((r) => r.recipients.some((x) => x.id === unit) || r.beat === m.identity.homeBeat)
    .sort((a, b) => Number(a.readBy[unit] !== undefined) - Number(b.readBy[unit] !== undefined) || b.deliveredAt - a.deliveredAt);
  const unreadReports = reports.filter((r) => r.readBy[unit] === undefined && r.recipients.some((x) => x.id === unit)).length;
  const notices = Object.values(view.notices).sort((a, b) => a.startsAt - b.startsAt);
  const unreadNotices = notices.filter((n) => n.readBy[unit] === undefined).length;
  return { messages, unreadMessages, reports, unreadReports, notices, unreadNotices };
}

function partyLabel(view: BoardView, p: MessageParty, me: string): string {
  if (p.kind === 'dispatch') return 'Dispatch';
  return p.id === me ? 'this unit' : callSign(view, p.id);
}

/** Date and time for things days away (meetings), to the minute. */
const dayTime = (ms: number) => `${new Date(ms).toDateString().slice(0, 10)}, ${clock(ms)}`;

function inbox(m: ScreenModel): string {
  const view = m.board;
  if (!view) return '';
  const unit = m.identity.unitId;
  const it = inboxItems(view, m);
  const messageRow = (x: MessageView) => {
    const toMe = addressedTo(x, unit);
    const unread = toMe && x.readBy[unit] === undefined;
    const replyTo = x.from.kind === 'dispatch' ? 'dispatch' : x.from.id;
    const readers = x.to.filter((p) => x.readBy[p.id] !== undefined).map((p) => partyLabel(view, p, unit));
    return h`<li class="${unread ? 'unread' : ''}" data-message="${x.id}"><h3>${unread ? h`<span class="tag">Unread</span> ` : ''}From ${partyLabel(view, x.from, unit)} to ${x.to.map((p) => partyLabel(view, p, unit)).join(', ')} <time class="muted">${clock(x.sentAt)}</time></h3>
      <p class="msg-text">${x.text}</p>
      <div class="row-actions">${unread ? h`<button type="button" class="primary" data-markmsg="${x.id}">Mark read</button>` : toMe ? h`<span class="muted">Read ${clock(x.readBy[unit] ?? 0)}</span>` : h`<span class="muted">${readers.length ? `Read by ${readers.join(', ')}` : 'Not read yet'}</span>`}
      ${toMe ? h`<button type="button" data-compose="${replyTo}">Reply</button>` : ''}</div></li>`;
  };
  return h`<section aria-labelledby="msg-h"><h2 id="msg-h">Messages <span class="count">${it.unreadMessages.length} unread</span></h2>
      <p><button type="button" class="primary big" data-compose="">New message…</button></p>
      ${it.messages.length ? h`<ul class="reports messages">${it.messages.map(messageRow)}</ul>` : h`<p class="muted">No messages to or from this unit.</p>`}</section>
    <section aria-labelledby="care-h"><h2 id="care-h">CARE reports <span class="count">${it.unreadReports} unread</span></h2>
    ${it.reports.length
      ? h`<ul class="reports">${it.reports.map((r) => {
          const read = r.readBy[unit];
          const recipient = r.recipients.some((x) => x.id === unit);
          return h`<li class="${read === undefined && recipient ? 'unread' : ''}" data-report="${r.id}"><h3>${read === undefined && recipient ? h`<span class="tag">Unread</span> ` : ''}${r.title}</h3>
            <p class="muted">Beat ${r.beat} · incident ${clock(r.incidentAt)} · delivered ${clock(r.deliveredAt)}${r.callId ? ` · call ${r.callId}` : ''}</p><p>${r.body}</p>
            ${recipient ? (read === undefined ? h`<button type="button" data-markread="${r.id}">Mark read</button>` : h`<p class="muted">Read ${clock(read)}</p>`) : h`<p class="muted">For the beat officer and supervisors.</p>`}</li>`;
        })}</ul>`
      : h`<p class="muted">No reports for this unit or beat.</p>`}</section>
    <section aria-labelledby="nw-h"><h2 id="nw-h">Neighborhood watch meetings <span class="count">${it.unreadNotices} unread</span></h2>
      ${it.notices.length
        ? h`<ul class="reports notices">${it.notices.map((n) => {
            const read = n.readBy[unit];
            return h`<li class="${read === undefined ? 'unread' : ''}" data-notice="${n.id}"><h3>${read === undefined ? h`<span class="tag">Unread</span> ` : ''}${n.title}${n.beat ? ` (beat ${n.beat})` : ''}</h3>
              <p><time>${dayTime(n.startsAt)}</time> · ${n.place}</p>${n.details ? h`<p>${n.details}</p>` : ''}
              ${read === undefined ? h`<button type="button" data-markread="${n.id}">Mark read</button>` : h`<p class="muted">Read ${clock(read)}</p>`}</li>`;
          })}</ul>`
        : h`<p class="muted">No meetings announced by the precinct.</p>`}</section>`.value;
}

/** The unread total on the Inbox tab: messages, CARE reports and notices for this unit. */
function inboxCount(m: ScreenModel): string {
  if (!m.board) return '';
  const it = inboxItems(m.board, m);
  const n = it.unreadMessages.length + it.unreadReports + it.unreadNotices;
  return n > 0 ? h`<span class="badge" aria-label="${n} unread">${n}</span>`.value : '';
}

/** New messages to this unit, on every view, until read (the script beeps once per message). */
function messageAlert(m: ScreenModel): string {
  if (!m.board) return '';
  const view = m.board;
  const unread = inboxItems(view, m).unreadMessages.slice(0, 3);
  return unread
    .map(
      (x) =>
        h`<div class="new-msg" data-new-message="${x.id}" role="alert"><span class="nc-title">MESSAGE</span> <span class="msg-line">from <strong>${partyLabel(view, x.from, m.identity.unitId)}</strong> <time>${clock(x.sentAt)}</time>: <span class="msg-text">${x.text.length > 140 ? `${x.text.slice(0, 139)}…` : x.text}</span></span>
        <span class="nc-actions"><button type="button" class="primary" data-markmsg="${x.id}">Mark read</button><button type="button" data-goto="inbox">Inbox</button></span></div>`.value,
    )
    .join('');
}

/** Recipients offered in the compose dialog: dispatch and the other units of the sector. */
function messageRecipients(m: ScreenModel): string {
  if (!m.board) return '';
  const view = m.board;
  const others = Object.values(view.units)
    .filter((u) => u.id !== m.identity.unitId)
    .sort((a, b) => a.callSign.localeCompare(b.callSign));
  const choice = (value: string, label: Markup | string) => h`<label class="choice"><input type="checkbox" name="to" value="${value}"> ${label}</label>`;
  return h`${choice('dispatch', h`<strong>Dispatch</strong>`)}${others.map((u) => choice(u.id, h`<strong>${u.callSign}</strong> <small class="muted">beat ${u.homeBeat} · ${STATUS_LABEL[u.status]}</small>`))}`.value;
}

function beatPage(m: ScreenModel): string {
  const view = m.board;
  if (!view) return '';
  const id = m.identity.homeBeat;
  const beat = view.beats[id];
  const plans = beat ? Object.values(beat.plans).sort((a, b) => b.updatedAt - a.updatedAt) : [];
  const stations = m.stations.filter((s) => s.precinct === m.identity.precinct).sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'precinct' ? -1 : 1));
  const others = m.stations.filter((s) => s.precinct !== m.identity.precinct && s.kind === 'precinct');
  return h`<section aria-labelledby="bp-h"><h2 id="bp-h">Beat ${id}${beat && beat.name !== id ? ` · ${beat.name}` : ''}: profile</h2>
    ${beat
      ? h`<p>${beat.profile.characteristics || h`<span class="muted">No description.</span>`}</p>
        <div class="cols"><div><h3>Crime problems</h3><ul>${beat.profile.crimeProblems.map((p) => h`<li>${p}</li>`)}</ul></div>
        <div><h3>Resources</h3><ul>${beat.profile.resources.map((p) => h`<li>${p}</li>`)}</ul></div></div>`
      : h`<p class="muted">No profile for this beat on the board yet.</p>`}</section>
    <section aria-labelledby="plan-h"><h2 id="plan-h">Beat plans</h2>
    ${plans.length
      ? plans.map((p) => h`<article class="plan"><h3>${p.problem}</h3><dl><dt>Analysis</dt><dd>${p.analysis || '—'}</dd><dt>Response</dt><dd>${p.response || '—'}</dd><dt>Assessment</dt><dd>${p.assessment || '—'}</dd></dl><p class="muted">Updated ${new Date(p.updatedAt).toISOString().slice(0, 10)}</p></article>`)
      : h`<p class="muted">No beat plan yet.</p>`}</section>
    <section aria-labelledby="st-h"><h2 id="st-h">Stations</h2>
      <table class="stations"><thead><tr><th scope="col">Station</th><th scope="col">Address</th><th scope="col">Phone</th><th scope="col">Hours</th></tr></thead><tbody>
      ${[...stations, ...others].map((s) => h`<tr><td>${s.name}${s.kind === 'neighborhood' ? h` <small class="muted">neighborhood</small>` : ''}</td><td>${s.address}</td><td class="phone">${s.phone}</td><td>${s.hours ?? ''}</td></tr>`)}
      </tbody></table></section>`.value;
}

function lockInfo(m: ScreenModel): string {
  const s = m.session;
  const roster = s.roster
    ? h`Roster of ${s.roster.officers} officers, from the precinct at ${new Date(s.roster.at).toISOString().slice(0, 16).replace('T', ' ')} UTC.`
    : h`<strong class="warn">No roster on this car yet.</strong> It must reach the precinct once before anyone can sign on.`;
  const throttle = s.retryAt ? h`<p class="warn" role="alert">Too many failed attempts: try again after ${clock(s.retryAt)}.</p>` : '';
  if (s.state === 'locked') {
    return h`<h2>Screen locked</h2><p>${s.name ?? ''} (badge ${s.badge ?? ''}) is signed on to ${m.identity.callSign}. ${s.lockedBy === 'idle' ? 'Locked after inactivity.' : 'Locked by the officer.'}</p>${throttle}`.value;
  }
  if (s.state === 'signed_off') return h`<h2>Sign on to ${m.identity.callSign}</h2><p class="muted">${roster}</p>${throttle}`.value;
  return '';
}

export function renderFragments(m: ScreenModel): Fragments {
  return {
    ...header(m),
    banner: banner(m),
    'msg-alert': messageAlert(m),
    alerts: alerts(m),
    queue: queue(m),
    detail: detail(m),
    'map-dyn': m.projection ? dynamicLayer(m.board, m.board ? m.positions : {}, m.identity.unitId, m.projection).value : '',
    inbox: inbox(m),
    'inbox-count': inboxCount(m),
    'msg-to': messageRecipients(m),
    beat: beatPage(m),
    'lock-info': lockInfo(m),
  };
}

export function renderMeta(m: ScreenModel): ScreenMeta {
  const u = me(m);
  return { session: m.session.state, status: u?.status ?? null, call: u?.callId ?? null };
}

export const DISPOSITION_OPTIONS = Object.entries(DISPOSITIONS).map(([code, d]) => ({ code, label: d.label }));
