/* rfm_perf page: small canvas charts (sparklines, a multi-lane timeline with zoom and pan, a
 * stacked bar and a flame graph). A plain script, so it also runs inlined in a report opened from
 * file://. Defines window.RfmChart. The server decimates history (min-max per pixel column), so
 * a chart never draws more than about two points per column.
 */
(function (global) {
  "use strict";

  var PALETTE = ["#4e9af1", "#f1a84e", "#62c370", "#e5646e", "#b07fe0", "#4ec9c9", "#d6c34a",
    "#e07fb8", "#8fa3b8", "#a0d468"];
  var STATUS = { ok: "#62c370", warning: "#f1c24e", critical: "#ff786e", unknown: "#aaaaaa" };
  var TEXT = "#d8dde3", MUTED = "#8a96a3", GRID = "rgba(255,255,255,0.08)";

  /** The colour for the n-th series. */
  function color(n) { return PALETTE[((n % PALETTE.length) + PALETTE.length) % PALETTE.length]; }

  /** A stable colour for a name (flame graph boxes keep their colour from frame to frame). */
  function colorOf(name) {
    var h = 0;
    for (var i = 0; i < name.length; i++) { h = (h * 31 + name.charCodeAt(i)) | 0; }
    return color(h);
  }

  // Canvas widths, kept current by a ResizeObserver: reading clientWidth right after the page
  // changed text would force a synchronous layout on every draw.
  var widths = typeof WeakMap === "function" ? new WeakMap() : null;
  var observer = typeof ResizeObserver === "function" && widths ? new ResizeObserver(function (entries) {
    for (var i = 0; i < entries.length; i++) { widths.set(entries[i].target, entries[i].contentRect.width); }
  }) : null;

  function widthOf(canvas) {
    var w = widths && widths.get(canvas);
    if (w === undefined || w === null) {
      w = canvas.clientWidth || (canvas.parentNode && canvas.parentNode.clientWidth) || 300;
      if (observer) { widths.set(canvas, w); observer.observe(canvas); }
    }
    return w;
  }

  /** Sizes the canvas to its CSS width and the given CSS height at the device pixel ratio;
   * returns the 2D context (in CSS pixels) and the size. */
  function prepare(canvas, cssHeight) {
    var dpr = global.devicePixelRatio || 1;
    var w = Math.max(50, Math.floor(widthOf(canvas)));
    var h = Math.max(10, Math.floor(cssHeight || 100));
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      canvas.style.height = h + "px";
    }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return { ctx: ctx, w: w, h: h };
  }

  /** A short number: 3 significant digits, thousands as k/M/G. */
  function short(v) {
    if (v === null || v === undefined || !isFinite(v)) { return "—"; }
    var a = Math.abs(v);
    if (a >= 1e9) { return (v / 1e9).toFixed(a >= 1e10 ? 1 : 2) + "G"; }
    if (a >= 1e6) { return (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + "M"; }
    if (a >= 1e4) { return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + "k"; }
    if (a >= 100 || Number.isInteger(v)) { return v.toFixed(0); }
    if (a >= 10) { return v.toFixed(1); }
    if (a >= 1) { return v.toFixed(2); }
    if (a === 0) { return "0"; }
    return v.toPrecision(2);
  }

  /** A sparkline of `values` (oldest first), coloured by status. */
  function sparkline(canvas, values, status) {
    var c = prepare(canvas, 28), ctx = c.ctx;
    if (!values || values.length < 2) { return; }
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      if (isFinite(v)) { if (v < lo) { lo = v; } if (v > hi) { hi = v; } }
    }
    if (!isFinite(lo)) { return; }
    if (hi - lo < 1e-12) { hi = lo + 1; lo = lo - 1; }
    ctx.strokeStyle = STATUS[status] || STATUS.unknown;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    var dx = (c.w - 2) / (values.length - 1);
    for (var j = 0; j < values.length; j++) {
      var x = 1 + j * dx, y = c.h - 2 - (values[j] - lo) / (hi - lo) * (c.h - 4);
      if (j === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
    }
    ctx.stroke();
  }

  /** First index with t[i] >= x in the sorted array t. */
  function lowerBound(t, x) {
    var lo = 0, hi = t.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (t[mid] < x) { lo = mid + 1; } else { hi = mid; } }
    return lo;
  }

  function clockText(ms, spanMs) {
    var d = new Date(ms);
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    var s = p(d.getHours()) + ":" + p(d.getMinutes());
    if (spanMs < 3 * 3600e3) { s += ":" + p(d.getSeconds()); }
    return s;
  }

  /**
   * A timeline: one lane per metric, sharing the time axis. Lanes: {name, unit, color,
   * t (ms since epoch, ascending), v, band: {lo, hi} | null, markers: [{t, label}]}.
   * The x axis is either "live" (the last `windowMs` up to the newest point) or a fixed range the
   * user zoomed or panned to. `onRange(t0, t1, live)` is called (debounced) when it changes, so
   * the owner can refetch at the new resolution. `xFormat(t, span)` labels the x axis (default:
   * clock time; a report passes frame numbers).
   *
   *   var tl = new RfmChart.Timeline(canvas, { onRange: function (t0, t1) { ... } });
   *   tl.setLanes([{ name: "frame.time_ms", unit: "ms", t: [...], v: [...] }]);
   *   tl.draw();
   */
  function Timeline(canvas, options) {
    options = options || {};
    this.canvas = canvas;
    this.lanes = [];
    this.laneHeight = options.laneHeight || 78;
    this.axisHeight = 20;
    this.windowMs = options.windowMs || 300e3;
    this.range = null;
    this.onRange = options.onRange || function () {};
    this.lastDrawMs = 0;
    this.empty = options.empty || "Select metrics to draw them";
    this.xFormat = options.xFormat || clockText;
    this._timer = null;
    this._attach();
  }

  Timeline.prototype.setLanes = function (lanes) { this.lanes = lanes; };

  /** Follow the newest data over a window of `ms`. */
  Timeline.prototype.follow = function (ms) {
    if (ms) { this.windowMs = ms; }
    this.range = null;
    this._changed();
  };

  Timeline.prototype.live = function () { return this.range === null; };

  Timeline.prototype.oldest = function () {
    var t = Infinity;
    for (var i = 0; i < this.lanes.length; i++) {
      if (this.lanes[i].t.length) { t = Math.min(t, this.lanes[i].t[0]); }
    }
    return t;
  };

  Timeline.prototype.newest = function () {
    var t = -Infinity;
    for (var i = 0; i < this.lanes.length; i++) {
      var l = this.lanes[i];
      if (l.t.length) { t = Math.max(t, l.t[l.t.length - 1]); }
    }
    return isFinite(t) ? t : Date.now();
  };

  /** The shown range, {t0, t1} in ms: live, the window up to the newest point (from the
   * oldest point when there is less data than the window). */
  Timeline.prototype.visible = function () {
    if (this.range) { return this.range; }
    var t1 = this.newest(), t0 = Math.max(t1 - this.windowMs, this.oldest());
    if (!(t1 - t0 > 0)) { t0 = t1 - this.windowMs; }
    return { t0: t0, t1: t1 };
  };

  Timeline.prototype._changed = function () {
    var self = this;
    if (this._timer) { clearTimeout(this._timer); }
    this._timer = setTimeout(function () {
      self._timer = null;
      var r = self.visible();
      self.onRange(r.t0, r.t1, self.range === null);
    }, 150);
  };

  Timeline.prototype._attach = function () {
    var self = this, drag = null;
    this.canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      var r = self.visible(), rect = self.canvas.getBoundingClientRect();
      var frac = Math.min(1, Math.max(0, (e.clientX - rect.left - 56) / Math.max(1, rect.width - 64)));
      var at = r.t0 + frac * (r.t1 - r.t0);
      var span = Math.min(7 * 86400e3, Math.max(500, (r.t1 - r.t0) * Math.exp(e.deltaY * 0.0015)));
      self.range = { t0: at - frac * span, t1: at + (1 - frac) * span };
      self.draw();
      self._changed();
    }, { passive: false });
    this.canvas.addEventListener("mousedown", function (e) {
      drag = { x: e.clientX, r: self.visible() };
    });
    global.addEventListener("mousemove", function (e) {
      if (!drag) { return; }
      var width = Math.max(1, self.canvas.getBoundingClientRect().width - 64);
      var dt = (e.clientX - drag.x) / width * (drag.r.t1 - drag.r.t0);
      if (Math.abs(e.clientX - drag.x) < 2 && self.range === null) { return; }
      self.range = { t0: drag.r.t0 - dt, t1: drag.r.t1 - dt };
      self.draw();
    });
    global.addEventListener("mouseup", function () {
      if (drag) { drag = null; if (self.range) { self._changed(); } }
    });
    this.canvas.addEventListener("dblclick", function () { self.follow(); self.draw(); });
  };

  var LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

  /** "#rrggbb" and an alpha (0–1) as one pixel of an ImageData's Uint32 view. */
  function pixel(hex, alpha) {
    var r = parseInt(hex.substr(1, 2), 16), g = parseInt(hex.substr(3, 2), 16), b = parseInt(hex.substr(5, 2), 16);
    var a = Math.round(255 * alpha);
    return (LITTLE_ENDIAN ? ((a << 24) | (b << 16) | (g << 8) | r) : ((r << 24) | (g << 16) | (b << 8) | a)) >>> 0;
  }

  /**
   * Rasterizes an x-ascending polyline (device pixels) into `buf` (`stride` pixels a row), one
   * vertical span per pixel column from where the line enters the column to where it leaves, at
   * least `thick` pixels tall and wide; clipped to the rectangle. NaN values break the line.
   * A software canvas strokes thousands of segments several times slower than this.
   */
  function rasterLine(buf, stride, xs, ys, n, color, clip, thick) {
    var x0 = clip.x0, x1 = clip.x1, y0 = clip.y0, y1 = clip.y1, half = thick / 2;
    // one column's span from ya to yb (inlined by hand below: this runs ~50 000 times a draw)
    var col, ya, yb, lo, hi, w, i, y, end;
    for (var k = 0; k < n; k++) {
      var xb = xs[k], vb = ys[k];
      if (vb !== vb) { continue; } // NaN breaks the line
      var xa = k > 0 ? xs[k - 1] : xb, va = k > 0 ? ys[k - 1] : vb;
      if (va !== va) { xa = xb; va = vb; }
      var ca = Math.floor(xa), cb = Math.floor(xb);
      var slope = cb > ca ? (vb - va) / (xb - xa) : 0;
      var first = ca < x0 ? x0 : ca, last = cb >= x1 ? x1 - 1 : cb;
      for (col = first; col <= last; col++) {
        if (cb > ca) {
          ya = va + ((col > xa ? col : xa) - xa) * slope;
          yb = va + ((col + 1 < xb ? col + 1 : xb) - xa) * slope;
        } else { ya = va; yb = vb; }
        if (ya > yb) { y = ya; ya = yb; yb = y; }
        lo = Math.round(ya - half); hi = Math.round(yb + half) - 1;
        if (lo < y0) { lo = y0; }
        if (hi > y1 - 1) { hi = y1 - 1; }
        if (hi < lo) { if (lo > y1 - 1) { continue; } hi = lo; }
        for (w = 0; w < thick && col + w < x1; w++) {
          for (i = lo * stride + col + w, end = hi * stride + col + w; i <= end; i += stride) { buf[i] = color; }
        }
      }
    }
  }

  /** Draws every lane; returns the time it took (ms). The bands and lines go into a pixel
   * buffer put on the canvas at once; frames, text and anomaly marks are drawn over it. */
  Timeline.prototype.draw = function () {
    var started = global.performance ? performance.now() : Date.now();
    var n = Math.max(1, this.lanes.length);
    var c = prepare(this.canvas, n * this.laneHeight + this.axisHeight), ctx = c.ctx;
    var dpr = this.canvas.width / c.w;
    var left = 56, right = 8, plotW = c.w - left - right;
    var r = this.visible(), span = Math.max(1, r.t1 - r.t0);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    if (!this.lanes.length) {
      ctx.fillStyle = MUTED;
      ctx.fillText(this.empty, left, 8);
    }
    // pass 1: each lane's scale, band and line into the pixel buffer
    var cw = this.canvas.width, ch = this.canvas.height;
    if (!this._img || this._img.width !== cw || this._img.height !== ch) {
      this._img = ctx.createImageData(cw, ch);
      this._buf = new Uint32Array(this._img.data.buffer);
      this._xs = null;
    } else {
      this._buf.fill(0);
    }
    var buf = this._buf, thick = Math.max(1, Math.round(dpr)), band = pixel("#62c370", 0.13);
    var scales = [], li, k;
    for (li = 0; li < this.lanes.length; li++) {
      var lane = this.lanes[li], top = li * this.laneHeight + 4, h = this.laneHeight - 18;
      var i0 = Math.max(0, lowerBound(lane.t, r.t0) - 1), i1 = Math.min(lane.t.length, lowerBound(lane.t, r.t1) + 1);
      var lo = Infinity, hi = -Infinity;
      for (k = i0; k < i1; k++) { var v = lane.v[k]; if (v < lo) { lo = v; } if (v > hi) { hi = v; } }
      if (lane.band) { lo = Math.min(lo, lane.band.lo); hi = Math.max(hi, lane.band.hi); }
      if (!isFinite(lo)) { lo = 0; hi = 1; }
      if (hi - lo < 1e-9 * Math.max(1, Math.abs(hi))) { hi += 0.5; lo -= 0.5; }
      var pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
      var clip = { x0: Math.round(left * dpr), x1: Math.round((left + plotW) * dpr), y0: Math.round((top + 14) * dpr), y1: Math.round((top + 14 + h) * dpr) };
      var ky = h * dpr / (hi - lo), yBottom = (top + 14 + h) * dpr;
      scales.push({ top: top, h: h, lo: lo, hi: hi, pad: pad });
      if (lane.band) {
        var ya = Math.max(clip.y0, Math.round(yBottom - (lane.band.hi - lo) * ky)), yb = Math.min(clip.y1, Math.max(ya + 1, Math.round(yBottom - (lane.band.lo - lo) * ky)));
        for (var yy = ya; yy < yb; yy++) { buf.fill(band, yy * cw + clip.x0, yy * cw + clip.x1); }
      }
      var m = i1 - i0;
      if (m > 0) {
        if (!this._xs || this._xs.length < m) { this._xs = new Float64Array(m * 2); this._ys = new Float64Array(m * 2); }
        var kx = plotW * dpr / span, xs = this._xs, ys = this._ys;
        for (k = 0; k < m; k++) {
          xs[k] = left * dpr + (lane.t[i0 + k] - r.t0) * kx;
          ys[k] = yBottom - (lane.v[i0 + k] - lo) * ky;
        }
        rasterLine(buf, cw, xs, ys, m, pixel(lane.color || color(li), 1), clip, thick);
      }
    }
    ctx.putImageData(this._img, 0, 0);
    // pass 2: frames, labels and anomaly marks over it
    for (li = 0; li < this.lanes.length; li++) {
      var L = this.lanes[li], S = scales[li];
      ctx.strokeStyle = GRID; ctx.lineWidth = 1;
      ctx.strokeRect(left + 0.5, S.top + 14.5, plotW, S.h);
      ctx.fillStyle = MUTED;
      ctx.textAlign = "right";
      ctx.fillText(short(S.hi - S.pad), left - 4, S.top + 14);
      ctx.fillText(short(S.lo + S.pad), left - 4, S.top + S.h + 2);
      ctx.textAlign = "left";
      var marks = L.markers || [];
      ctx.fillStyle = STATUS.critical;
      for (k = 0; k < marks.length; k++) {
        if (marks[k].t < r.t0 || marks[k].t > r.t1) { continue; }
        var mx = left + (marks[k].t - r.t0) / span * plotW;
        ctx.fillRect(mx - 0.5, S.top + 14, 1.5, S.h);
        ctx.beginPath(); ctx.moveTo(mx - 4, S.top + 14); ctx.lineTo(mx + 4, S.top + 14); ctx.lineTo(mx, S.top + 21); ctx.fill();
      }
      var newest = L.v.length ? L.v[L.v.length - 1] : null;
      ctx.fillStyle = L.color || color(li);
      ctx.fillText(L.name, left, S.top);
      var nameW = ctx.measureText(L.name).width;
      ctx.fillStyle = TEXT;
      ctx.fillText("  " + short(newest) + " " + (L.unit || "") +
        (L.band ? "   baseline " + short(L.band.lo) + "–" + short(L.band.hi) : "") +
        (marks.length ? "   " + marks.length + " anomal" + (marks.length === 1 ? "y" : "ies") : ""), left + nameW, S.top);
    }
    // time axis
    var axisTop = n * this.laneHeight + 2;
    ctx.fillStyle = MUTED; ctx.textAlign = "center";
    var ticks = Math.max(2, Math.min(5, Math.floor(plotW / 110))); // labels never overlap
    for (var g = 0; g <= ticks; g++) {
      var t = r.t0 + g / ticks * span, gx = left + g / ticks * plotW;
      ctx.fillText(this.xFormat(t, span), Math.min(c.w - 30, Math.max(left + 20, gx)), axisTop + 4);
    }
    ctx.textAlign = "left";
    var took = (global.performance ? performance.now() : Date.now()) - started;
    this.lastDrawMs = took;
    return took;
  };

  /** A horizontal stacked bar of `parts` ([{label, ms}]) against `total`; returns the colours. */
  function stackedBar(canvas, parts, total) {
    var c = prepare(canvas, 26), ctx = c.ctx, x = 0, colors = [];
    var sum = 0;
    for (var i = 0; i < parts.length; i++) { sum += Math.max(0, parts[i].ms); }
    var scale = c.w / Math.max(total || 0, sum, 1e-9);
    for (var j = 0; j < parts.length; j++) {
      var w = Math.max(0, parts[j].ms) * scale, col = color(j);
      colors.push(col);
      ctx.fillStyle = col;
      ctx.fillRect(x, 2, w, c.h - 4);
      x += w;
    }
    return colors;
  }

  /**
   * A flame graph of one frame profile (the API's FrameProfile: threads[].nodes in pre-order
   * with depth and parent). Boxes are laid out by total time, children inside their parent,
   * across the frame's duration — or, with `fit`, across each lane's scoped time (when the
   * scopes cover a sliver of a long frame). Returns the boxes drawn ({x, y, w, h, node,
   * thread}) for hit-testing tooltips.
   */
  function flame(canvas, frame, fit) {
    var rowH = 18, boxes = [], threads = (frame && frame.threads) || [];
    var rows = 0, t, i;
    for (t = 0; t < threads.length; t++) {
      var deepest = 0;
      for (i = 0; i < threads[t].nodes.length; i++) { deepest = Math.max(deepest, threads[t].nodes[i].depth); }
      rows += deepest + 2;
    }
    var c = prepare(canvas, Math.max(2, rows) * rowH + 4), ctx = c.ctx;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    if (!threads.length) {
      ctx.fillStyle = MUTED;
      ctx.fillText(frame ? "No scopes in this frame" : "No frame yet", 4, rowH / 2 + 2);
      return boxes;
    }
    var y = 2;
    for (t = 0; t < threads.length; t++) {
      var lane = threads[t], nodes = lane.nodes, rootsMs = 0, deepestRow = 0;
      for (i = 0; i < nodes.length; i++) { if (nodes[i].parent === null) { rootsMs += nodes[i].total_ms; } }
      var scale = c.w / Math.max(fit ? 0 : (frame.duration_ms || 0), rootsMs, 1e-9);
      ctx.fillStyle = MUTED;
      ctx.fillText(lane.thread, 4, y + rowH / 2);
      y += rowH;
      var start = new Array(nodes.length), cursor = new Array(nodes.length), rootCursor = 0;
      for (i = 0; i < nodes.length; i++) {
        var nd = nodes[i], x0;
        if (nd.parent === null) { x0 = rootCursor; rootCursor += nd.total_ms; } else {
          x0 = cursor[nd.parent]; cursor[nd.parent] += nd.total_ms;
        }
        start[i] = x0; cursor[i] = x0;
        var bx = x0 * scale, bw = Math.max(1, nd.total_ms * scale), by = y + nd.depth * rowH;
        deepestRow = Math.max(deepestRow, nd.depth);
        ctx.fillStyle = colorOf(nd.name);
        ctx.fillRect(bx, by, bw - (bw > 3 ? 1 : 0), rowH - 2);
        if (bw > 40) {
          ctx.save(); ctx.beginPath(); ctx.rect(bx, by, bw - 2, rowH); ctx.clip();
          ctx.fillStyle = "#10151b";
          ctx.fillText(nd.name + " " + short(nd.total_ms) + " ms", bx + 3, by + rowH / 2 - 1);
          ctx.restore();
        }
        boxes.push({ x: bx, y: by, w: bw, h: rowH - 2, node: nd, thread: lane.thread });
      }
      y += (deepestRow + 1) * rowH;
    }
    return boxes;
  }

  global.RfmChart = {
    color: color, colorOf: colorOf, status: STATUS, short: short, prepare: prepare,
    sparkline: sparkline, Timeline: Timeline, stackedBar: stackedBar, flame: flame,
    lowerBound: lowerBound, widthOf: widthOf, rasterLine: rasterLine, pixel: pixel
  };
})(window);
