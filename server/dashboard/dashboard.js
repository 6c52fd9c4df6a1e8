// Tidewatch's dashboard: the state is read from the HTTP API (orchestrator's
// JSON) and kept live by the Server-Sent Events of /api/stream (protobuf JSON
// of tidewatch.v1.Envelope). When the stream drops, the page says so,
// reconnects, and reads the state again before it shows it as live.
// Plain JavaScript, no build step, no library: docs/dashboard.md.
'use strict';

const STREAM_TYPES = ['instance', 'edge', 'stream', 'pseudo_gtid', 'analysis', 'recovery', 'audit'];
const LOG_LIMIT = 300;

const state = {
  rights: { CanChange: false, User: '', ReadOnly: false, RecoveryConsumer: false, GracefulTakeover: false },
  clusters: new Map(),    // name → {name, alias}
  instances: new Map(),   // key → instance (see fromOrchestrator)
  analyses: new Map(),    // code + ' ' + instance → analysis (see fromStreamAnalysis)
  analysisLog: [],        // {time, phase, code, instance, description}
  recoveries: new Map(),  // recovery_id → [step…]
  pastRecoveries: [],     // /api/audit-recovery
  maintenance: new Set(), // keys
  pgtid: new Map(),       // key → last Pseudo-GTID entry seen on the stream
  activity: [],           // {time, text, ok}
  live: false,            // the stream is open and the state was read since
  lostAt: 0,
};

// Figures the benchmarks and the browser tests read (bench/dashboard-latency.py).
const stats = { syncs: 0, messages: 0, renders: 0, renderMs: 0, lastRenderMs: 0, firstTreeMs: -1,
                applyLatencyMs: [], seen: {} };
window.tidewatchDashboard = { state, stats };

// ---------------------------------------------------------------------------
// Helpers

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
function keyOf(k) { return k && k.Hostname ? `${k.Hostname}:${k.Port}` : ''; }
function splitKey(key) {
  const i = key.lastIndexOf(':');
  return [key.slice(0, i), key.slice(i + 1)];
}
function apiPath(...parts) { return 'api/' + parts.map(p => encodeURIComponent(p)).join('/'); }
function clock(t) { return new Date(t).toLocaleTimeString(); }
function human(n) {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MiB';
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + ' KiB';
  return Math.round(n) + ' B';
}

// The page's own URL without user:password@ — a page opened with credentials
// in its URL cannot fetch relative paths (Request refuses URLs with
// credentials); the browser's authentication cache still answers for it.
function here(path) { return new URL(path, location.origin + location.pathname).href; }

async function getJson(path) {
  const r = await fetch(here(path), { cache: 'no-store', credentials: 'same-origin' });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) { body = { Code: 'ERROR', Message: text.trim() || r.statusText }; }
  return { status: r.status, body };
}

// Orchestrator's severity of an analysis code, for colour only.
function severity(code) {
  if (/^Dead|AllMasterReplicasNotReplicating|MasterSingleReplicaDead|FailingToConnect/.test(code)) return 'critical';
  if (/Unreachable|Locked|NotReplicating|Errant/.test(code)) return 'major';
  return 'minor';
}
const SEVERITY_RANK = { critical: 3, major: 2, minor: 1 };

// ---------------------------------------------------------------------------
// The model: orchestrator JSON and stream messages into one shape.

function fromOrchestrator(j) {
  const lag = j.SecondsBehindMaster && j.SecondsBehindMaster.Valid ? j.SecondsBehindMaster.Int64 : null;
  const s = j.TidewatchStream || {};
  return {
    key: keyOf(j.Key), cluster: j.ClusterName || '', alias: j.SuggestedClusterAlias || '',
    master: keyOf(j.MasterKey), version: j.Version || '', serverId: j.ServerID,
    binlogFormat: j.Binlog_format || '', readOnly: !!j.ReadOnly, logBin: !!j.LogBinEnabled,
    logReplicaUpdates: !!j.LogReplicationUpdatesEnabled,
    io: !!j.ReplicationIOThreadRuning, sql: !!j.ReplicationSQLThreadRuning, lag,
    ioError: j.LastIOError || '', sqlError: j.LastSQLError || '',
    dc: j.DataCenter || '', promotionRule: j.PromotionRule || '',
    reachable: j.IsLastCheckValid !== false, downtimed: !!j.IsDowntimed,
    downtimeReason: j.DowntimeReason || '', downtimeOwner: j.DowntimeOwner || '',
    downtimeEnd: j.DowntimeEndTimestamp || '',
    gtid: j.ExecutedGtidSet || '', uptime: j.Uptime,
    self: j.SelfBinlogCoordinates ? `${j.SelfBinlogCoordinates.LogFile}:${j.SelfBinlogCoordinates.LogPos}` : '',
    exec: j.ExecBinlogCoordinates ? `${j.ExecBinlogCoordinates.LogFile}:${j.ExecBinlogCoordinates.LogPos}` : '',
    stream: { state: (s.State || 'none').toLowerCase(), reason: s.Reason || '', events: s.Events || 0,
              file: s.Coordinates ? s.Coordinates.LogFile : '', pos: s.Coordinates ? s.Coordinates.LogPos : 0 },
  };
}

function applyInstanceProto(inst, p) {
  inst.version = p.version || inst.version;
  inst.serverId = p.server_id ?? inst.serverId;
  inst.readOnly = !!p.read_only;
  inst.logBin = !!p.log_bin;
  inst.logReplicaUpdates = !!p.log_replica_updates;
  inst.binlogFormat = p.binlog_format || inst.binlogFormat;
  inst.master = p.master_key || '';
  inst.io = !!p.replica_io_running;
  inst.sql = !!p.replica_sql_running;
  const lag = Number(p.seconds_behind_master);
  inst.lag = inst.master && lag >= 0 ? lag : null;
  inst.dc = p.data_center || '';
  inst.promotionRule = p.promotion_rule || inst.promotionRule;
  if (p.gtid_executed) inst.gtid = p.gtid_executed;
}

