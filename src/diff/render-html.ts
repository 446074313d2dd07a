// A self-contained HTML page for a diff report: no network, no external script or style, the report
// embedded as JSON and drawn by a small script. Made for graphs too big for a terminal: the aligned node
// list folds runs of unchanged nodes, a minimap shows where the changes are, and tensors can be
// filtered by class and sorted by size or change.
//
// Must never: load anything from the network, or let model-controlled text (tensor and node names,
// attribute values) reach the page as markup: the JSON is escaped for the script element and the script
// only ever sets textContent.

import type { DiffReport } from './report.js';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{padding:12px 20px;background:#1d2330;color:#fff}header h1{font-size:17px;margin:0}
main{padding:12px 20px}section.model{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:0 0 18px;padding:12px 16px}
h2{font-size:16px;margin:0 0 6px}h3{font-size:14px;margin:14px 0 6px}.meta{color:#5b6472;font-size:13px}
.chips span{display:inline-block;margin:2px 6px 2px 0;padding:1px 8px;border-radius:10px;background:#eef1f5;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:12.5px}th,td{padding:3px 6px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f4f6f8;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.added,.s-added{background:#e7f6ea}.removed,.s-removed{background:#fbe9e9}.changed,.s-modified{background:#fff6db}
.s-contextual{background:#e6f3fb}.reshaped,.retyped{background:#f5e9fb}.renamed{background:#e6f3fb}.unchanged{color:#8a93a0}
.toolbar{margin:6px 0;display:flex;gap:10px;flex-wrap:wrap;align-items:center;font-size:12.5px}
.graph{display:flex;gap:10px}.rows{flex:1;max-height:75vh;overflow:auto;border:1px solid #eef0f3}
.row{display:grid;grid-template-columns:1fr 90px 1fr;font:12px ui-monospace,monospace;padding:1px 6px;cursor:pointer;border-bottom:1px solid #f3f4f6}
.fold{color:#5b6472;font:12px system-ui;padding:2px 6px;cursor:pointer;background:#f7f8fa}.detail{font:12px ui-monospace,monospace;padding:4px 14px;background:#fff;white-space:pre-wrap}
canvas{border:1px solid #eef0f3;cursor:pointer}code{font:12px ui-monospace,monospace}.err{color:#b42318}
`;

const SCRIPT = `
const R=JSON.parse(document.getElementById('data').textContent);
const el=(t,a,...k)=>{const e=document.createElement(t);if(a)for(const[x,y]of Object.entries(a)){if(x==='class')e.className=y;else if(x==='text')e.textContent=y;else if(x.startsWith('on'))e.addEventListener(x.slice(2),y);else e.setAttribute(x,y)}for(const c of k)if(c!=null)e.append(c);return e};
const B=n=>{if(n==null)return'';const u=['B','KB','MB','GB','TB'];let i=0;while(n>=1000&&i<4){n/=1000;i++}return i?n.toFixed(n<10?2:n<100?1:0)+' '+u[i]:n+' B'};
const S=x=>x==null?'':x===0?'0':(Math.abs(x)>=0.01&&Math.abs(x)<1000?String(+x.toPrecision(3)):x.toExponential(2));
const P=x=>x==null?'':x===0?'0%':x<0.001?'<0.1%':(+(x*100).toPrecision(3))+'%';
const D=d=>'['+d.join(',')+']';
const CL=['changed','reshaped','retyped','renamed','added','removed','unchanged'];
function model(m){
  const s=el('section',{class:'model'});
  s.append(el('h2',{text:m.path+(m.status==='modified'?'':' ('+m.status+')')}));
  for(const[t,v]of[['a',m.a],['b',m.b]])if(v)s.append(el('div',{class:'meta',text:t+' '+v.label+': '+v.sha256.slice(0,12)+', '+B(v.size)+', '+v.tensors+' tensors ('+B(v.tensorBytes)+')'+(v.format==='raw'?', not ONNX':'')}));
  const sm=m.tensors.summary,ch=el('div',{class:'chips'});
  for(const k of CL)if(sm[k].count)ch.append(el('span',{class:k,text:sm[k].count+' '+k+' · '+B(k==='removed'?sm[k].bytesA:sm[k].bytesB)}));
  if(m.a&&m.b)ch.append(el('span',{text:m.tensors.skeleton.same?'skeleton same':'skeleton changed'}));
  s.append(el('h3',{text:'Tensors'}),ch,tensors(m.tensors.changes));
  if(m.graph){s.append(el('h3',{text:'Graph'}));if(m.graph.error)s.append(el('p',{class:'err',text:'not compared: '+m.graph.error}));else s.append(modelGraph(m.graph))}
  return s}
function tensors(list){
  const wrap=el('div'),on=new Set(CL.filter(c=>c!=='unchanged')),bar=el('div',{class:'toolbar'}),q=el('input',{placeholder:'filter by name',size:'24'});
  let key='i',dir=1;
  for(const c of CL){const cb=el('input',{type:'checkbox'});cb.checked=on.has(c);cb.onchange=()=>{cb.checked?on.add(c):on.delete(c);draw()};bar.append(el('label',{},cb,' '+c))}
  q.oninput=()=>draw();bar.append(q);
  const cols=[['class','class'],['name','name'],['dtype','dtype'],['shape','shape'],['bytes','bytes'],['max|d|','max'],['mean|d|','mean'],['relL2','rel'],['changed','chg'],['zeros a→b','zeros']];
  const tb=el('tbody'),th=el('tr');for(const[t,k]of cols)th.append(el('th',{text:t,onclick:()=>{dir=key===k?-dir:-1;key=k;draw()}}));
  const rows=list.map((c,i)=>{const x=c.b||c.a,st=c.stats||{};return{c,i,class:c.class,name:(c.oldName?c.oldName+' → ':'')+c.name,dtype:c.a&&c.b&&c.a.dtype!==c.b.dtype?c.a.dtype+' → '+c.b.dtype:x.dtype,shape:c.a&&c.b&&D(c.a.dims)!==D(c.b.dims)?D(c.a.dims)+' → '+D(c.b.dims):D(x.dims),bytes:x.bytes,max:st.maxAbsDiff,mean:st.meanAbsDiff,rel:st.relL2,chg:st.changedShare,zeros:c.stats?P(st.sparsityA)+' → '+P(st.sparsityB):''}});
  function draw(){tb.textContent='';const f=q.value.toLowerCase();
    const r=rows.filter(x=>on.has(x.class)&&(!f||x.name.toLowerCase().includes(f))).sort((x,y)=>{const a=x[key],b=y[key];return (a===b?0:a==null?1:b==null?-1:a<b?-1:1)*(key==='i'?1:dir)});
    for(const x of r.slice(0,5000))tb.append(el('tr',{class:x.class},el('td',{text:x.class+(x.c.withinTolerance?' (tol.)':'')}),el('td',{text:x.name}),el('td',{text:x.dtype}),el('td',{text:x.shape}),el('td',{class:'n',text:B(x.bytes)}),el('td',{class:'n',text:S(x.max)}),el('td',{class:'n',text:S(x.mean)}),el('td',{class:'n',text:P(x.rel)}),el('td',{class:'n',text:P(x.chg)}),el('td',{text:x.zeros||(x.c.statsSkipped&&x.class==='changed'?'('+x.c.statsSkipped+')':'')})));
    if(r.length>5000)tb.append(el('tr',{},el('td',{colspan:'10',text:'… '+(r.length-5000)+' more (use the filter)'})))}
  draw();wrap.append(bar,el('table',{},el('thead',{},th),tb));return wrap}
function modelGraph(g){
  const w=el('div'),ch=el('div',{class:'chips'});
  if(g.irVersion.a!==g.irVersion.b)ch.append(el('span',{text:'ir_version '+g.irVersion.a+' → '+g.irVersion.b}));
  if(g.producer.a!==g.producer.b)ch.append(el('span',{text:'producer '+(g.producer.a||'-')+' → '+(g.producer.b||'-')}));
  for(const o of g.opsets)ch.append(el('span',{text:'opset '+o.domain+' '+(o.a??'-')+' → '+(o.b??'-')}));
  for(const m of g.metadata)ch.append(el('span',{text:'metadata '+m.key+' changed'}));
  w.append(ch,graph(g.graph));
  for(const f of g.functions){w.append(el('h3',{text:'function '+f.name+': '+f.status}));if(f.diff)w.append(graph(f.diff))}
  return w}
const COLORS={unchanged:'#e3e6ea',contextual:'#5aa9e6',modified:'#f2c14e',added:'#3fa55b',removed:'#d64545'};
function graph(d){
  const w=el('div'),n=d.nodes,ch=el('div',{class:'chips'});
  ch.append(el('span',{text:n.a+' → '+n.b+' nodes'}));
  for(const k of['unchanged','contextual','modified','added','removed'])if(n[k])ch.append(el('span',{class:'s-'+k,text:n[k]+' '+k}));
  ch.append(el('span',{text:'edges '+d.edges.a+' → '+d.edges.b+' (+'+d.edges.added+' −'+d.edges.removed+')'}),el('span',{text:'divergence '+S(d.divergence)}));
  w.append(ch);
  for(const[kind,l]of[['input',d.inputs],['output',d.outputs]])for(const io of l)w.append(el('div',{class:io.a==null?'added':io.b==null?'removed':'changed',text:kind+' '+io.name+': '+(io.a??'(none)')+' → '+(io.b??'(none)')}));
  const detail=new Map();for(const c of d.changes)detail.set((c.a?'a'+c.a.index:'')+'|'+(c.b?'b'+c.b.index:''),c);
  const rowsEl=el('div',{class:'rows'}),cv=el('canvas',{width:'14',height:'300'});
  const bar=el('div',{class:'toolbar'}),q=el('input',{placeholder:'filter by op or name',size:'24'}),all=el('input',{type:'checkbox'});
  bar.append(q,el('label',{},all,' show unchanged'));q.oninput=draw;all.onchange=draw;
  const label=r=>r?(r.op+' '+(r.name||'#'+r.index)):'';
  function row(r){const c=detail.get((r.a?'a'+r.a.index:'')+'|'+(r.b?'b'+r.b.index:''));const e=el('div',{class:'row s-'+r.status},el('span',{text:label(r.a)}),el('span',{text:r.status}),el('span',{text:label(r.b)}));
    if(c)e.onclick=()=>{if(e.nextSibling&&e.nextSibling.classList&&e.nextSibling.classList.contains('detail')){e.nextSibling.remove();return}const det=el('div',{class:'detail'});det.append(describe(c));e.after(det)};return e}
  function draw(){rowsEl.textContent='';const f=q.value.toLowerCase();let run=[];
    const flush=()=>{if(!run.length)return;const rs=run;run=[];if(rs.length<=3){for(const r of rs)rowsEl.append(row(r));return}const fd=el('div',{class:'fold',text:'⋯ '+rs.length+' unchanged nodes (show)'});fd.onclick=()=>{const frag=document.createDocumentFragment();for(const r of rs)frag.append(row(r));fd.replaceWith(frag)};rowsEl.append(fd)};
    for(const r of d.rows){if(f&&!(label(r.a)+' '+label(r.b)).toLowerCase().includes(f))continue;if(r.status==='unchanged'&&!all.checked){run.push(r);continue}flush();rowsEl.append(row(r))}flush()}
  const ctx=cv.getContext('2d'),H=cv.height,N=Math.max(d.rows.length,1);
  d.rows.forEach((r,i)=>{ctx.fillStyle=COLORS[r.status];ctx.fillRect(0,Math.floor(i*H/N),14,Math.max(1,Math.ceil(H/N)))});
  cv.onclick=ev=>{rowsEl.scrollTop=(ev.offsetY/H)*rowsEl.scrollHeight};
  draw();w.append(bar,el('div',{class:'graph'},cv,rowsEl));return w}
function describe(c){
  const f=document.createDocumentFragment(),t=s=>f.append(document.createTextNode(s+'\\n'));
  t(c.status+(c.opChanged?' (op '+c.a.op+' → '+c.b.op+')':'')+(c.renamed?' (renamed '+(c.a.name||'#'+c.a.index)+' → '+(c.b.name||'#'+c.b.index)+')':''));
  if(c.status==='contextual')t('same structure, weights differ');
  for(const a of c.attrs||[])t('attribute '+a.name+': '+(a.a??'(none)')+' → '+(a.b??'(none)'));
  if(c.inputs)t('inputs '+c.inputs.a+' → '+c.inputs.b);
  const W=x=>x?x.name+' '+x.type:'(none)';for(const x of c.weights||[])t((x.slot.startsWith('attr:')?x.slot.slice(5):'input '+x.slot)+' '+x.change+': '+W(x.a)+' → '+W(x.b));
  for(const s of c.subgraphs||[]){f.append(el('div',{text:'subgraph '+s.attr+':'}),graph(s.diff))}
  return f}
const root=document.getElementById('root');
if(!R.models.length)root.append(el('p',{text:'No model differences.'}));
for(const m of R.models)root.append(model(m));
`;

/** The page for a report; `title` goes into <title> (escaped). */
export function renderHtml(r: DiffReport, title: string): string {
  // Inside <script type="application/json">, only "</" (and "<!--") could end or confuse the element.
  const data = JSON.stringify(r).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><header><h1>${esc(title)}</h1></header><main id="root"></main>
<script type="application/json" id="data">${data}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
