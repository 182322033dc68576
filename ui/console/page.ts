// The Watch Commander console, server-rendered (hono/html escapes every value): the precinct's
// sector boards, held calls with their countdown and reason, units with status and time in
// status, units the schedule expects but who have not signed on, the overrides, a CARE report
// form and the live shift's figures. One self-contained page: inline style and a small inline
// script (countdowns, and a refresh of the boards that never wipes a form being filled in).
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { actorLabel, type BoardView, type CallView, type UnitView } from '../../sync/schema.js';
import type { Operator } from '../../daemon/operators.js';
import { formatDuration } from '../../dispatch/clock.js';
import { lastDecision } from '../../dispatch/operator-actions.js';
import type { Figures } from '../../dispatch/figures.js';
import { dispatchForms, sectorMessages } from './inbox.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface SectorPanel {
  sector: string;
  beats: string[];
  board: BoardView;
  adjacent: string[];
  expected: Array<{ unit: string; beat: string; shift: string; until: number; signedOn: boolean }>;
  presence: Record<string, string>;
  figures: Figures;
  shiftLabel: string;
}

export interface ConsoleModel {
  precinct: { id: string; name: string };
  operator: Operator;
  now: number;
  holdMs: number;
  sectors: SectorPanel[];
  scheduleWarnings: string[];
  message?: { kind: 'ok' | 'error'; text: string };
  beats: string[];
}

const OPEN = new Set(['pending', 'held', 'dispatched', 'en_route', 'on_scene']);
const time = (t: number) => new Date(t).toISOString().slice(11, 16) + 'Z';

function countdown(deadline: number, now: number): Html {
  return html`<span class="countdown${deadline <= now ? ' overdue' : ''}" data-deadline="${deadline}">${deadline > now ? formatDuration(deadline - now) : `overdue ${formatDuration(now - deadline)}`}</span>`;
}

function since(t: number, now: number): Html {
  return html`<span class="since" data-since="${t}">${formatDuration(now - t)}</span>`;
}

/** CAD update of a call: priority, late flag, beat (of this sector), type, address, with a reason. */
function updateForm(c: CallView, p: SectorPanel): Html {
  return html`<details class="update"><summary>Update</summary><form method="post" action="/console/calls/${c.id}/update">
    <select name="priority" aria-label="priority">${[1, 2, 3, 4].map((n) => html`<option value="${n}"${n === c.priority ? raw(' selected') : ''}>P${n}</option>`)}</select>
    <label><input type="checkbox" name="late"${c.late ? raw(' checked') : ''}> late</label>
    <select name="beat" aria-label="beat">${p.beats.map((b) => html`<option${b === c.beat ? raw(' selected') : ''}>${b}</option>`)}</select>
    <input name="type" value="${c.type}" maxlength="64" aria-label="type"><input name="address" value="${c.address}" maxlength="200" aria-label="address">
    <input name="reason" required maxlength="160" placeholder="reason"><button>Update</button></form></details>`;
}

/** Hand a call without a unit to another sector of the precinct (adjacent ones first). */
function transferForm(c: CallView, p: SectorPanel, model: ConsoleModel): Html {
  const others = model.sectors.map((x) => x.sector).filter((s) => s !== p.sector);
  const ordered = [...p.adjacent.filter((s) => others.includes(s)), ...others.filter((s) => !p.adjacent.includes(s))];
  if (ordered.length === 0 || c.assigned.length > 0) return html``;
  return html`<form method="post" action="/console/calls/${c.id}/transfer"><select name="toSector" required aria-label="to sector">${ordered.map((s) => html`<option value="${s}">sector ${s}${p.adjacent.includes(s) ? ' (adjacent)' : ''}</option>`)}</select><input name="reason" required maxlength="160" placeholder="reason"><button>Transfer</button></form>`;
}

/** Where a call came from or went: the references between sector boards. */
function transferNote(c: CallView): Html {
  const from = c.transferredFrom ? html`<br><small class="transfer">from sector ${c.transferredFrom.sector} (${time(c.transferredFrom.at)})</small>` : '';
  const to = c.transferredTo && c.state !== 'transferred' ? html`<br><small class="transfer contested">also transferred to sector ${c.transferredTo.sector}</small>` : '';
  return html`${from}${to}`;
}