function newInstance(key, cluster) {
  return { key, cluster, alias: '', master: '', version: '', binlogFormat: '', readOnly: false, logBin: false,
           logReplicaUpdates: false, io: false, sql: false, lag: null, ioError: '', sqlError: '', dc: '',
           promotionRule: '', reachable: true, downtimed: false, stream: { state: 'none', reason: '', events: 0 } };
}

function fromApiAnalysis(a) {
  return { code: a.Analysis, instance: keyOf(a.AnalyzedInstanceKey),
           cluster: a.ClusterDetails ? a.ClusterDetails.ClusterName : '', description: a.Description || '',
           evidence: [], structure: a.StructureAnalysis || [], actionable: !!a.IsActionableRecovery,
           downtimed: !!a.IsDowntimed, replicas: (a.Replicas || []).map(keyOf), opened: 0, updated: 0 };
}

// ---------------------------------------------------------------------------
// Reading the state from the API

let syncing = null;   // the sync under way (a promise)
let syncAgain = false;
let buffered = [];    // stream messages that arrived during a sync, applied after it

function resync() {
  if (syncing) { syncAgain = true; return syncing; }
  syncing = (async () => {
    try {
      do {
        syncAgain = false;
        await readState();
      } while (syncAgain);
    } catch (e) {
      note(`Could not read the state: ${e.message || e}`, false);
    } finally {
      syncing = null;
      const pending = buffered;
      buffered = [];
      for (const [type, msg] of pending) apply(type, msg);
      if (stream.open) setLive(true);
      render(true);
    }
  })();
  return syncing;
}

async function readState() {
  const [rights, clusters, analysis, maintenance, recoveries] = await Promise.all([
    getJson('api/dashboard-rights'), getJson('api/clusters-info'), getJson('api/replication-analysis'),
    getJson('api/maintenance'), getJson('api/audit-recovery')]);
  if (clusters.status !== 200) throw new Error(clusters.body.Message || `HTTP ${clusters.status}`);
  if (rights.status === 200) state.rights = rights.body;
  const names = (clusters.body || []).map(c => c.ClusterName);
  const members = await Promise.all(names.map(n => getJson(apiPath('cluster', n))));
  state.clusters = new Map();
  (clusters.body || []).forEach(c => state.clusters.set(c.ClusterName, { name: c.ClusterName, alias: c.ClusterAlias }));
  const instances = new Map();
  members.forEach(m => {
    if (m.status === 200 && Array.isArray(m.body)) {
      m.body.forEach(j => { const i = fromOrchestrator(j); instances.set(i.key, i); });
    }
  });
  state.instances = instances;
  const analyses = new Map();
  const details = analysis.body && Array.isArray(analysis.body.Details) ? analysis.body.Details : [];
  for (const d of details) {
    if (!d.Analysis || d.Analysis === 'NoProblem') continue;
    const a = fromApiAnalysis(d);
    const old = state.analyses.get(a.code + ' ' + a.instance);
    if (old) { a.evidence = old.evidence; a.opened = old.opened; a.updated = old.updated; }
    analyses.set(a.code + ' ' + a.instance, a);
  }
  state.analyses = analyses;
  state.maintenance = new Set((Array.isArray(maintenance.body) ? maintenance.body : []).map(m => keyOf(m.Key)));
  state.pastRecoveries = Array.isArray(recoveries.body) ? recoveries.body : [];
  stats.syncs++;
}

// ---------------------------------------------------------------------------
// The stream

const stream = { source: null, open: false, backoff: 250, timer: 0 };

function connect() {
  clearTimeout(stream.timer);
  const es = new EventSource(here('api/stream'));
  stream.source = es;
  for (const type of STREAM_TYPES) {
    es.addEventListener(type, ev => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      stats.messages++;
      if (syncing) buffered.push([type, msg]); else apply(type, msg);
    });
  }
  es.onopen = () => {
    stream.open = true;
    stream.backoff = 250;
    resync();
  };
  es.onerror = () => {
    es.close();
    if (stream.source !== es) return;
    stream.source = null;
    stream.open = false;
    setLive(false);
    stream.timer = setTimeout(connect, stream.backoff);
    stream.backoff = Math.min(stream.backoff * 2, 2000);
  };
}

function setLive(live) {
  if (live === state.live) return;
  state.live = live;
  if (!live) state.lostAt = Date.now();
  const link = document.getElementById('link');
  const banner = document.getElementById('banner');
  link.textContent = live ? 'live' : 'reconnecting…';
  link.className = 'link ' + (live ? 'up' : 'down');
  document.body.classList.toggle('stale', !live);
  if (live) {
    banner.classList.add('hidden');
    banner.dataset.state = 'live';
    if (stats.syncs > 1) note(`Reconnected to Tidewatch after ${((Date.now() - state.lostAt) / 1000).toFixed(1)} s; state read again`, true);
  } else {
    banner.classList.remove('hidden');
    banner.dataset.state = 'disconnected';
    banner.textContent = `Connection to Tidewatch lost at ${clock(state.lostAt)} — reconnecting; what is shown may be stale.`;
  }
}

let resyncTimer = 0;
function resyncSoon() {
  clearTimeout(resyncTimer);
  resyncTimer = setTimeout(resync, 200);
}

