import * as A from '@automerge/automerge';
import { mkdtempSync } from 'node:fs';
import { FileDocStore } from './dist/sync/doc-store.js';
import { SectorReplica, newActorId } from './dist/sync/replica.js';
import { setUnitStatus, signOn, upsertUnit } from './dist/sync/board.js';
const dir = mkdtempSync('/tmp/lat-');
const store = new FileDocStore(dir);
const r = await SectorReplica.open({ store, sector: 'S00', epoch: '2026-11-27', actorId: newActorId() });
const disp = () => ({by:{kind:'operator',operatorId:'bench',role:'dispatcher'}, at: Date.now()});
const car = (i) => ({by:{kind:'vehicle',vehicleId:`V${i}`,unitId:`U${i}`}, at: Date.now()});
await r.update((d) => { let x = d; for (let i=0;i<17;i++) x = upsertUnit(x, {id:`U${i}`, callSign:`U${i}`, homeBeat:'S001', mode:'car'}, disp()); return x; });
for (let i=0;i<17;i++) await r.update((d) => signOn(d, {unitId:`U${i}`, officers:[`O${i}`]}, car(i)));
const S = ['available','en_route','on_scene'];
for (let k=0;k<Number(process.argv[2]??300);k++) { const i=k%17; const cur = r.view().units[`U${i}`].status; await r.update((d) => setUnitStatus(d, {unitId:`U${i}`, status: S.filter(s=>s!==cur)[k%2]}, car(i))); }
const tOp=[], tUpd=[];
for (let k=0;k<100;k++) {
  const i=k%17; const cur = r.view().units[`U${i}`].status; const st = S.filter(s=>s!==cur)[k%2];
  let t0 = performance.now(); const x = setUnitStatus(A.clone(r.doc), {unitId:`U${i}`, status: st}, car(i)); tOp.push(performance.now()-t0);
  t0 = performance.now(); await r.update((d) => setUnitStatus(d, {unitId:`U${i}`, status: st}, car(i))); tUpd.push(performance.now()-t0);
}
const med = (a) => a.sort((x,y)=>x-y)[a.length>>1].toFixed(3);
console.log('events', Object.keys(r.doc.unitLog).length, 'op (on clone) med', med(tOp), 'update() med', med(tUpd));