const unitOptions = (units: UnitView[]) => units.filter((u) => u.status === 'available').map((u) => html`<option value="${u.id}">${u.id} (${u.homeBeat})</option>`);

function heldRow(c: CallView, p: SectorPanel, model: ConsoleModel, overrides: boolean): Html {
  const hold = c.hold!;
  const units = Object.values(p.board.units);
  return html`<tr data-call="${c.id}">
    <td>${c.id}${transferNote(c)}</td><td>P${c.priority}${c.late ? ' late' : ''}</td><td>${c.type}<br><small>${c.address}</small></td><td>${c.beat}</td>
    <td>${hold.reason}<br><small>waiting for ${hold.unitId ?? 'any unit'} since ${time(hold.since)}</small></td>
    <td>${countdown(hold.deadline, model.now)}</td>
    <td>${overrides
      ? html`<form method="post" action="/console/calls/${c.id}/release"><input name="reason" required maxlength="160" placeholder="reason"><button>Release</button></form>
      <form method="post" action="/console/calls/${c.id}/extend"><input name="minutes" type="number" min="1" max="120" value="10" required><input name="reason" required maxlength="120" placeholder="reason"><button>Extend</button></form>
      <form method="post" action="/console/calls/${c.id}/assign"><select name="unitId" required>${unitOptions(units)}</select><input name="reason" required maxlength="160" placeholder="reason"><button>Assign</button></form>
      ${transferForm(c, p, model)}${updateForm(c, p)}`
      : ''}</td></tr>`;
}

function openRow(c: CallView, p: SectorPanel, model: ConsoleModel, overrides: boolean): Html {
  const units = Object.values(p.board.units);
  return html`<tr data-call="${c.id}">
    <td>${c.id}${transferNote(c)}</td><td>P${c.priority}${c.late ? ' late' : ''}</td><td>${c.type}<br><small>${c.address}</small></td><td>${c.beat}</td>
    <td>${c.state}${c.assigned.length ? ` (${c.assigned.join(', ')})` : ''}</td><td>${since(c.receivedAt, model.now)}</td>
    <td class="reason">${lastDecision(c) ?? ''}</td>
    <td>${overrides && c.assigned.length === 0
      ? html`<form method="post" action="/console/calls/${c.id}/assign"><select name="unitId" required>${unitOptions(units)}</select><input name="reason" required maxlength="160" placeholder="reason"><button>Assign</button></form>${transferForm(c, p, model)}`
      : ''}${overrides ? updateForm(c, p) : ''}</td></tr>`;
}

function unitRow(u: UnitView, p: SectorPanel, model: ConsoleModel): Html {
  return html`<tr data-unit="${u.id}" class="status-${u.status}">
    <td>${u.id}</td><td>${u.callSign}</td><td>${u.homeBeat}</td><td>${u.officers.join(', ')}</td>
    <td>${u.status.replace(/_/g, ' ')}${u.statusReason ? html`<br><small>${u.statusReason}</small>` : ''}</td>
    <td>${since(u.statusAt, model.now)}</td><td>${u.callId ?? ''}</td><td>${u.stacked.join(', ')}</td><td>${p.presence[u.id] ?? 'never seen'}</td></tr>`;
}