function apply(type, msg) {
  const src = msg.source || {};
  const now = Date.now();
  switch (type) {
    case 'instance': {
      const c = msg.instance || {};
      const p = c.instance || {};
      const key = p.key || src.server;
      if (!key) break;
      if (c.kind === 'FORGOTTEN') {
        state.instances.delete(key);
        structureChanged();
        resyncSoon();
        break;
      }
      let inst = state.instances.get(key);
      const known = !!inst;
      if (!inst) { inst = newInstance(key, src.cluster || key); state.instances.set(key, inst); }
      const oldMaster = inst.master;
      if (c.kind === 'LOST') {
        inst.reachable = false;
      } else {
        applyInstanceProto(inst, p);
        inst.reachable = true;
      }
      if (src.cluster) inst.cluster = src.cluster;
      if (!known || inst.master !== oldMaster) { structureChanged(); resyncSoon(); } else instanceChanged(key);
      break;
    }
    case 'edge': {
      const e = msg.edge || {};
      const inst = state.instances.get(e.replica);
      if (inst) {
        if (e.kind === 'ADDED') inst.master = e.master;
        else if (e.kind === 'REMOVED' && inst.master === e.master) inst.master = '';
      }
      structureChanged();
      resyncSoon();
      break;
    }
    case 'stream': {
      const inst = state.instances.get(src.server);
      const s = msg.stream || {};
      if (inst) {
        inst.stream.state = String(s.state || 'none').toLowerCase();
        inst.stream.reason = s.reason || '';
        instanceChanged(src.server);
      }
      break;
    }
    case 'pseudo_gtid': {
      const g = msg.pseudo_gtid || {};
      state.pgtid.set(src.server, { text: g.text, at: g.at || {}, ordinal: g.ordinal, time: now });
      if (route.view === 'instance' && route.arg === src.server) drawPseudoGtid();
      break;
    }
    case 'analysis': {
      const a = msg.analysis || {};
      const id = a.code + ' ' + a.analyzed_instance;
      state.analysisLog.unshift({ time: now, phase: a.phase, code: a.code, instance: a.analyzed_instance,
                                  description: a.description });
      state.analysisLog.length = Math.min(state.analysisLog.length, LOG_LIMIT);
      if (a.phase === 'CLOSED') {
        state.analyses.delete(id);
      } else {
        const old = state.analyses.get(id);
        state.analyses.set(id, {
          code: a.code, instance: a.analyzed_instance, cluster: a.cluster || src.cluster,
          description: a.description || '', evidence: a.evidence || [], structure: a.structure_warnings || [],
          actionable: !!a.is_actionable, downtimed: !!a.downtimed, replicas: a.replicas || [],
          opened: old ? old.opened : now, updated: now });
      }
      if (!stats.seen[a.code] && a.phase !== 'CLOSED') stats.seen[a.code] = now;
      instanceChanged(a.analyzed_instance);
      structureChanged();  // the cluster list and the problem list
      break;
    }
    case 'recovery': {
      const r = msg.recovery || {};
      const steps = state.recoveries.get(r.recovery_id) || [];
      steps.push({ time: now, cluster: src.cluster, ...r });
      state.recoveries.set(r.recovery_id, steps);
      if (route.view === 'problems') scheduleRender();
      break;
    }
    case 'audit': {
      const a = msg.audit || {};
      note(`${a.user || 'someone'}: ${a.action} ${a.instance} — ${a.message}`, true);
      if (/maintenance|downtime|forget|discover/.test(a.action)) resyncSoon();
      break;
    }
  }
  if (msg.detection_time) pendingLatency.push(Date.parse(msg.detection_time));
}

// ---------------------------------------------------------------------------
// Rendering: the whole view when the structure changed, otherwise only the
// instances that changed, at most once a frame.

let dirtyAll = true;
const dirtyKeys = new Set();
let frame = 0;
let pendingLatency = [];

function structureChanged() { dirtyAll = true; scheduleRender(); }
function instanceChanged(key) { dirtyKeys.add(key); scheduleRender(); }
function scheduleRender() { if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(false); }); }

const route = { view: 'clusters', arg: '' };

function parseRoute() {
  const h = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const slash = h.indexOf('/');
  route.view = (slash < 0 ? h : h.slice(0, slash)) || 'clusters';
  route.arg = slash < 0 ? '' : h.slice(slash + 1);
  document.querySelectorAll('[data-nav]').forEach(a => a.classList.toggle('active', a.dataset.nav === route.view));
}

function render(full) {
  const t0 = performance.now();
  if (full || dirtyAll || route.view !== 'cluster') {
    renderView();
  } else {
    for (const key of dirtyKeys) {
      const el = document.querySelector(`.node[data-instance="${CSS.escape(key)}"]`);
      if (!el) { renderView(); break; }
      el.outerHTML = nodeHtml(state.instances.get(key));
      drawn = '';
    }
  }
  dirtyAll = false;
  dirtyKeys.clear();
  const open = state.analyses.size;
  document.getElementById('problem-count').textContent = open ? String(open) : '';
  const who = document.getElementById('who');
  who.textContent = (state.rights.User ? state.rights.User + ' · ' : '') + (state.rights.CanChange ? 'may change' : 'read-only');
  who.className = state.rights.CanChange ? 'rw' : 'ro';
  const ms = performance.now() - t0;
  stats.renders++;
  stats.renderMs += ms;
  stats.lastRenderMs = ms;
  const done = Date.now();
  // From the daemon's detection to the page showing it (same clock on one machine).
  for (const detected of pendingLatency) {
    if (done - detected >= 0 && done - detected < 60000) stats.applyLatencyMs.push(done - detected);
  }
  if (stats.applyLatencyMs.length > 5000) stats.applyLatencyMs.splice(0, stats.applyLatencyMs.length - 5000);
  pendingLatency = [];
}

