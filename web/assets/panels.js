/* rfm_perf page: the panels (tiles, scope table, frame breakdown, resources, suggestions and
 * alerts), built with DOM calls and textContent only, so no value from the app is ever parsed as
 * HTML. Shared by the live page and the static report. Defines window.RfmPanels.
 */
(function (global) {
  "use strict";
  var C = global.RfmChart;

  /** A new element with a class and text. */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  /** Sets a node's text only when it differs (no needless layout work). */
  function setText(node, text) { if (node.textContent !== text) { node.textContent = text; } }

  /** A value with its unit, as the in-game dashboard writes it. */
  function fmt(v, unit) {
    if (v === null || v === undefined || !isFinite(v)) { return "—"; }
    switch (unit) {
      case "ms": return (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)) + " ms";
      case "fps": return v.toFixed(1) + " fps";
      case "MB": return v.toFixed(1) + " MB";
      case "%": return v.toFixed(1) + " %";
      case "ratio": return (v * 100).toFixed(1) + " %";
      case "B": return C.short(v) + "B";
      case "B/s": return C.short(v) + "B/s";
      case "count": case "": case undefined: return C.short(v);
      default: return C.short(v) + " " + unit;
    }
  }

  /** Real-time tiles: value, status colour and a sparkline per metric. */
  function Tiles(container, keep) {
    this.container = container;
    this.keep = keep || 120;
    this.history = {};
    this.tiles = {};
    this.order = [];
  }

  /** Which tiles: the configured metrics in order, the 1 % low beside the FPS. */
  Tiles.shown = function (config) {
    var list = ((config && config.metrics_to_show) || []).slice();
    var fps = list.indexOf("frame.fps");
    if (fps >= 0 && list.indexOf("frame.fps_1pct_low") < 0) { list.splice(fps + 1, 0, "frame.fps_1pct_low"); }
    return list;
  };

  Tiles.prototype.setMetrics = function (names) {
    if (names.join("\n") === this.order.join("\n")) { return; }
    this.order = names;
    clear(this.container);
    this.tiles = {};
    for (var i = 0; i < names.length; i++) {
      var t = el("div", "tile unknown");
      t.dataset.metric = names[i];
      var name = el("div", "tile-name", names[i]);
      var value = el("div", "tile-value", "—");
      var note = el("div", "tile-note", "");
      var spark = el("canvas", "spark");
      t.appendChild(name); t.appendChild(value); t.appendChild(spark); t.appendChild(note);
      this.container.appendChild(t);
      this.tiles[names[i]] = { root: t, value: value, note: note, spark: spark };
    }
  };

  /** One metrics snapshot (the API's /metrics document). */
  Tiles.prototype.update = function (snap) {
    var values = snap.metrics || {}, details = snap.details || {};
    for (var i = 0; i < this.order.length; i++) {
      var name = this.order[i], tile = this.tiles[name], d = details[name];
      var v = values[name];
      var h = this.history[name] || (this.history[name] = []);
      if (v !== undefined && v !== null) { h.push(v); if (h.length > this.keep) { h.shift(); } }
      var status = (d && d.status) || "unknown";
      setText(tile.value, fmt(v, d && d.unit));
      setText(tile.note, d ? (v === undefined ? "no sample yet" : d.description) : "not recorded by this app");
      if (tile.status !== status) { tile.root.className = "tile " + status; tile.status = status; }
      if (!tile.titled && d) { tile.root.title = name + ": " + d.description; tile.titled = true; }
      C.sparkline(tile.spark, h, status);
    }
  };

  var SCOPE_COLUMNS = [
    ["name", "Scope"], ["calls_per_frame", "Calls/frame"], ["total_ms", "Total ms"],
    ["self_ms", "Self ms"], ["mean_ms", "Mean ms"], ["p50_ms", "p50 ms"], ["p95_ms", "p95 ms"],
    ["p99_ms", "p99 ms"], ["max_ms", "Max ms"]
  ];

  /** The sortable scope table: click a header to sort by it, again to reverse. */
  function ScopeTable(table, limit) {
    var self = this;
    this.table = table;
    this.limit = limit || 200;
    this.key = "total_ms";
    this.descending = true;
    this.rows = [];
    clear(table);
    var head = el("thead"), tr = el("tr");
    this.headers = {};
    SCOPE_COLUMNS.forEach(function (col) {
      var th = el("th", col[0] === "name" ? "" : "num", col[1]);
      th.dataset.key = col[0];
      th.tabIndex = 0;
      th.addEventListener("click", function () { self.sortBy(col[0]); });
      self.headers[col[0]] = th;
      tr.appendChild(th);
    });
    head.appendChild(tr);
    table.appendChild(head);
    this.body = el("tbody");
    table.appendChild(this.body);
  }

  ScopeTable.prototype.sortBy = function (key) {
    if (this.key === key) { this.descending = !this.descending; } else {
      this.key = key; this.descending = key !== "name";
    }
    this.render();
  };

  ScopeTable.prototype.update = function (scopes) { this.rows = scopes || []; this.render(); };

  ScopeTable.prototype.render = function () {
    var key = this.key, sign = this.descending ? -1 : 1;
    var rows = this.rows.slice().sort(function (a, b) {
      var x = a[key], y = b[key];
      if (typeof x === "string") { return sign * x.localeCompare(y); }
      return sign * ((x || 0) - (y || 0));
    });
    for (var k in this.headers) {
      this.headers[k].className = (k === "name" ? "" : "num") + (k === key ? (this.descending ? " sorted-desc" : " sorted-asc") : "");
    }
    clear(this.body);
    if (!rows.length) {
      var tr = el("tr"), td = el("td", "muted", "No scopes recorded yet: add #[track_performance] or perf_scope!");
      td.colSpan = SCOPE_COLUMNS.length;
      tr.appendChild(td);
      this.body.appendChild(tr);
      return;
    }
    var frag = document.createDocumentFragment();
    for (var i = 0; i < Math.min(rows.length, this.limit); i++) {
      var r = rows[i], row = el("tr");
      for (var c = 0; c < SCOPE_COLUMNS.length; c++) {
        var col = SCOPE_COLUMNS[c][0], v = r[col];
        row.appendChild(el("td", col === "name" ? "scope-name" : "num", col === "name" ? v : C.short(v)));
      }
      frag.appendChild(row);
    }
    this.body.appendChild(frag);
  };

  /** The frame breakdown: a stacked bar and a legend with each part's ms and share. The canvas
   * and legend stay; only their text and drawing change from update to update. */
  function Breakdown(container) {
    this.container = container;
    this.labels = null;
  }

  Breakdown.prototype.update = function (data) {
    var shares = (data && data.shares) || [];
    var labels = shares.map(function (s) { return s.label; }).join("\n");
    if (!shares.length) {
      if (this.labels !== "") { clear(this.container); this.container.appendChild(el("p", "muted", "No frame breakdown yet")); }
      this.labels = "";
      return;
    }
    if (labels !== this.labels) {
      clear(this.container);
      this.caption = el("div", "caption");
      this.canvas = el("canvas", "bar");
      this.legend = el("ul", "legend");
      this.items = shares.map(function (s, i) {
        var li = el("li"), sw = el("span", "swatch"), text = el("span");
        sw.style.background = C.color(i);
        li.appendChild(sw); li.appendChild(text);
        this.legend.appendChild(li);
        return text;
      }, this);
      this.container.appendChild(this.caption);
      this.container.appendChild(this.canvas);
      this.container.appendChild(this.legend);
      this.labels = labels;
    }
    this.caption.textContent = "Frame " + fmt(data.frame_ms, "ms") + " (mean over the window)";
    C.stackedBar(this.canvas, shares, data.frame_ms);
    shares.forEach(function (s, i) {
      var share = data.frame_ms > 0 ? " (" + (100 * s.ms / data.frame_ms).toFixed(0) + " %)" : "";
      this.items[i].textContent = s.label + " " + fmt(s.ms, "ms") + share;
    }, this);
  };

  /** Rows of [label, text, missing] as a two-column list. */
  function rowsList(rows) {
    var dl = el("dl", "rows");
    rows.forEach(function (r) {
      dl.appendChild(el("dt", "", r[0]));
      dl.appendChild(el("dd", r[2] ? "muted" : "", r[1]));
    });
    return dl;
  }

  function metricRow(values, label, name, unit, missing) {
    var v = values[name];
    return v === undefined || v === null ? [label, missing, true] : [label, fmt(v, unit), false];
  }

  /** The resources' sections as data: [{title, rows: [[label, text, missing]], cores: [%]}]. */
  function resourceSections(values, system) {
    values = values || {};
    var waiting = "n/a: waiting for the first system sample", noCpu = "n/a: waiting for the first CPU sample";
    var noAlloc = "n/a: no CountingAllocator", noIo = "n/a: process I/O not available on this platform";
    var cores = [];
    for (var i = 0; i < 1024; i++) {
      var v = values["system.cpu.core" + i + "_pct"];
      if (v === undefined) { break; }
      cores.push(v);
    }
    var gpu = (system && system.gpu) || null;
    var noGpu = (system && system.gpu_missing_reason) ? "n/a: " + system.gpu_missing_reason : "n/a: no GPU pass in this app";
    return [
      { title: "CPU", cores: cores, rows: [
        metricRow(values, "System", "system.cpu_pct", "%", noCpu),
        metricRow(values, "This process", "process.cpu_pct", "%", noCpu),
        ["Model", (system && system.cpu_model) || "n/a: unknown", !(system && system.cpu_model)]
      ] },
      { title: "Memory", rows: [
        metricRow(values, "Process (resident)", "process.memory_mb", "MB", waiting),
        metricRow(values, "Heap live", "process.heap_live_mb", "MB", noAlloc),
        metricRow(values, "System used", "system.memory_used_mb", "MB", waiting),
        metricRow(values, "Allocations/frame", "process.allocs_per_frame", "count", noAlloc),
        metricRow(values, "Allocated bytes/frame", "process.alloc_bytes_per_frame", "B", noAlloc)
      ] },
      { title: "GPU", rows: [
        ["Adapter", gpu ? gpu.adapter : noGpu, !gpu],
        ["Backend", gpu ? gpu.backend + " (" + gpu.device_type + ")" : noGpu, !gpu],
        metricRow(values, "Fractal pass", "render.fractal_gpu_ms", "ms",
          gpu && gpu.gpu_time_missing_reason ? "n/a: " + gpu.gpu_time_missing_reason : "n/a: no GPU pass timed yet"),
        metricRow(values, "Utilization", "gpu.utilization_pct", "%", "n/a: not reported by this backend"),
        metricRow(values, "Memory", "gpu.memory_mb", "MB", "n/a: not reported by this backend"),
        ["Pass state", system && system.fractal_pass ? system.fractal_pass.state : "n/a: no GPU pass in this app", !(system && system.fractal_pass)]
      ] },
      { title: "I/O", rows: [
        metricRow(values, "Read", "io.read_bytes_per_s", "B/s", noIo),
        metricRow(values, "Written", "io.write_bytes_per_s", "B/s", noIo),
        metricRow(values, "I/O pressure", "io.pressure_pct", "%", "n/a: /proc/pressure/io not available")
      ] }
    ];
  }

  function coreClass(v) { return "core-fill" + (v > 95 ? " critical" : v > 80 ? " warning" : ""); }

  /** The resources panel: per-core CPU bars, memory, allocations, GPU and I/O; a missing source
   * says why. Built once; later updates only change text and bar widths. */
  function Resources(container) {
    this.container = container;
    this.shape = null;
  }

  Resources.prototype.update = function (values, system) {
    var sections = resourceSections(values, system);
    var shape = sections.map(function (s) { return s.title + ":" + s.rows.length + ":" + (s.cores ? s.cores.length : -1); }).join();
    if (shape !== this.shape) { this.build(sections); this.shape = shape; }
    var cells = this.cells, bars = this.bars, c = 0, b = 0;
    sections.forEach(function (s) {
      s.rows.forEach(function (r) {
        var dd = cells[c++], cls = r[2] ? "muted" : "";
        setText(dd, r[1]);
        if (dd.className !== cls) { dd.className = cls; }
      });
      (s.cores || []).forEach(function (v) {
        var bar = bars[b++], width = Math.max(0, Math.min(100, v)).toFixed(0) + "%", cls = coreClass(v);
        if (bar.width !== width) { bar.fill.style.width = width; bar.width = width; }
        if (bar.fill.className !== cls) { bar.fill.className = cls; }
        setText(bar.value, v.toFixed(0) + " %");
      });
    });
  };

  Resources.prototype.build = function (sections) {
    clear(this.container);
    var cells = this.cells = [], bars = this.bars = [], container = this.container;
    sections.forEach(function (s) {
      var sec = el("section", "res");
      sec.appendChild(el("h3", "", s.title));
      var dl = el("dl", "rows");
      s.rows.forEach(function (r) {
        dl.appendChild(el("dt", "", r[0]));
        var dd = el("dd");
        cells.push(dd);
        dl.appendChild(dd);
      });
      sec.appendChild(dl);
      if (s.cores) {
        var cores = el("div", "cores");
        s.cores.forEach(function (v, i) {
          var row = el("div", "core"), bar = el("span", "core-bar"), fill = el("span", "core-fill"), value = el("span", "core-value");
          row.appendChild(el("span", "core-label", "core " + i));
          bar.appendChild(fill); row.appendChild(bar); row.appendChild(value);
          cores.appendChild(row);
          bars.push({ fill: fill, value: value });
        });
        if (!s.cores.length) { cores.appendChild(el("p", "muted", "n/a: waiting for the first CPU sample")); }
        sec.appendChild(cores);
      }
      container.appendChild(sec);
    });
  };

  function gainText(p) {
    if (!p) { return null; }
    var range = (p.gpu_ms_low !== null && p.gpu_ms_low !== undefined && p.gpu_ms_high !== null && p.gpu_ms_high !== undefined)
      ? " (" + p.gpu_ms_low.toFixed(1) + "–" + p.gpu_ms_high.toFixed(1) + ")" : "";
    var share = p.current_gpu_ms > 0 ? ", " + (100 * p.gpu_ms / p.current_gpu_ms).toFixed(0) + " % of the pass" : "";
    return "Predicted: saves " + p.gpu_ms.toFixed(1) + " ms GPU" + range + share +
      (p.frame_ms !== null && p.frame_ms !== undefined ? ", " + p.frame_ms.toFixed(1) + " ms per frame" : "");
  }

  /** Suggestions (with Apply when they carry a parameter change), their measured outcomes and
   * the alerts. `onApply(suggestion, button)` is called on a click; absent: no buttons (report). */
  function advice(container, data, alerts, onApply) {
    clear(container);
    var active = (alerts && alerts.active) || [];
    var a = el("section", "alerts");
    a.appendChild(el("h3", "", "Alerts (" + active.length + " active)"));
    if (!active.length) { a.appendChild(el("p", "muted", "No active alerts")); }
    active.forEach(function (al) {
      var item = el("div", "alert " + al.status);
      item.appendChild(el("strong", "", al.status.toUpperCase() + " "));
      item.appendChild(el("span", "", al.message));
      a.appendChild(item);
    });
    container.appendChild(a);

    var s = el("section", "suggestions");
    var list = (data && data.suggestions) || [];
    s.appendChild(el("h3", "", "Suggestions (" + list.length + ")"));
    if (!list.length) { s.appendChild(el("p", "muted", "No suggestions: nothing stands out")); }
    list.forEach(function (sg) {
      var card = el("div", "suggestion");
      card.dataset.id = sg.id;
      card.appendChild(el("div", "title", sg.title));
      card.appendChild(el("div", "evidence", sg.evidence));
      var gain = gainText(sg.predicted);
      if (gain) { card.appendChild(el("div", "gain", gain)); }
      if (sg.parameter) {
        var change = el("div", "change", "Sets " + sg.parameter.name + " = " + C.short(sg.parameter.value));
        card.appendChild(change);
        if (onApply) {
          var b = el("button", "apply", "Apply");
          b.type = "button";
          b.dataset.id = sg.id;
          b.addEventListener("click", function () { onApply(sg, b); });
          card.appendChild(b);
        }
      }
      s.appendChild(card);
    });
    container.appendChild(s);

    var outcomes = (data && data.outcomes) || [];
    if (outcomes.length) {
      var o = el("section", "outcomes");
      o.appendChild(el("h3", "", "Applied changes"));
      outcomes.forEach(function (oc) {
        var item = el("div", "outcome " + oc.verdict);
        item.appendChild(el("div", "title", oc.title + " — " + oc.parameter.name + " = " + C.short(oc.parameter.value)));
        item.appendChild(el("div", "evidence", oc.message));
        o.appendChild(item);
      });
      container.appendChild(o);
    }
  }

  /** A table from a header row and rows of cells (strings or numbers). */
  function table(headers, rows) {
    var t = el("table", "grid"), head = el("thead"), tr = el("tr");
    headers.forEach(function (h, i) { tr.appendChild(el("th", i ? "num" : "", h)); });
    head.appendChild(tr); t.appendChild(head);
    var body = el("tbody");
    rows.forEach(function (r) {
      var row = el("tr");
      r.forEach(function (c, i) { row.appendChild(el("td", i ? "num" : "", typeof c === "number" ? C.short(c) : c)); });
      body.appendChild(row);
    });
    t.appendChild(body);
    return t;
  }

  global.RfmPanels = {
    el: el, clear: clear, fmt: fmt, Tiles: Tiles, ScopeTable: ScopeTable,
    Breakdown: Breakdown, Resources: Resources, advice: advice, table: table, rowsList: rowsList
  };
})(window);
