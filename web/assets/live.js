/* rfm_perf page, live: reads the API this page was served by (REST for the panels, the
 * server-sent event stream for the real-time tiles), reconnects with backoff when the app goes
 * away, and applies suggestions through POST /api/performance/suggestions/{id}/apply (with the
 * token, asked once and kept in sessionStorage, when the server wants one).
 *
 * For tests and benchmarks it publishes window.rfmPerfPage: {updates, drawMs[] (each update's
 * drawing: timeline + panels), timelineMs[], panelsMs, connected, selected[], lastError}.
 */
(function (global) {
  "use strict";
  var C = global.RfmChart, P = global.RfmPanels;
  var API = "/api/performance/";
  var TOKEN_KEY = "rfm_perf_token", SELECTED_KEY = "rfm_perf_selected";
  var $ = function (id) { return document.getElementById(id); };

  var page = global.rfmPerfPage = {
    updates: 0, drawMs: [], timelineMs: [], connected: false, selected: [], lastError: null, config: null
  };
  var state = {
    config: null, names: [], details: {}, values: {}, snapshotAt: 0,
    bottlenecks: null, flameFrame: "latest_frame", history: {}, baselines: {}, anomalies: [],
    panelsAt: 0, timelineBusy: false, timelineAgain: false, backoff: 1000, source: null, retryTimer: null
  };

  // ---- HTTP ------------------------------------------------------------------------------

  function token() { try { return global.sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; } }

  function askToken(reason) {
    var t = global.prompt((reason ? reason + "\n\n" : "") + "API token (kept for this tab only):", token() || "");
    if (t === null) { return false; }
    try { global.sessionStorage.setItem(TOKEN_KEY, t.trim()); } catch (e) { /* private mode */ }
    return true;
  }

  function getJson(path) {
    return fetch(path, { cache: "no-store" }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error((body && body.error) || ("HTTP " + r.status)); }
        return body;
      });
    });
  }

  /** POST with the token (asked for first when the server says it needs one and this tab has
   * none); on 401/403 asks again once and retries. */
  function post(path, retried) {
    var headers = { "Content-Type": "application/json" };
    if (!token() && state.config && state.config.token_required && !askToken("This server needs a token for changes.")) {
      return Promise.reject(new Error("no token given"));
    }
    var t = token();
    if (t) { headers.Authorization = "Bearer " + t; }
    return fetch(path, { method: "POST", headers: headers, body: "{}" }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if ((r.status === 401 || (r.status === 403 && t)) && !retried &&
          askToken(body.error || "This server needs a token for changes.")) {
          return post(path, true);
        }
        if (!r.ok) { throw new Error(body.error || ("HTTP " + r.status)); }
        return body;
      });
    });
  }

  // ---- status ----------------------------------------------------------------------------

  function setStatus(kind, text) {
    var s = $("status");
    s.className = "status " + kind;
    s.textContent = text;
    page.connected = kind === "live";
  }

  function toast(text, ok) {
    var t = $("toast");
    t.className = "toast " + (ok ? "ok" : "error");
    t.textContent = text;
  }

  // ---- real-time tiles and the metric list -------------------------------------------------

  var tiles = new P.Tiles($("tiles"));

  function selected() { return page.selected; }

  function saveSelected() {
    try { global.sessionStorage.setItem(SELECTED_KEY, JSON.stringify(page.selected)); } catch (e) { /* ignore */ }
  }

  function loadSelected(config) {
    try {
      var s = JSON.parse(global.sessionStorage.getItem(SELECTED_KEY) || "null");
      if (Array.isArray(s)) { return s; }
    } catch (e) { /* ignore */ }
    return ((config && config.metrics_to_show) || []).slice(0, 2);
  }

  function renderMetricList() {
    var list = $("metric-list"), query = $("metric-search").value.trim().toLowerCase();
    P.clear(list);
    var shown = state.names.filter(function (n) {
      return !query || n.toLowerCase().indexOf(query) >= 0 ||
        ((state.details[n] && state.details[n].description) || "").toLowerCase().indexOf(query) >= 0;
    });
    shown.forEach(function (n) {
      var on = page.selected.indexOf(n) >= 0;
      var label = P.el("label", on ? "selected" : "");
      label.dataset.metric = n;
      label.title = (state.details[n] && state.details[n].description) || n;
      label.setAttribute("role", "option");
      label.setAttribute("aria-selected", on ? "true" : "false");
      var box = P.el("input");
      box.type = "checkbox";
      box.checked = on;
      box.addEventListener("change", function () { toggleMetric(n, box.checked); });
      label.appendChild(box);
      label.appendChild(document.createTextNode(n));
      list.appendChild(label);
    });
    if (!shown.length) { list.appendChild(P.el("span", "muted", state.names.length ? "No metric matches" : "No metrics yet")); }
  }

  function toggleMetric(name, on) {
    var i = page.selected.indexOf(name);
    if (on && i < 0) { page.selected.push(name); }
    if (!on && i >= 0) { page.selected.splice(i, 1); }
    saveSelected();
    renderMetricList();
    refreshTimeline();
  }

  function onSnapshot(snap) {
    var names = Object.keys(snap.details || {}).sort();
    var changed = names.join("\n") !== state.names.join("\n");
    state.names = names;
    state.details = snap.details || {};
    state.values = snap.metrics || {};
    state.snapshotAt = Date.now();
    var started = performance.now();
    tiles.update(snap);
    if (changed) { renderMetricList(); }
    var took = performance.now() - started;
    page.updates += 1;
    var now = Date.now(), interval = ((state.config && state.config.update_interval_s) || 1) * 1000;
    if (now - state.panelsAt >= interval * 0.9) {
      state.panelsAt = now;
      refreshPanels(took);
    }
  }

  // ---- the other panels --------------------------------------------------------------------

  var scopeTable = new P.ScopeTable($("scope-table"));
  var breakdownView = new P.Breakdown($("breakdown"));
  var resourcesView = new P.Resources($("resources"));
  var flameBoxes = [];

  function drawFlame() {
    var b = state.bottlenecks, frame = b && b[state.flameFrame];
    flameBoxes = C.flame($("flame"), frame || null, $("flame-fit").checked);
    var scoped = 0;
    ((frame && frame.threads) || []).forEach(function (l) {
      l.nodes.forEach(function (n) { if (n.parent === null) { scoped += n.total_ms; } });
    });
    $("flame-caption").textContent = frame
      ? "frame " + frame.index + ": " + P.fmt(frame.duration_ms, "ms") + ", " + frame.threads.length +
        " thread(s), " + P.fmt(scoped, "ms") + " in scopes" +
        ($("flame-fit").checked ? " (drawn fitted to them)"
          : frame.duration_ms > 0 && scoped < 0.05 * frame.duration_ms
            ? " — the rest is outside any scope (GPU wait, systems without a scope): tick “Fit to scopes” to see them"
            : "")
      : "";
  }

  function refreshPanels(tilesMs) {
    Promise.all([
      getJson(API + "bottlenecks"), getJson(API + "suggestions"), getJson(API + "alerts"), getJson(API + "system")
    ]).then(function (r) {
      var parts = {}, t = performance.now(), lap = function (name) {
        var now = performance.now(); parts[name] = now - t; t = now;
      };
      state.bottlenecks = r[0];
      if ($("bottlenecks")) {
        breakdownView.update(r[0].breakdown); lap("breakdown");
        drawFlame(); lap("flame");
        scopeTable.update(r[0].scopes); lap("scopes");
      }
      P.advice($("advice"), r[1], r[2], apply); lap("advice");
      resourcesView.update(state.values, r[3]); lap("resources");
      parts.tiles = tilesMs || 0;
      page.parts = parts;
      page.panelsMs = Object.keys(parts).reduce(function (s, k) { return s + parts[k]; }, 0);
    }).catch(function (e) { page.lastError = String(e); });
    refreshTimeline();
  }

  // ---- timeline ----------------------------------------------------------------------------

  var timeline = new C.Timeline($("timeline"), {
    windowMs: 300e3,
    onRange: function () { refreshTimeline(); }
  });

  function iso(ms) { return new Date(ms).toISOString(); }

  function refreshTimeline() {
    if (state.timelineBusy) { state.timelineAgain = true; return; }
    var names = selected().slice();
    var canvas = $("timeline");
    var points = Math.max(50, Math.min(4000, Math.floor((canvas.clientWidth || 800) - 64)));
    var range = timeline.visible(), live = timeline.live();
    var since = live ? "-" + Math.round(timeline.windowMs / 1000) : iso(range.t0);
    var query = "since=" + encodeURIComponent(since) + (live ? "" : "&until=" + encodeURIComponent(iso(range.t1)));
    $("timeline-mode").textContent = live ? "following live" : "zoomed: " + new Date(range.t0).toLocaleTimeString() + " – " + new Date(range.t1).toLocaleTimeString();
    state.timelineBusy = true;
    Promise.all(names.map(function (n) {
      return getJson(API + "history/" + encodeURIComponent(n) + "?points=" + points + "&" + query)
        .catch(function () { return null; });
    }).concat([getJson(API + "anomalies?since=" + encodeURIComponent(since)).catch(function () { return { anomalies: [] }; })]))
      .then(function (results) {
        var anomalies = (results.pop() || {}).anomalies || [];
        var lanes = [];
        results.forEach(function (h, i) {
          if (!h) { return; }
          var n = h.history.length, t = new Float64Array(n), v = new Float64Array(n);
          for (var k = 0; k < n; k++) { t[k] = Date.parse(h.history[k].timestamp); v[k] = h.history[k].value; }
          var base = state.baselines[names[i]];
          lanes.push({
            name: names[i], unit: h.unit, color: C.color(i), t: t, v: v,
            band: base ? { lo: base.median, hi: base.p95 } : null,
            markers: anomalies.filter(function (a) { return a.metric === names[i]; })
              .map(function (a) { return { t: Date.parse(a.timestamp), label: a.kind }; })
          });
        });
        var started = performance.now();
        timeline.setLanes(lanes);
        timeline.draw();
        // (benchmarks: make the canvas rasterize now, so the time includes it)
        if (page.flushDraws) { $("timeline").getContext("2d").getImageData(0, 0, 1, 1); }
        var took = performance.now() - started;
        page.timelineMs.push(took);
        page.drawMs.push(took + (page.panelsMs || 0));
        if (page.drawMs.length > 200) { page.drawMs.shift(); page.timelineMs.shift(); }
        page.timelineLanes = lanes.length;
        page.timelinePoints = lanes.reduce(function (s, l) { return s + l.t.length; }, 0);
      })
      .catch(function (e) { page.lastError = String(e); })
      .then(function () {
        state.timelineBusy = false;
        if (state.timelineAgain) { state.timelineAgain = false; refreshTimeline(); }
      });
  }

  function loadBaselines() {
    getJson(API + "baseline").then(function (b) { state.baselines = b.metrics || {}; }).catch(function () { /* none yet */ });
  }

  // ---- Apply -------------------------------------------------------------------------------

  function apply(suggestion, button) {
    button.disabled = true;
    button.textContent = "Applying…";
    post(API + "suggestions/" + encodeURIComponent(suggestion.id) + "/apply").then(function (r) {
      toast("Applied: " + r.applied.name + " = " + C.short(r.applied.value) + " (" + suggestion.title + ")", true);
      page.lastApplied = r;
    }).catch(function (e) {
      toast("Apply failed: " + e.message, false);
      button.disabled = false;
      button.textContent = "Apply";
    });
  }

  // ---- the stream, with reconnection -------------------------------------------------------

  function connect() {
    if (state.retryTimer) { clearTimeout(state.retryTimer); state.retryTimer = null; }
    if (state.source) { state.source.close(); }
    setStatus("connecting", "connecting…");
    var es = new EventSource(API + "stream");
    state.source = es;
    es.addEventListener("open", function () {
      state.backoff = 1000;
      setStatus("live", "live");
      if (!state.config) { boot(); }
    });
    es.addEventListener("snapshot", function (e) {
      try { onSnapshot(JSON.parse(e.data)); } catch (err) { page.lastError = String(err); }
    });
    es.addEventListener("error", function () {
      es.close();
      state.source = null;
      var wait = state.backoff;
      state.backoff = Math.min(15000, state.backoff * 2);
      setStatus("disconnected", "disconnected — retrying in " + Math.round(wait / 1000) + " s");
      state.retryTimer = setTimeout(function () { state.config = null; connect(); }, wait);
    });
  }

  function boot() {
    getJson(API + "config").then(function (cfg) {
      state.config = cfg;
      page.config = cfg;
      $("scenario").textContent = (cfg.scenario ? "scenario " + cfg.scenario : "") + " · v" + cfg.crate_version;
      tiles.setMetrics(P.Tiles.shown(cfg));
      if (!page.selected.length) { page.selected = loadSelected(cfg); }
      renderMetricList();
      $("bottlenecks").hidden = cfg.show_bottleneck_analysis === false;
      loadBaselines();
      return getJson(API + "metrics");
    }).then(function (snap) { onSnapshot(snap); })
      .catch(function (e) { page.lastError = String(e); });
  }

  // ---- controls ----------------------------------------------------------------------------

  $("metric-search").addEventListener("input", renderMetricList);
  $("metric-search").addEventListener("keydown", function (e) {
    if (e.key !== "Enter") { return; }
    var first = $("metric-list").querySelector("label");
    if (first) { toggleMetric(first.dataset.metric, page.selected.indexOf(first.dataset.metric) < 0); }
  });
  $("timeline-window").addEventListener("change", function () {
    timeline.follow(Number($("timeline-window").value) * 1000);
  });
  $("timeline-follow").addEventListener("click", function () { timeline.follow(); });
  $("token-button").addEventListener("click", function () { askToken(""); });
  Array.prototype.forEach.call(document.querySelectorAll("input[name=flame-frame]"), function (r) {
    r.addEventListener("change", function () { state.flameFrame = r.value; drawFlame(); });
  });
  $("flame-fit").addEventListener("change", drawFlame);
  $("flame").addEventListener("mousemove", function (e) {
    var rect = $("flame").getBoundingClientRect(), x = e.clientX - rect.left, y = e.clientY - rect.top;
    var hit = null;
    for (var i = 0; i < flameBoxes.length; i++) {
      var b = flameBoxes[i];
      if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) { hit = b; }
    }
    $("flame-tip").textContent = hit
      ? hit.thread + " › " + hit.node.name + ": " + P.fmt(hit.node.total_ms, "ms") + " total, " +
        P.fmt(hit.node.self_ms, "ms") + " self, " + hit.node.calls + " call(s)"
      : "";
  });
  global.addEventListener("resize", function () { timeline.draw(); drawFlame(); });
  setInterval(loadBaselines, 60000);

  connect();
})(window);