// The view's HTML is replaced only when it differs from what was drawn, so
// that a control under the pointer is not replaced by an identical one.
let drawn = '';
function renderView() {
  const view = document.getElementById('view');
  let html;
  if (!stats.syncs) html = '<p class="muted">Reading the topology…</p>';
  else if (route.view === 'cluster') html = clusterView(route.arg);
  else if (route.view === 'problems') html = problemsView();
  else if (route.view === 'instance') html = instanceView(route.arg);
  else html = clustersView();
  if (html !== drawn || !view.firstChild) {
    view.innerHTML = html;
    drawn = html;
    if (route.view === 'instance') { drawChart(); drawPseudoGtid(); }
  }
  if (route.view === 'cluster' && stats.firstTreeMs < 0 && view.querySelector('.tree .node')) {
    stats.firstTreeMs = performance.now();
  }
}

function analysesOf(pred) { return [...state.analyses.values()].filter(pred); }

function badge(a) {
  const sev = severity(a.code);
  const title = [a.description, ...(a.evidence || [])].filter(Boolean).join('\n');
  return `<span class="badge sev-${sev}" data-analysis="${esc(a.code)}" title="${esc(title)}">${esc(a.code)}</span>`;
}

function clustersView() {
  const rows = [...state.clusters.values()].sort((a, b) => a.name.localeCompare(b.name)).map(c => {
    const members = [...state.instances.values()].filter(i => i.cluster === c.name);
    const master = state.instances.get(c.name) || members.find(i => !i.master);
    const open = analysesOf(a => a.cluster === c.name);
    const worst = open.reduce((w, a) => Math.max(w, SEVERITY_RANK[severity(a.code)]), 0);
    const sev = ['ok', 'minor', 'major', 'critical'][worst];
    return `<tr class="cluster sev-${sev}" data-cluster="${esc(c.name)}">
      <td><a href="#/cluster/${encodeURIComponent(c.name)}">${esc(c.alias || c.name)}</a></td>
      <td>${esc(c.name)}</td>
      <td>${master ? `<a class="instance-link" data-instance="${esc(master.key)}" href="#/instance/${encodeURIComponent(master.key)}">${esc(master.key)}</a>` : '—'}</td>
      <td class="num">${members.length}</td>
      <td>${open.length ? open.map(badge).join(' ') : '<span class="ok">none</span>'}</td></tr>`;
  });
  return `<h2>Clusters</h2>
    <table class="grid"><thead><tr><th>Alias</th><th>Cluster</th><th>Master</th><th>Instances</th><th>Open analyses</th></tr></thead>
    <tbody>${rows.join('') || '<tr><td colspan="5" class="muted">No cluster discovered yet.</td></tr>'}</tbody></table>`;
}

function roleOf(inst, children) {
  if (!inst.master) return 'master';
  return children.length ? 'intermediate master' : 'replica';
}

function nodeHtml(inst) {
  if (!inst) return '';
  const kids = childrenOf(inst.key);
  const problems = analysesOf(a => a.instance === inst.key);
  const worst = problems.reduce((w, a) => Math.max(w, SEVERITY_RANK[severity(a.code)]), 0);
  const s = inst.stream;
  const streamText = s.state === 'none' ? (inst.logBin ? 'not streamed' : 'no binary log') : s.state;
  const threads = inst.master
    ? `<span class="${inst.io ? 'good' : 'bad'}">IO ${inst.io ? 'on' : 'off'}</span> <span class="${inst.sql ? 'good' : 'bad'}">SQL ${inst.sql ? 'on' : 'off'}</span> · lag ${inst.lag === null ? 'unknown' : inst.lag + ' s'}`
    : 'writes here';
  const classes = ['node', `sev-${['ok', 'minor', 'major', 'critical'][worst]}`];
  if (!inst.reachable) classes.push('unreachable');
  if (inst.downtimed) classes.push('downtimed');
  if (state.maintenance.has(inst.key)) classes.push('maintenance');
  if (state.rights.CanChange && inst.master) classes.push('draggable');
  return `<div class="${classes.join(' ')}" data-instance="${esc(inst.key)}" title="${state.rights.CanChange && inst.master ? 'Drag onto another instance to relocate below it' : ''}">
    <div class="title"><a class="key" href="#/instance/${encodeURIComponent(inst.key)}">${esc(inst.key)}</a><span class="role">${roleOf(inst, kids)}</span></div>
    <div class="facts">${esc(inst.version.replace(/-log$/, '') || '?')} · ${esc(inst.binlogFormat || '–')}${inst.logBin ? '' : ' · no binlog'}${inst.readOnly ? ' · <span class="ro-flag">read_only</span>' : ' · writable'}</div>
    <div class="repl">${threads}</div>
    <div class="stream st-${esc(s.state)}">stream: ${esc(streamText)}${s.reason ? ` — <span class="reason">${esc(s.reason)}</span>` : ''}</div>
    <div class="meta">dc ${esc(inst.dc || '–')} · promotion ${esc(inst.promotionRule || '–')}${inst.reachable ? '' : ' · <b class="bad">unreachable</b>'}${inst.downtimed ? ' · downtimed' : ''}${state.maintenance.has(inst.key) ? ' · maintenance' : ''}</div>
    ${problems.length ? `<div class="problems">${problems.map(badge).join(' ')}</div>` : ''}
  </div>`;
}

