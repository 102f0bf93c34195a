/* geotap report: per-key time series (uPlot) as small multiples on one
 * shared time axis: packets/s from and to per bin, the detector's expected
 * rate as a faint line, outages (last_seen -> first_seen) and capture gaps
 * shaded as positioned elements over the plot. */
"use strict";
var GT = window.GT || (window.GT = {});

/* The grid's time span [start, end) in seconds, and the seconds per bin. */
GT.grid = function (D) {
  var g = D.grid, w = g.w;
  if (!w) w = Math.max(1, Math.ceil(D.meta.last - D.meta.first));   /* one bin for the whole capture */
  return { t0: g.t0, w: w, step: g.step, n: g.n, end: g.t0 + Math.max(1, g.n) * g.step * w };
};

/* Chart data from the buckets: one point per bin, or, when a bucket covers
 * several bins, its minimum and its maximum (so a one-bin drop to zero, or a
 * one-bin spike, survives any length of capture). */
GT.series = function (D, c) {
  var G = GT.grid(D), x = [], f = [], t = [], e = [], half = G.step * G.w / 2;
  for (var j = 0; j < G.n; j++) {
    var ts = G.t0 + j * G.step * G.w;
    var f0 = c.f0[j] / G.w, t0 = c.t0[j] / G.w, e0 = c.e0 ? c.e0[j] : null;
    x.push(ts); f.push(f0); t.push(t0); e.push(e0);
    if (c.f1) {
      x.push(ts + half); f.push(c.f1[j] / G.w); t.push(c.t1[j] / G.w); e.push(c.e1 ? c.e1[j] : null);
    }
  }
  return [x, f, t, e];
};

/* Shaded spans of a chart: the key's outages and every capture gap. */
GT.spans = function (D, key) {
  var G = GT.grid(D), out = [], open = null;
  D.events.forEach(function (e) {
    if (e.type === "capture_gap") {
      out.push({ kind: "gap", from: e.last_seen, to: e.first_seen || G.end, title: "capture gap" });
    } else if (e.key === key && e.type === "drop_to_zero") {
      open = e;
    } else if (e.key === key && e.type === "restored") {
      out.push({ kind: "outage", from: e.last_seen, to: e.first_seen,
                 title: "outage " + GT.time(e.last_seen) + " - " + GT.time(e.first_seen) });
      open = null;
    }
  });
  if (open) {
    out.push({ kind: "outage open", from: open.last_seen, to: G.end,
               title: "outage since " + GT.time(open.last_seen) + " (still down when the data ended)" });
  }
  return out;
};

GT.drawSpans = function (u, spans) {
  var old = u.over.querySelectorAll(".span");
  for (var i = 0; i < old.length; i++) old[i].remove();
  var W = u.over.clientWidth || u.bbox.width / (window.devicePixelRatio || 1);
  spans.forEach(function (s) {
    var a = Math.max(0, u.valToPos(s.from, "x")), b = Math.min(W, u.valToPos(s.to, "x"));
    if (!(b >= a)) return;
    var d = document.createElement("div");
    d.className = "span " + s.kind;
    d.dataset.from = s.from;
    d.dataset.to = s.to;
    d.title = s.title;
    d.style.left = a + "px";
    d.style.width = Math.max(1, b - a) + "px";
    u.over.appendChild(d);
  });
};

GT.charts = function (parent, D) {
  var sec = GT.el("section", { id: "charts-section" });
  var G = GT.grid(D);
  sec.appendChild(GT.el("h2", {}, "Packets per second by key"));
  sec.appendChild(GT.el("p", { "class": "note" },
    D.charts.length + " chart" + (D.charts.length === 1 ? "" : "s") + ": keys with an outage, then the top keys by packets; " +
    (G.step > 1 ? "each point pair is the minimum and maximum over " + G.step + " bins of " + G.w + " s; "
                : "one point per " + G.w + " s bin; ") +
    "red shading: outage (last packet to first packet back), grey: capture gap" +
    (D.meta.detector ? "; dashed: the detector's expected rate (from and to together)." : ".")));
  parent.appendChild(sec);
  var grid = GT.el("div", { "class": "multiples" });
  sec.appendChild(grid);
  if (!D.charts.length) {
    sec.appendChild(GT.el("p", { "class": "note" }, "No key had traffic."));
    return [];
  }
  var sync = uPlot.sync("gt");
  var plots = [];
  /* Two columns when there is room: 24 px gap, 14 px of padding and border per chart. */
  var width = Math.floor(Math.max(320, Math.min(620, ((grid.clientWidth || 1200) - 24) / 2 - 14)));
  D.charts.forEach(function (c) {
    var box = GT.el("div", { "class": "chart" + (c.event ? " has-event" : ""), id: "chart-" + c.id,
                             "data-key": c.label });
    box.appendChild(GT.el("h3", {}, c.label + (c.name && c.name !== c.label ? " " + c.name : "") +
                                    "  (" + GT.human(c.pf + c.pt) + " packets)"));
    grid.appendChild(box);
    var spans = GT.spans(D, c.id);
    var data = GT.series(D, c);
    var dots = { show: data[0].length <= 60 };     /* a line needs two points: show short series as dots */
    var series = [{}, { label: "from", stroke: "#1f77b4", width: 1.5, points: dots },
                  { label: "to", stroke: "#ff7f0e", width: 1.5, points: dots }];
    if (D.meta.detector)
      series.push({ label: "expected (from+to)", stroke: "rgba(0,0,0,0.45)", width: 1, dash: [4, 4], points: { show: false } });
    if (!D.meta.detector) data.pop();
    var opts = {
      width: width, height: 160, series: series,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: { x: { time: true, range: function () { return [G.t0, G.end]; } },
                y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } } },
      axes: [{}, { size: 50, values: function (u, vals) { return vals.map(GT.humanRate); } }],
      cursor: { sync: { key: sync.key } },
      legend: { show: true },
      hooks: { ready: [function (u) { GT.drawSpans(u, spans); }],
               setSize: [function (u) { GT.drawSpans(u, spans); }],
               setScale: [function (u, k) { if (k === "x") GT.drawSpans(u, spans); }] },
    };
    var u = new uPlot(opts, data, box);
    sync.sub(u);
    plots.push(u);
  });
  return plots;
};
