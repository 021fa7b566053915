// Drives Debian's chromium over DevTools (playwright-core) against the rfm_perf page.
// Run by tests/gpu.rs (child "browser"); prints one "ok"/"FAIL" line per check, a final JSON
// line of measurements ("measured {...}") and exits non-zero when a check failed.
//
//   node dashboard.js live   URL TOKEN SCREENSHOT.png [--bench]
//   node dashboard.js report FILE.html METRIC[,METRIC…] SCREENSHOT.png
"use strict";
const { chromium } = require("playwright-core");

const failures = [];
function check(ok, what) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) { failures.push(what); }
}

async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") { errors.push("console: " + m.text()); } });
  page.on("pageerror", (e) => errors.push("page error: " + e.message));
  return { browser, page, errors };
}

async function until(page, what, fn, arg, ms) {
  try {
    await page.waitForFunction(fn, arg, { timeout: ms || 20000, polling: 100 });
    return true;
  } catch (e) {
    check(false, what + " (timed out)");
    return false;
  }
}

async function live(url, token, shot, bench) {
  const { browser, page, errors } = await launch();
  let dialogs = 0;
  page.on("dialog", async (d) => { dialogs += 1; await d.accept(token); });
  await page.goto(url, { waitUntil: "load" });
  // the first paint can come after the load event on a busy machine: wait for it (bounded)
  const fcp = await page
    .waitForFunction(() => {
      const e = performance.getEntriesByName("first-contentful-paint")[0];
      return e ? e.startTime : null;
    }, null, { timeout: 10000, polling: 50 })
    .then((h) => h.jsonValue())
    .catch(() => null);
  check(fcp !== null, "first contentful paint: " + (fcp === null ? "none" : fcp.toFixed(0) + " ms"));

  // live tiles whose values change
  await until(page, "the stream connects and updates", () => window.rfmPerfPage && window.rfmPerfPage.connected && window.rfmPerfPage.updates >= 2);
  const tilesText = () => page.$$eval(".tile .tile-value", (els) => els.map((e) => e.textContent));
  const first = await tilesText();
  check(first.length >= 5 && first.some((t) => t !== "—"), "tiles show values: " + first.join(" | "));
  await page.waitForTimeout(3000);
  const second = await tilesText();
  check(second.some((t, i) => t !== first[i] && t !== "—"), "tile values change over time: " + second.join(" | "));
  const status = await page.$eval("#status", (e) => e.className + " " + e.textContent);
  check(/live/.test(status), "status says live: " + status);

  // selecting a metric draws its line
  const metric = "fractal.iterations_per_pixel";
  await page.fill("#metric-search", metric);
  await page.press("#metric-search", "Enter");
  const drawn = await until(page, "the selected metric gets a lane",
    (m) => window.rfmPerfPage.selected.indexOf(m) >= 0 && window.rfmPerfPage.timelineLanes === window.rfmPerfPage.selected.length && window.rfmPerfPage.timelinePoints > 0, metric);
  if (drawn) {
    const pixels = await page.evaluate((m) => {
      const i = window.rfmPerfPage.selected.indexOf(m);
      const want = window.RfmChart.color(i);
      const rgb = [1, 3, 5].map((k) => parseInt(want.substr(k, 2), 16));
      const c = document.getElementById("timeline"), ctx = c.getContext("2d");
      const data = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let p = 0; p < data.length; p += 4) {
        if (Math.abs(data[p] - rgb[0]) < 24 && Math.abs(data[p + 1] - rgb[1]) < 24 && Math.abs(data[p + 2] - rgb[2]) < 24) { n += 1; }
      }
      return n;
    }, metric);
    check(pixels > 50, "the line of " + metric + " is drawn in its colour (" + pixels + " px)");
  }
  // wheel zoom makes a fixed range and a refetch
  const box = await page.$eval("#timeline", (e) => { const r = e.getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.top + 30 }; });
  await page.mouse.move(box.x, box.y);
  await page.mouse.wheel(0, -400);
  await page.waitForTimeout(800);
  const mode = await page.$eval("#timeline-mode", (e) => e.textContent);
  check(/zoomed/.test(mode), "wheel zooms the timeline: " + mode);
  await page.click("#timeline-follow");

  // the bottleneck table lists the app's scopes
  await until(page, "the scope table fills", () => document.querySelectorAll("#scope-table tbody td.scope-name").length > 0);
  const scopes = await page.$$eval("#scope-table tbody td.scope-name", (els) => els.map((e) => e.textContent));
  check(scopes.includes("fractal.prepare") && scopes.includes("render.fractal_encode"), "scope table lists the app's scopes: " + scopes.join(", "));
  // the flame graph: fitted to the scopes, the app's scope boxes are wide enough to hover
  await page.check("#flame-fit");
  const hovered = await page.evaluate(() => {
    const c = document.getElementById("flame"), r = c.getBoundingClientRect();
    // the first box row sits below the thread's name row
    c.dispatchEvent(new MouseEvent("mousemove", { clientX: r.left + 5, clientY: r.top + 2 + 18 + 8, bubbles: true }));
    return document.getElementById("flame-tip").textContent;
  });
  check(/ms total/.test(hovered), "flame graph (fit to scopes): hovering a box names it: " + hovered);
  await page.click("#scope-table th[data-key=name]");
  const sorted = await page.$$eval("#scope-table tbody td.scope-name", (els) => els.map((e) => e.textContent));
  check(sorted.join() === sorted.slice().sort((a, b) => a.localeCompare(b)).join(), "clicking Scope sorts by name");
  const resources = await page.$eval("#resources", (e) => e.textContent);
  check(/core 0/.test(resources) && /Adapter/.test(resources), "resources show per-core CPU and the GPU");

  // Apply a suggestion: the server asks for the token, the page asks once, the app applies it
  await until(page, "a suggestion with Apply appears", () => document.querySelector("#advice button.apply") !== null, null, 30000);
  const id = await page.$eval("#advice button.apply", (b) => b.dataset.id).catch(() => null);
  if (id) {
    await page.click("#advice button.apply");
    await until(page, "Apply is answered", () => window.rfmPerfPage.lastApplied || /failed/.test(document.getElementById("toast").textContent));
    const applied = await page.evaluate(() => window.rfmPerfPage.lastApplied);
    const toast = await page.$eval("#toast", (e) => e.textContent);
    check(applied && applied.applied && applied.suggestion === id, "Apply of " + id + " changed " + (applied ? applied.applied.name + " to " + applied.applied.value : "nothing") + " (" + toast + ")");
    check(dialogs === 1, "the page asked for the token once (" + dialogs + " prompt(s))");
    await until(page, "the applied change shows as an outcome", () => document.querySelector("#advice .outcome") !== null, null, 15000);
  }

  let measured = { fcp_ms: fcp };
  if (bench) {
    // 20 lanes of 36 000 samples each (the test imported them), then 20 updates; the app
    // renders less meanwhile (QUIET), so the page is not measured against a saturated machine
    console.log("QUIET");
    await page.evaluate(() => {
      const names = [];
      for (let i = 0; i < 20; i++) { names.push("bench.series_" + (i < 10 ? "0" : "") + i); }
      window.rfmPerfPage.selected.length = 0;
      names.forEach((n) => window.rfmPerfPage.selected.push(n));
      // count the canvas's rasterization too, not only the drawing calls
      window.rfmPerfPage.flushDraws = true;
      window.rfmPerfPage.drawMs.length = 0;
    });
    await page.selectOption("#timeline-window", "3600");
    await until(page, "20 timeline updates", () => window.rfmPerfPage.drawMs.length >= 21 && window.rfmPerfPage.timelineLanes >= 20, null, 90000);
    measured = Object.assign(measured, await page.evaluate(() => {
      const d = window.rfmPerfPage.drawMs.slice(1, 21).sort((a, b) => a - b);
      const t = window.rfmPerfPage.timelineMs.slice(-20).sort((a, b) => a - b);
      return { lanes: window.rfmPerfPage.timelineLanes, points: window.rfmPerfPage.timelinePoints, draw_ms_median: d[10], draw_ms_max: d[d.length - 1], timeline_ms_median: t[10], panels_ms_last: window.rfmPerfPage.panelsMs, parts: window.rfmPerfPage.parts };
    }));
  }
  if (shot) { await page.screenshot({ path: shot, fullPage: true }); }

  check(errors.length === 0, "no console or page error while the app runs" + (errors.length ? ": " + errors.join("; ") : ""));
  errors.length = 0;
  // the app goes away and comes back on the same address: "disconnected", then live again
  // (while it is away the browser logs each refused connection: those are expected)
  console.log("RESTART");
  const down = await until(page, "the page shows the lost connection", () => /disconnected/.test(document.getElementById("status").className), null, 20000);
  if (down) {
    const text = await page.$eval("#status", (e) => e.textContent);
    check(/disconnected/.test(text) && /retrying/.test(text), "disconnected state: " + text);
    console.log("DOWN-SEEN");
    const back = await until(page, "the page reconnects to the restarted app", () => document.getElementById("status").className === "status live" && window.rfmPerfPage.updates > 0, null, 40000);
    check(back, "reconnected with backoff after the restart");
  }

  const unexpected = errors.filter((e) => !/ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE)/.test(e));
  check(unexpected.length === 0, "no other console or page error across the restart" + (unexpected.length ? ": " + unexpected.join("; ") : ""));
  console.log("measured " + JSON.stringify(measured));
  await browser.close();
}