let childIndex = null;  // master → [replica keys], for one render
function childrenOf(key) {
  if (!childIndex) {
    childIndex = new Map();
    for (const i of state.instances.values()) {
      if (!i.master) continue;
      if (!childIndex.has(i.master)) childIndex.set(i.master, []);
      childIndex.get(i.master).push(i.key);
    }
    for (const list of childIndex.values()) list.sort();
    queueMicrotask(() => { childIndex = null; });
  }
  return childIndex.get(key) || [];
}

function treeHtml(key, seen) {
  seen.add(key);
  const kids = childrenOf(key).filter(k => !seen.has(k) && state.instances.has(k));
  kids.forEach(k => seen.add(k));
  return `<li>${nodeHtml(state.instances.get(key))}${kids.length ? `<ul>${kids.map(k => treeHtml(k, seen)).join('')}</ul>` : ''}</li>`;
}

function clusterView(name) {
  const cluster = state.clusters.get(name) || [...state.clusters.values()].find(c => c.alias === name);
  const members = [...state.instances.values()].filter(i => i.cluster === (cluster ? cluster.name : name));
  if (!members.length) return `<h2>${esc(name)}</h2><p class="muted">No instance of this cluster is known.</p>`;
  const inCluster = new Set(members.map(i => i.key));
  const seen = new Set();
  let roots = members.filter(i => !i.master || !inCluster.has(i.master)).map(i => i.key).sort();
  let html = roots.map(k => treeHtml(k, seen)).join('');
  // Co-masters (a cycle): start from the cluster's name.
  for (const i of members.sort((a, b) => (a.key === name ? -1 : b.key === name ? 1 : a.key.localeCompare(b.key)))) {
    if (!seen.has(i.key)) html += treeHtml(i.key, seen);
  }
  const open = analysesOf(a => a.cluster === (cluster ? cluster.name : name));
  const takeover = state.rights.GracefulTakeover
    ? `<button class="action" data-do="graceful-takeover" id="graceful-takeover">Graceful takeover</button>`
    : `<button class="action" disabled title="Graceful takeover needs the recovery consumer (tidewatch run --recover)">Graceful takeover</button>`;
  return `<div class="view-head"><h2>${esc(cluster ? cluster.alias || cluster.name : name)}</h2>
      <span class="muted">${members.length} instances</span>${state.rights.CanChange ? takeover : ''}</div>
    ${open.length ? `<div class="open-list">${open.map(a => `${badge(a)} <span data-instance-ref="${esc(a.instance)}">${esc(a.instance)}</span> ${esc(a.description)}`).join('<br>')}</div>` : ''}
    ${state.rights.CanChange ? '<p class="hint">Drag a replica onto another instance to relocate it below that instance.</p>' : ''}
    <ul class="tree">${html}</ul>`;
}

