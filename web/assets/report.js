/* rfm_perf report: renders saved headless benchmark reports (the JSON array in the page's
 * #report-data block) with the live page's charts and tables. Runs from file:// with no server:
 * the CLI (`rfm-perf report`) inlines this script, chart.js, panels.js and the stylesheet.
 */
(function (global) {
  "use strict";
  var C = global.RfmChart, P = global.RfmPanels, el = P.el;

  function pct(p, unit) {
    return p ? [P.fmt(p.p50, unit), P.fmt(p.p95, unit), P.fmt(p.p99, unit), P.fmt(p.mean, unit)] : ["—", "—", "—", "—"];
  }

  function label(r, i) {
    return "#" + (i + 1) + " " + (r.scenario || "run") + (r.git_commit ? " @" + r.git_commit : "");
  }

  function panel(title, full) {
    var s = el("section", "panel" + (full ? " full" : ""));
    s.appendChild(el("h2", "", title));
    return s;
  }

  function frameAxis(t) { return "frame " + Math.round(t); }

  /** A timeline of per-frame series: lanes [{name, unit, values}] against the frame number. */
  function frameChart(container, lanes) {
    var canvas = el("canvas", "chart");
    container.appendChild(canvas);
    var longest = 1;
    var prepared = lanes.map(function (l, i) {
      var n = l.values.length, t = new Float64Array(n), v = new Float64Array(n);
      for (var k = 0; k < n; k++) { t[k] = k; v[k] = l.values[k] === null ? NaN : l.values[k]; }
      longest = Math.max(longest, n);
      return { name: l.name, unit: l.unit, color: C.color(i), t: t, v: v, band: l.band || null, markers: l.markers || [] };
    });
    var tl = new C.Timeline(canvas, { windowMs: Math.max(1, longest - 1), xFormat: frameAxis, laneHeight: 70,
      empty: "No per-frame series in this report" });
    tl.setLanes(prepared);
    tl.draw();
    global.addEventListener("resize", function () { tl.draw(); });
    container.appendChild(el("p", "hint", "Wheel: zoom · drag: pan · double-click: whole run. Green band: median–p95."));
    return tl;
  }

  function summary(reports) {
    var s = panel("Summary", true);
    var rows = [];
    reports.forEach(function (r, i) {
      var f = pct(r.frame_ms, "ms"), g = pct(r.gpu_pass_ms, "ms");
      rows.push([label(r, i), r.width + "×" + r.height, r.frames, f[0], f[1], f[2], g[0], g[1],
        r.iterations_per_s, r.gpu_iterations_per_s === null || r.gpu_iterations_per_s === undefined ? "—" : r.gpu_iterations_per_s,
        r.mpixels_per_s, r.cost_model && r.cost_model.mape !== null && r.cost_model.mape !== undefined ? (100 * r.cost_model.mape).toFixed(1) + " %" : "—"]);
    });
    s.appendChild(P.table(["Run", "Size", "Frames", "Frame p50", "Frame p95", "Frame p99", "GPU p50", "GPU p95",
      "Iterations/s", "GPU it/s", "Mpx/s", "Cost model MAPE"], rows));
    var tiles = el("div", "tiles");
    reports.forEach(function (r, i) {
      [["frame p50", r.frame_ms && r.frame_ms.p50, "ms"], ["frame p99", r.frame_ms && r.frame_ms.p99, "ms"],
        ["GPU pass p50", r.gpu_pass_ms && r.gpu_pass_ms.p50, "ms"], ["iterations/s", r.iterations_per_s, "count"]]
        .forEach(function (t) {
          var tile = el("div", "tile ok");
          tile.appendChild(el("div", "tile-name", label(r, i) + " · " + t[0]));
          tile.appendChild(el("div", "tile-value", P.fmt(t[1], t[2])));
          tiles.appendChild(tile);
        });
    });
    s.appendChild(tiles);
    return s;
  }

  function machine(r, i) {
    var s = panel("Run " + label(r, i), false);
    var h = r.hardware || {};
    s.appendChild(P.rowsList([
      ["Scenario", r.scenario || "—"], ["Commit", r.git_commit || "unknown", !r.git_commit],
      ["Version", r.crate_version || "—"], ["CPU", (h.cpu_model || "?") + " (" + (h.cores || "?") + " cores)"],
      ["Memory", (h.memory_gib || "?") + " GiB"], ["OS", h.os || "—"],
      ["GPU", (r.adapter || h.gpu_adapter || "?") + " · " + (r.backend || h.gpu_backend || "?")],
      ["Driver", h.gpu_driver || "—"], ["Size", r.width + "×" + r.height + ", " + r.frames + " frames, max_iter " + r.max_iter],
      ["Interior checks", r.interior_check ? "on" : "off"],
      ["GPU timing", r.gpu_pass_ms ? "measured" : "n/a: " + (r.gpu_pass_missing_reason || "not measured"), !r.gpu_pass_ms],
      ["df64 frames", r.df64_frames === undefined ? "—" : String(r.df64_frames)],
      ["Computed share", r.computed_share === null || r.computed_share === undefined ? "—" : (100 * r.computed_share).toFixed(1) + " %"]
    ]));
    if (r.adaptive) {
      var a = r.adaptive;
      s.appendChild(el("h3", "", "Adaptive quality"));
      s.appendChild(P.rowsList([
        ["Target", a.target_fps + " fps (" + P.fmt(a.budget_ms, "ms") + ")"],
        ["After the first quarter", pct(a.after_first_quarter_ms, "ms").slice(0, 3).join(" / ") + " (p50/p95/p99)"],
        ["Reversals", a.reversals + " (max " + a.max_reversals_per_10s + " in 10 s)"],
        ["Steps", String((a.steps || []).length)]
      ]));
    }
    return s;
  }

  function metrics(reports) {
    var s = panel("Metrics", true);
    var names = {};
    reports.forEach(function (r) { Object.keys(r.metrics || {}).forEach(function (n) { names[n] = true; }); });
    var list = Object.keys(names).sort();
    var rows = list.map(function (n) {
      var row = [n];
      reports.forEach(function (r) {
        var m = (r.metrics || {})[n];
        row.push(m ? P.fmt(m.median, m.unit) + " / " + P.fmt(m.p95, m.unit) + " (n " + m.n + ")" : "—");
      });
      return row;
    });
    s.appendChild(P.table(["Metric (median / p95)"].concat(reports.map(label)), rows));
    var lanes = [];
    list.forEach(function (n) {
      reports.forEach(function (r, i) {
        var m = (r.metrics || {})[n];
        if (m && m.values && m.values.length) {
          lanes.push({ name: n + (reports.length > 1 ? " — " + label(r, i) : ""), unit: m.unit, values: m.values,
            band: { lo: m.median, hi: m.p95 } });
        }
      });
    });
    frameChart(s, lanes);
    return s;
  }

  function path(reports) {
    var lanes = [];
    reports.forEach(function (r, i) {
      if (!r.path || !r.path.length) { return; }
      var suffix = reports.length > 1 ? " — " + label(r, i) : "";
      var col = function (k) { return r.path.map(function (f) { return f[k] === undefined ? null : f[k]; }); };
      lanes.push({ name: "gpu_ms" + suffix, unit: "ms", values: col("gpu_ms") });
      lanes.push({ name: "predicted_gpu_ms" + suffix, unit: "ms", values: col("predicted_gpu_ms") });
      lanes.push({ name: "log10 view_width" + suffix, unit: "", values: r.path.map(function (f) { return Math.log10(f.view_width); }) });
      lanes.push({ name: "resolution_scale" + suffix, unit: "", values: col("resolution_scale") });
      lanes.push({ name: "max_iter" + suffix, unit: "count", values: col("max_iter") });
    });
    if (!lanes.length) { return null; }
    var s = panel("Per frame: the zoom path, the pass and the cost model", true);
    frameChart(s, lanes);
    return s;
  }

  function render() {
    var root = document.getElementById("report"), status = document.getElementById("status");
    var reports;
    try {
      reports = JSON.parse(document.getElementById("report-data").textContent);
    } catch (e) {
      status.className = "status disconnected";
      status.textContent = "the report data is not valid JSON: " + e.message;
      return;
    }
    status.className = "status report";
    status.textContent = reports.length + " report" + (reports.length === 1 ? "" : "s") + " · static";
    root.appendChild(summary(reports));
    var grid = el("div", "runs");
    reports.forEach(function (r, i) { grid.appendChild(machine(r, i)); });
    root.appendChild(grid);
    root.appendChild(metrics(reports));
    var p = path(reports);
    if (p) { root.appendChild(p); }
    global.rfmPerfReport = { reports: reports.length, metrics: root.querySelectorAll("table.grid tbody tr").length };
  }

  /** Renders the reports embedded in this page. */
  global.renderReport = render;
  render();
})(window);