async function report(file, metrics, shot) {
  const { browser, page, errors } = await launch();
  await page.goto("file://" + file, { waitUntil: "load" });
  const done = await until(page, "the report renders", () => window.rfmPerfReport !== undefined);
  if (done) {
    const text = await page.$eval("#report", (e) => e.textContent);
    const missing = metrics.filter((m) => text.indexOf(m) < 0);
    check(missing.length === 0, "the report shows every metric (" + metrics.length + ")" + (missing.length ? ", missing " + missing.join(", ") : ""));
    const charts = await page.$$eval("canvas.chart", (cs) => cs.length);
    check(charts >= 1, "the report draws its charts (" + charts + ")");
  }
  if (shot) { await page.screenshot({ path: shot, fullPage: true }); }
  check(errors.length === 0, "no console or page error" + (errors.length ? ": " + errors.join("; ") : ""));
  await browser.close();
}

(async () => {
  const [mode, a, b, c, d] = process.argv.slice(2);
  if (mode === "live") { await live(a, b, c, d === "--bench"); } else if (mode === "report") {
    await report(a, b.split(",").filter(Boolean), c);
  } else { throw new Error("usage: dashboard.js live URL TOKEN SHOT | report FILE METRICS SHOT"); }
  process.exit(failures.length ? 1 : 0);
})().catch((e) => { console.log("FAIL " + (e && e.stack || e)); process.exit(2); });