function figuresBlock(p: SectorPanel, model: ConsoleModel): Html {
  const f = p.figures;
  const c = f.counts;
  const pct = (a: number, b: number) => (b === 0 ? '-' : `${Math.round((100 * a) / b)} %`);
  const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;
  const byBeat = [...f.perBeat.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const byUnit = [...f.perUnit.entries()].sort((a, b) => b[1] - a[1]);
  return html`<div class="figures"><h3>Live shift (${p.shiftLabel})</h3><dl>
    <dt>calls</dt><dd>${f.calls}</dd>
    <dt>dispatched immediately</dt><dd>${c.immediate}</dd>
    <dt>held</dt><dd>${f.hold.n} (beat officer took ${c.held_then_beat_officer}, reassigned after deadline ${c.reassigned_after_deadline}, still held ${c.held_open})</dd>
    <dt>hold median / max</dt><dd>${formatDuration(f.hold.medianMs)} / ${formatDuration(f.hold.maxMs)} (limit ${formatDuration(model.holdMs)})</dd>
    <dt>own beat officer</dt><dd>${pct(f.beatIntegrity.ownBeatOfficer, f.beatIntegrity.dispatched)} of ${f.beatIntegrity.dispatched} non-emergency calls</dd>
    <dt>receipt to dispatch</dt><dd>${Object.entries(f.receiptToDispatch).map(([pr, d]) => html`P${pr} median ${formatDuration(d.medianMs)} (n=${d.n}) `)}</dd>
    <dt>time on calls, per beat</dt><dd>${byBeat.map(([b, ms]) => html`${b} ${minutes(ms)} `)}</dd>
    <dt>time on calls, per unit</dt><dd>${byUnit.map(([u, ms]) => html`${u} ${minutes(ms)} `)}</dd>
  </dl></div>`;
}

export function renderSectors(model: ConsoleModel): Html {
  const overrides = model.operator.role === 'dispatcher' || model.operator.role === 'watch_commander';
  return html`${model.sectors.map((p) => {
    const calls = Object.values(p.board.calls).sort((a, b) => a.priority - b.priority || a.receivedAt - b.receivedAt);
    const held = calls.filter((c) => c.state === 'held' && c.hold);
    const open = calls.filter((c) => OPEN.has(c.state) && c.state !== 'held');
    const units = Object.values(p.board.units).sort((a, b) => (a.id < b.id ? -1 : 1));
    const missing = p.expected.filter((e) => !e.signedOn);
    const transferred = calls.filter((c) => c.state === 'transferred' && c.transferredTo).sort((a, b) => b.transferredTo!.at - a.transferredTo!.at).slice(0, 10);
    const reports = Object.values(p.board.inbox).sort((a, b) => b.deliveredAt - a.deliveredAt).slice(0, 10);
    return html`<section id="sector-${p.sector}" class="sector"><h2>Sector ${p.sector} <small>beats ${p.beats.join(', ')}; adjacent ${p.adjacent.join(', ') || 'none'}</small></h2>
      <h3>Held calls (${held.length})</h3>
      ${held.length === 0 ? html`<p class="empty">No call is held.</p>` : html`<table class="held"><thead><tr><th>call</th><th>pri</th><th>type</th><th>beat</th><th>reason</th><th>deadline in</th><th>override</th></tr></thead><tbody>${held.map((c) => heldRow(c, p, model, overrides))}</tbody></table>`}
      <h3>Open calls (${open.length})</h3>
      ${open.length === 0 ? html`<p class="empty">No other open call.</p>` : html`<table class="open"><thead><tr><th>call</th><th>pri</th><th>type</th><th>beat</th><th>state</th><th>since receipt</th><th>policy</th><th>override</th></tr></thead><tbody>${open.map((c) => openRow(c, p, model, overrides))}</tbody></table>`}
      ${transferred.length > 0 ? html`<h3>Transferred to other sectors (${transferred.length})</h3><ul class="transferred">${transferred.map((c) => html`<li data-call="${c.id}">${c.id} P${c.priority} ${c.type}: to sector ${c.transferredTo!.sector} at ${time(c.transferredTo!.at)} by ${actorLabel(c.transferredTo!.by)}<br><small>${c.transferredTo!.reason}</small></li>`)}</ul>` : ''}
      <h3>Units (${units.length})</h3>
      <table class="units"><thead><tr><th>unit</th><th>call sign</th><th>beat</th><th>officers</th><th>status</th><th>in status</th><th>call</th><th>held for it</th><th>link</th></tr></thead><tbody>${units.map((u) => unitRow(u, p, model))}</tbody></table>
      ${missing.length > 0 ? html`<p class="expected">Expected on duty, not signed on: ${missing.map((e) => html`<span>${e.unit} (beat ${e.beat}, ${e.shift} watch until ${time(e.until)})</span> `)}</p>` : ''}
      ${figuresBlock(p, model)}
      <h3>CARE reports</h3>
      ${reports.length === 0 ? html`<p class="empty">None delivered.</p>` : html`<ul class="reports">${reports.map((r) => html`<li><b>${r.title}</b> (beat ${r.beat}, ${time(r.deliveredAt)}): to ${r.recipients.map((x) => x.id).join(', ')}; read by ${Object.keys(r.readBy).join(', ') || 'nobody yet'}</li>`)}</ul>`}
      ${sectorMessages(p.sector, p.board, overrides)}
    </section>`;
  })}`;
}

const STYLE = `
body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#111}
header{background:#12263f;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}
header h1{font-size:1.2rem;margin:0}main{padding:0 1rem 2rem}
.sector{background:#fff;margin:1rem 0;padding:.5rem 1rem;border-radius:6px;box-shadow:0 1px 2px #0002}
table{border-collapse:collapse;width:100%;margin:.3rem 0}th,td{border-bottom:1px solid #ddd;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#eef}small{color:#555}.countdown{font:600 1.1rem ui-monospace,monospace}.overdue{color:#b00}
form{display:inline-flex;gap:.2rem;margin:.1rem 0}input,select,textarea,button{font:inherit}button{cursor:pointer}
.status-available td:nth-child(5){color:#060}.status-off_duty{color:#777}.status-out_of_service td:nth-child(5){color:#a60}
.flash-ok{background:#e6f6e6;padding:.5rem 1rem}.flash-error{background:#fde8e8;padding:.5rem 1rem;color:#900}
.figures dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem}.figures dt{color:#555}.reason{max-width:28rem}
.transfer{color:#246}.contested{color:#b00}details.update summary{cursor:pointer;color:#246}
.care{background:#fff;padding:.5rem 1rem;border-radius:6px;margin:1rem 0}.messages .unread{font-weight:600}.care label{display:block;margin:.3rem 0}.warn{color:#a60}
`;

// Countdowns tick from the server's clock (skew measured at load); the boards refresh every 15 s
// unless the operator is typing in one of their forms.
const SCRIPT = `
(function(){var skew=Number(document.body.dataset.now)-Date.now();
function fmt(ms){var s=Math.round(Math.abs(ms)/1000),h=Math.floor(s/3600),m=Math.floor(s%3600/60),x=s%60;return (h?h+':':'')+String(m).padStart(2,'0')+':'+String(x).padStart(2,'0')}
function tick(){var now=Date.now()+skew;document.querySelectorAll('[data-deadline]').forEach(function(e){var d=Number(e.dataset.deadline)-now;e.textContent=d>0?fmt(d):'overdue '+fmt(d);e.classList.toggle('overdue',d<=0)});
document.querySelectorAll('[data-since]').forEach(function(e){e.textContent=fmt(now-Number(e.dataset.since))})}
setInterval(tick,1000);
setInterval(function(){var a=document.activeElement;var boards=document.getElementById('boards');if(a&&boards.contains(a)&&a.form)return;
fetch('/console/boards',{credentials:'same-origin'}).then(function(r){return r.ok?r.text():null}).then(function(t){if(t!==null){boards.innerHTML=t;tick()}}).catch(function(){})},15000);})();
`;

export function renderConsolePage(model: ConsoleModel): Html {
  const careAllowed = model.operator.role === 'care' || model.operator.role === 'watch_commander';
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${model.precinct.name}: Watch Commander console</title><style>${raw(STYLE)}</style></head>
<body data-now="${model.now}"><header><h1>${model.precinct.name}: Watch Commander console</h1>
<span>${model.operator.id} (${model.operator.role.replace('_', ' ')})</span><span>${time(model.now)}</span><a href="/api/v1/openapi.json" style="color:#cde">API (OpenAPI)</a></header>
${model.message ? html`<p class="flash-${model.message.kind}" role="status">${model.message.text}</p>` : ''}
${model.scheduleWarnings.length > 0 ? html`<p class="warn">Schedule: ${model.scheduleWarnings.slice(0, 5).join('; ')}</p>` : ''}
<main><div id="boards">${renderSectors(model)}</div>
${careAllowed
  ? html`<section class="care" id="care"><h2>CARE report entry</h2>
<form method="post" action="/console/reports" style="display:block">
<label>Beat of the incident <select name="beat" required>${model.beats.map((b) => html`<option>${b}</option>`)}</select></label>
<label>Incident time (UTC) <input name="incidentAt" type="datetime-local" required></label>
<label>Call (optional) <input name="callId" maxlength="40"></label>
<label>Title <input name="title" required maxlength="200" size="60"></label>
<label>Report <textarea name="body" required maxlength="20000" rows="6" cols="80"></textarea></label>
<button>Deliver to the beat officers and supervisors</button></form></section>`
  : ''}
${model.operator.role === 'dispatcher' || model.operator.role === 'watch_commander' ? dispatchForms(model.sectors, model.beats) : ''}
</main><script>${raw(SCRIPT)}</script></body></html>`;
}