function problemsView() {
  const open = [...state.analyses.values()].sort((a, b) => SEVERITY_RANK[severity(b.code)] - SEVERITY_RANK[severity(a.code)]);
  const rows = open.map(a => `<tr class="analysis sev-${severity(a.code)}">
      <td>${badge(a)}</td><td><a href="#/instance/${encodeURIComponent(a.instance)}" data-instance-ref="${esc(a.instance)}">${esc(a.instance)}</a></td>
      <td><a href="#/cluster/${encodeURIComponent(a.cluster)}">${esc(a.cluster)}</a></td>
      <td>${esc(a.description)}${a.evidence.length ? `<ul class="evidence">${a.evidence.map(e => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}
        ${a.structure.length ? `<div class="muted">${a.structure.map(esc).join(', ')}</div>` : ''}</td>
      <td>${a.actionable ? 'actionable' : 'not actionable'}${a.downtimed ? ', downtimed' : ''}</td>
      <td>${a.opened ? clock(a.opened) : 'before the page'}${a.updated && a.updated !== a.opened ? `<br>updated ${clock(a.updated)}` : ''}</td></tr>`);
  const log = state.analysisLog.slice(0, 50).map(e => `<li><span class="time">${clock(e.time)}</span>
      <span class="phase phase-${esc(e.phase)}">${esc(String(e.phase).toLowerCase())}</span> <b>${esc(e.code)}</b> on ${esc(e.instance)}</li>`);
  const recoveries = [...state.recoveries.entries()].reverse().map(([id, steps]) => `<div class="recovery">
      <h4>Recovery ${esc(id)} <span class="muted">${esc(steps[0].cluster || '')}</span></h4>
      <ol class="timeline">${steps.map(s => `<li class="outcome-${esc(s.outcome)}"><span class="time">${clock(s.time)}</span>
        <b>${esc(s.step)}</b> ${esc(String(s.outcome).toLowerCase())} ${esc(s.instance)}${s.destination ? ' → ' + esc(s.destination) : ''}
        ${s.method ? `(${esc(s.method)})` : ''} ${s.millis ? `<span class="muted">${Number(s.millis).toFixed(1)} ms</span>` : ''}
        ${s.detail ? `<div class="reason">${esc(s.detail)}</div>` : ''}</li>`).join('')}</ol></div>`);
  const past = state.pastRecoveries.map(r => `<tr><td>${esc(r.UID)}</td><td>${esc(r.AnalysisEntry ? r.AnalysisEntry.Analysis : '')}</td>
      <td>${esc(r.AnalysisEntry ? keyOf(r.AnalysisEntry.AnalyzedInstanceKey) : '')}</td><td>${esc(keyOf(r.SuccessorKey))}</td>
      <td>${r.IsActive ? 'active' : r.IsSuccessful ? 'succeeded' : 'failed'}</td><td>${esc(r.RecoveryStartTimestamp)}</td>
      <td>${r.Acknowledged ? 'yes' : 'no'}</td></tr>`);
  const ack = state.rights.CanChange && state.rights.RecoveryConsumer
    ? '<button class="action" data-do="ack-all">Acknowledge all recoveries</button>' : '';
  return `<h2>Problems</h2>
    <table class="grid"><thead><tr><th>Analysis</th><th>Instance</th><th>Cluster</th><th>Evidence</th><th>Action</th><th>Since</th></tr></thead>
    <tbody>${rows.join('') || '<tr><td colspan="6" class="ok">No open analysis.</td></tr>'}</tbody></table>
    <div class="columns"><section><h3>As they happen</h3><ul class="log">${log.join('') || '<li class="muted">Nothing since the page opened.</li>'}</ul></section>
    <section><h3>Recoveries ${ack}</h3>${recoveries.join('') || '<p class="muted">No recovery step since the page opened.</p>'}
    ${past.length ? `<table class="grid"><thead><tr><th>UID</th><th>Analysis</th><th>Failed</th><th>Successor</th><th>Outcome</th><th>Started</th><th>Acked</th></tr></thead><tbody>${past.join('')}</tbody></table>` : ''}</section></div>
    <section><h3>Activity</h3><ul class="log">${state.activity.slice(0, 30).map(a => `<li class="${a.ok ? '' : 'bad'}"><span class="time">${clock(a.time)}</span> ${esc(a.text)}</li>`).join('') || '<li class="muted">None.</li>'}</ul></section>`;
}

function instanceView(key) {
  const inst = state.instances.get(key);
  if (!inst) return `<h2>${esc(key)}</h2><p class="muted">Not known to Tidewatch.</p>`;
  const kids = childrenOf(key);
  const problems = analysesOf(a => a.instance === key);
  const can = state.rights.CanChange;
  const dis = can ? '' : ' disabled title="read-only"';
  const row = (k, v) => `<tr><th>${k}</th><td>${v}</td></tr>`;
  const inMaint = state.maintenance.has(key);
  return `<div class="view-head"><h2>${esc(key)}</h2><a href="#/cluster/${encodeURIComponent(inst.cluster)}">cluster ${esc(inst.cluster)}</a></div>
    <div class="columns"><section><table class="details" data-instance-details="${esc(key)}">
      ${row('Role', roleOf(inst, kids))}
      ${row('Master', inst.master ? `<a href="#/instance/${encodeURIComponent(inst.master)}">${esc(inst.master)}</a>` : '—')}
      ${row('Replicas', kids.map(esc).join(', ') || '—')}
      ${row('Version', esc(inst.version))}${row('Server id', esc(inst.serverId))}
      ${row('Binary log', inst.logBin ? `on, ${esc(inst.binlogFormat)}${inst.logReplicaUpdates ? ', log_slave_updates' : ''}` : 'off')}
      ${row('read_only', inst.readOnly ? 'ON' : 'OFF')}
      ${row('Replication', inst.master ? `IO ${inst.io ? 'running' : 'stopped'}, SQL ${inst.sql ? 'running' : 'stopped'}, lag ${inst.lag === null ? 'unknown' : inst.lag + ' s'}` : '—')}
      ${inst.ioError ? row('IO error', esc(inst.ioError)) : ''}${inst.sqlError ? row('SQL error', esc(inst.sqlError)) : ''}
      ${row('Stream', `${esc(inst.stream.state)}${inst.stream.reason ? ' — ' + esc(inst.stream.reason) : ''}`)}
      ${row('Executed GTID', esc(inst.gtid || '—'))}${row('Own binlog', esc(inst.self || '—'))}
      ${row('Data center', esc(inst.dc || '—'))}${row('Promotion rule', esc(inst.promotionRule || '—'))}
      ${row('Reachable', inst.reachable ? 'yes' : '<b class="bad">no</b>')}
      ${row('Downtime', inst.downtimed ? `until ${esc(inst.downtimeEnd)} (${esc(inst.downtimeOwner)}: ${esc(inst.downtimeReason)})` : 'no')}
      ${row('Maintenance', inst.inMaint || inMaint ? 'yes' : 'no')}
      ${row('Problems', problems.map(badge).join(' ') || 'none')}
      <tr><th>Last Pseudo-GTID</th><td id="pgtid"></td></tr>
      ${row('Index size', `<span id="index-size">${chart.key === key && chart.indexBytes !== null ? human(chart.indexBytes) : '…'}</span>`)}
    </table></section>
    <section><h3>Streamed per second</h3><div id="chart"></div>
      <h3>Actions</h3><div class="actions">
      <button class="action" data-do="begin-downtime"${dis}>Begin downtime…</button>
      <button class="action" data-do="end-downtime"${dis}${inst.downtimed ? '' : ' disabled'}>End downtime</button>
      <button class="action" data-do="begin-maintenance"${dis}>Begin maintenance…</button>
      <button class="action" data-do="end-maintenance"${dis}>End maintenance</button></div>
      ${can ? '<p class="hint">To relocate, drag the instance in its cluster\'s tree onto the new master.</p>' : ''}
    </section></div>`;
}

// Filled in place: a new entry arrives every Pseudo-GTID interval.
function drawPseudoGtid() {
  const el = document.getElementById('pgtid');
  if (!el) return;
  const g = state.pgtid.get(route.arg);
  el.innerHTML = g ? `<code>${esc(g.text)}</code><br>${esc(g.at.file)}:${esc(g.at.pos)} ${esc(g.at.gtid || '')} <span class="muted">seen ${clock(g.time)}</span>`
                   : '<span class="muted">none seen since the page opened</span>';
}

// ---------------------------------------------------------------------------
// The instance chart: events and bytes streamed per second, from the
// instance's stream counters read once a second while the view is open.

const chart = { key: '', points: [], last: null, timer: 0, indexBytes: null };

async function sampleChart() {
  const key = chart.key;
  const [host, port] = splitKey(key);
  try {
    const [r, m] = await Promise.all([getJson(apiPath('instance', host, port)), fetch(here('metrics'), { cache: 'no-store' })]);
    if (chart.key !== key) return;
    const text = m.ok ? await m.text() : '';
    const line = text.split('\n').find(l => l.startsWith(`tidewatch_index_bytes{instance="${key}"}`));
    chart.indexBytes = line ? Number(line.split(' ').pop()) : null;
    if (r.status === 200) {
      const s = r.body.TidewatchStream || {};
      const now = performance.now();
      const cur = { t: now, events: s.Events || 0, file: s.Coordinates ? s.Coordinates.LogFile : '', pos: s.Coordinates ? s.Coordinates.LogPos : 0 };
      if (chart.last) {
        const dt = (cur.t - chart.last.t) / 1000;
        const ev = Math.max(0, cur.events - chart.last.events) / dt;
        const by = cur.file === chart.last.file ? Math.max(0, cur.pos - chart.last.pos) / dt : cur.pos / dt;
        chart.points.push({ ev, by });
        if (chart.points.length > 60) chart.points.shift();
      }
      chart.last = cur;
    }
  } catch (e) { /* the next sample */ }
  const el = document.getElementById('index-size');
  if (el && chart.indexBytes !== null) el.textContent = human(chart.indexBytes);
  drawChart();
}

function watchChart() {
  const key = route.view === 'instance' ? route.arg : '';
  if (key === chart.key) return;
  clearInterval(chart.timer);
  Object.assign(chart, { key, points: [], last: null, indexBytes: null, timer: 0 });
  if (key) { sampleChart(); chart.timer = setInterval(sampleChart, 1000); }
}

function drawChart() {
  const el = document.getElementById('chart');
  if (!el) return;
  const W = 360, H = 90;
  const line = (vals, cls) => {
    const max = Math.max(1, ...vals);
    const pts = vals.map((v, i) => `${(i / 59) * W},${H - (v / max) * (H - 4) - 2}`).join(' ');
    return `<polyline class="${cls}" points="${pts}"/>`;
  };
  const ev = chart.points.map(p => p.ev), by = chart.points.map(p => p.by);
  const last = chart.points[chart.points.length - 1];
  el.innerHTML = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" class="spark">${line(ev, 'ev')}${line(by, 'by')}</svg>
    <div class="legend"><span class="ev">events/s ${last ? last.ev.toFixed(1) : '…'}</span>
    <span class="by">bytes/s ${last ? human(last.by) : '…'}</span></div>`;
}

// ---------------------------------------------------------------------------
// Actions: each is confirmed in a dialog, then the API's answer is shown.

function note(text, ok) {
  state.activity.unshift({ time: Date.now(), text, ok });
  state.activity.length = Math.min(state.activity.length, LOG_LIMIT);
  if (route.view === 'problems') scheduleRender();
}

function closeDialog() {
  document.getElementById('dialog').classList.add('hidden');
  document.getElementById('dialog-result').innerHTML = '';
}

// `body` is HTML (inputs allowed); `run(dialog)` returns {status, body} of the API.
function confirmAction(title, body, confirmLabel, run) {
  const dialog = document.getElementById('dialog');
  document.getElementById('dialog-title').textContent = title;
  document.getElementById('dialog-body').innerHTML = body;
  const result = document.getElementById('dialog-result');
  result.innerHTML = '';
  const buttons = document.getElementById('dialog-buttons');
  buttons.innerHTML = `<button data-action="cancel">Cancel</button><button data-action="confirm" class="primary">${esc(confirmLabel)}</button>`;
  dialog.classList.remove('hidden');
  buttons.querySelector('[data-action="cancel"]').onclick = closeDialog;
  buttons.querySelector('[data-action="confirm"]').onclick = async () => {
    buttons.innerHTML = '<span class="muted">Working…</span>';
    let answer;
    try { answer = await run(dialog); } catch (e) { answer = { status: 0, body: { Code: 'ERROR', Message: String(e.message || e) } }; }
    showAnswer(title, answer);
    buttons.innerHTML = '<button data-action="close">Close</button>';
    buttons.querySelector('[data-action="close"]').onclick = closeDialog;
    resync();
  };
}

function showAnswer(title, answer) {
  const b = answer.body || {};
  const ok = answer.status === 200 && b.Code !== 'ERROR';
  const mv = b.Move;
  let moved = '';
  if (mv) {
    moved = mv.moved
      ? `Moved ${esc(mv.instance)} from below ${esc(mv.from_master)} to below ${esc(mv.destination)} by ${esc(mv.method)}${mv.coordinates ? ` at ${esc(mv.coordinates.file || '')}:${esc(mv.coordinates.pos || '')}` : ''} in ${Number(mv.millis || 0).toFixed(0)} ms.`
      : `Nothing moved: ${esc(mv.refused || b.Message)}`;
    if (mv.statements && mv.statements.length) moved += `<details><summary>Statements</summary><pre>${mv.statements.map(esc).join('\n')}</pre></details>`;
  }
  document.getElementById('dialog-result').innerHTML = `<div id="action-result" class="result ${ok ? 'ok' : 'refused'}" data-ok="${ok}">
    <b>${ok ? 'Done' : 'Refused'}</b>: <span class="message">${esc(b.Message || '')}</span>${moved ? `<div>${moved}</div>` : ''}</div>`;
  note(`${title}: ${ok ? 'done' : 'refused'} — ${b.Message || ''}`, ok);
}

function relocate(key, below) {
  const inst = state.instances.get(key);
  confirmAction(`Relocate ${key}`,
    `<p>Move <b>${esc(key)}</b> (now below ${esc(inst ? inst.master || 'nothing' : '?')}) to replicate from <b>${esc(below)}</b>
     with match-below (GTID when it replicates with GTID, otherwise Pseudo-GTID).</p>`,
    'Relocate', () => getJson(apiPath('match-below', ...splitKey(key), ...splitKey(below))));
}

function instanceAction(what, key) {
  const [host, port] = splitKey(key);
  const owner = state.rights.User || 'dashboard';
  if (what === 'begin-downtime') {
    confirmAction(`Begin downtime on ${key}`,
      `<label>Reason <input id="f-reason" value="dashboard"></label> <label>Duration <input id="f-duration" value="30m" size="6"></label>`,
      'Begin downtime', () => getJson(apiPath('begin-downtime', host, port, owner,
        document.getElementById('f-reason').value || 'dashboard', document.getElementById('f-duration').value || '30m')));
  } else if (what === 'begin-maintenance') {
    confirmAction(`Begin maintenance on ${key}`, `<label>Reason <input id="f-reason" value="dashboard"></label>`,
      'Begin maintenance', () => getJson(apiPath('begin-maintenance', host, port, owner,
        document.getElementById('f-reason').value || 'dashboard')));
  } else if (what === 'end-downtime' || what === 'end-maintenance') {
    confirmAction(`${what === 'end-downtime' ? 'End downtime' : 'End maintenance'} on ${key}`, '', 'End',
      () => getJson(apiPath(what, host, port)));
  } else if (what === 'graceful-takeover') {
    // `key` is the cluster's name: its master hands over to one of its direct replicas.
    const cluster = state.clusters.get(key) || [...state.clusters.values()].find(c => c.alias === key);
    const name = cluster ? cluster.name : key;
    const master = [...state.instances.values()].find(i => i.cluster === name && (!i.master || !state.instances.has(i.master)));
    const replicas = master ? childrenOf(master.key).filter(k => state.instances.has(k)).sort() : [];
    confirmAction(`Graceful takeover of ${name}`,
      `<p>The master <b>${esc(master ? master.key : '?')}</b> is made read-only, the designated replica catches up and is
       promoted, the other replicas and the old master replicate from it. Writes are refused for the moment it takes.</p>
       <label>Designated replica <select id="f-designated"><option value="">the most advanced suitable one</option>
       ${replicas.map(k => `<option value="${esc(k)}">${esc(k)}</option>`).join('')}</select></label>`,
      'Take over', () => {
        const d = document.getElementById('f-designated').value;
        return getJson(d ? apiPath('graceful-master-takeover', name, ...splitKey(d))
                         : apiPath('graceful-master-takeover-auto', name));
      });
  } else if (what === 'ack-all') {
    confirmAction('Acknowledge all recoveries', '<label>Comment <input id="f-comment" value="dashboard"></label>', 'Acknowledge',
      () => getJson('api/ack-all-recoveries?comment=' + encodeURIComponent(document.getElementById('f-comment').value)));
  }
}

document.addEventListener('click', ev => {
  const b = ev.target.closest('button[data-do]');
  if (!b || b.disabled) return;
  instanceAction(b.dataset.do, route.arg);
});

// Drag and drop with pointer events (not HTML5 drag), so that mouse, touch
// and WebDriver's pointer actions behave alike.
const drag = { key: '', x: 0, y: 0, moving: false, over: null };

document.addEventListener('pointerdown', ev => {
  if (ev.button !== 0 || !state.rights.CanChange) return;
  const node = ev.target.closest('.tree .node.draggable');
  if (!node) return;
  Object.assign(drag, { key: node.dataset.instance, x: ev.clientX, y: ev.clientY, moving: false, over: null });
  ev.preventDefault();
});

function dropTarget(x, y) {
  const el = document.elementFromPoint(x, y);
  const node = el && el.closest('.tree .node');
  return node && node.dataset.instance !== drag.key ? node : null;
}

document.addEventListener('pointermove', ev => {
  if (!drag.key) return;
  if (!drag.moving && Math.hypot(ev.clientX - drag.x, ev.clientY - drag.y) < 5) return;
  drag.moving = true;
  const ghost = document.getElementById('ghost');
  ghost.textContent = `move ${drag.key}`;
  ghost.style.left = ev.clientX + 12 + 'px';
  ghost.style.top = ev.clientY + 12 + 'px';
  ghost.classList.remove('hidden');
  const over = dropTarget(ev.clientX, ev.clientY);
  if (drag.over !== over) {
    if (drag.over) drag.over.classList.remove('drop-target');
    if (over) over.classList.add('drop-target');
    drag.over = over;
  }
  const src = document.querySelector(`.node[data-instance="${CSS.escape(drag.key)}"]`);
  if (src) src.classList.add('dragging');
});

document.addEventListener('pointerup', ev => {
  if (!drag.key) return;
  const key = drag.key;
  drag.key = '';
  document.getElementById('ghost').classList.add('hidden');
  document.querySelectorAll('.drop-target, .dragging').forEach(e => e.classList.remove('drop-target', 'dragging'));
  const target = dropTarget(ev.clientX, ev.clientY);
  if (target) {
    ev.preventDefault();
    relocate(key, target.dataset.instance);
  } else if (!drag.moving) {
    location.hash = '#/instance/' + encodeURIComponent(key);
  }
});

document.addEventListener('keydown', ev => { if (ev.key === 'Escape') closeDialog(); });

window.addEventListener('hashchange', () => { parseRoute(); watchChart(); render(true); });

parseRoute();
watchChart();
render(true);
connect();
