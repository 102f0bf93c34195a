/* geotap report: the page. Reads the inlined data (#gt-data), builds the
 * header, the map (report_map.js), the charts (report_charts.js) and the
 * sortable event and key tables. Nothing is fetched. */
"use strict";
var GT = window.GT || (window.GT = {});

GT.el = function (tag, attrs, text) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
};

GT.human = function (v) {
  if (v === null || v === undefined || isNaN(v)) return "";
  var a = Math.abs(v), u = ["", " k", " M", " G", " T"], i = 0;
  while (a >= 1000 && i < u.length - 1) { a /= 1000; v /= 1000; i++; }
  return (i === 0 ? (Math.round(v * 100) / 100).toString() : v.toPrecision(3)) + u[i];
};
GT.humanRate = function (v) { return v === null ? "" : GT.human(v) + "/s"; };
GT.pct = function (s) {
  if (!(s > 0)) return "0%";
  return (s >= 0.01 ? (s * 100).toFixed(1) : (s * 100).toPrecision(2)) + "%";
};
/* Seconds since the epoch as "2014-12-22 16:14:35Z" (UTC). */
GT.time = function (s) {
  if (!s) return "";
  return new Date(s * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
};
GT.dur = function (s) {
  if (!(s > 0)) return "";
  if (s < 120) return s.toFixed(0) + " s";
  var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return (h ? h + " h " : "") + m + " min";
};

/* A table sortable by clicking a header: cols = [{title, get, fmt?, num?}]. */
GT.table = function (id, cols, rows, rowAttrs) {
  var t = GT.el("table", { id: id, "class": "sortable" });
  var head = t.appendChild(GT.el("thead")).appendChild(GT.el("tr"));
  var body = t.appendChild(GT.el("tbody"));
  var state = { col: -1, dir: 1 };
  function render() {
    body.textContent = "";
    rows.forEach(function (r, i) {
      var tr = GT.el("tr", rowAttrs ? rowAttrs(r, i) : {});
      cols.forEach(function (c) {
        var td = GT.el("td", c.num ? { "class": "num" } : {});
        var v = c.fmt ? c.fmt(r) : c.get(r);
        if (v instanceof Node) td.appendChild(v); else td.textContent = v === undefined ? "" : v;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  cols.forEach(function (c, i) {
    var th = GT.el("th", { "class": c.num ? "num" : "", tabindex: "0" }, c.title);
    th.addEventListener("click", function () {
      state.dir = state.col === i ? -state.dir : (c.num ? -1 : 1);
      state.col = i;
      rows.sort(function (a, b) {
        var x = c.get(a), y = c.get(b);
        return (x < y ? -1 : x > y ? 1 : 0) * state.dir;
      });
      var ths = head.querySelectorAll("th");
      for (var j = 0; j < ths.length; j++) ths[j].removeAttribute("aria-sort");
      th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      render();
    });
    head.appendChild(th);
  });
  render();
  return t;
};

GT.header = function (app, D) {
  var m = D.meta;
  app.appendChild(GT.el("h1", {}, m.live ? "geotap live" : "geotap report"));
  var dl = GT.el("dl", { "class": "meta" });
  function row(k, v) { dl.appendChild(GT.el("dt", {}, k)); dl.appendChild(GT.el("dd", {}, v)); }
  row(m.live ? "source" : "files", m.files.length ? m.files.join(", ") : "(none)");
  row("time span", m.first ? GT.time(m.first) + " .. " + GT.time(m.last) + " (" + GT.dur(m.last - m.first) + ")"
                            : "no packets");
  row("frames", m.frames + " (" + GT.human(m.bytes) + "B): " + m.ip + " IP, " + m.nonip + " non-IP, " +
      m.truncated + " truncated, " + m.malformed + " malformed" + (m.drops ? ", " + m.drops + " dropped by the capture" : ""));
  row("unknown " + m.unknown_dim, GT.pct(m.unknown) + " of addresses");
  row("counted by", m.by + (m.bin ? ", " + m.bin + " s bins" : ", one bin") + ", " + D.grid.bins + " bins, " +
      m.nkeys_seen + " keys with traffic");
  m.dbs.forEach(function (d) { row("database", d.path + " (" + d.desc + ")"); });
  if (m.series_refused) row("note", m.series_refused + " keys beyond the first " + m.series_max + " with traffic have no chart");
  app.appendChild(dl);
};

GT.eventTable = function (app, D) {
  var sec = app.appendChild(GT.el("section", { id: "events-section" }));
  var total = D.events.length + (D.events_left_out || 0);
  sec.appendChild(GT.el("h2", {}, total + " event" + (total === 1 ? "" : "s")));
  if (!D.meta.detector) sec.appendChild(GT.el("p", { "class": "note" }, "The detector did not run."));
  if (D.events_left_out) {
    sec.appendChild(GT.el("p", { "class": "note" }, D.events_left_out +
      " more not_measurable events (keys too quiet to judge) are left out of this table; --events lists them all."));
  }
  var rows = D.events.map(function (e, i) { e.i = i; return e; });
  function link(e) {
    if (e.key === null) return e.label;
    var a = GT.el("a", { href: "#chart-" + e.key }, e.label + (e.name ? " " + e.name : ""));
    return a;
  }
  sec.appendChild(GT.table("events", [
    { title: "detected (UTC)", get: function (e) { return e.detected; }, fmt: function (e) { return GT.time(e.detected); } },
    { title: "type", get: function (e) { return e.type; } },
    { title: "key", get: function (e) { return e.label; }, fmt: link },
    { title: "last seen", get: function (e) { return e.last_seen; }, fmt: function (e) { return GT.time(e.last_seen); } },
    { title: "first seen", get: function (e) { return e.first_seen; }, fmt: function (e) { return GT.time(e.first_seen); } },
    { title: "silence", num: true, get: function (e) { return e.type === "drop_to_zero" ? e.silence : e.duration; },
      fmt: function (e) { return GT.dur(e.type === "drop_to_zero" ? e.silence : e.duration); } },
    { title: "expected pkt/s", num: true, get: function (e) { return e.expected_rate; },
      fmt: function (e) { return e.expected_rate ? e.expected_rate.toPrecision(3) : ""; } },
    { title: "cause", get: function (e) { return e.type === "capture_gap" ? "" : e.cause; } },
    { title: "upstream", get: function (e) { return e.upstream || ""; } },
    { title: "upstream ratio", num: true, get: function (e) { return e.ratio; },
      fmt: function (e) { return e.ratio >= 0 ? Math.round(e.ratio * 100) + "%" : ""; } },
  ], rows, function (e) { return { id: "event-" + e.i, "data-type": e.type }; }));
};

GT.keyTable = function (app, D) {
  var sec = app.appendChild(GT.el("section", { id: "keys-section" }));
  sec.appendChild(GT.el("h2", {}, "Keys"));
  var all = 0;
  D.keys.forEach(function (k) { all += k.pf + k.pt; });
  var charted = {};
  D.charts.forEach(function (c) { charted[c.id] = true; });
  var rows = D.keys.map(function (k) {
    return k.other !== undefined ? { label: "other (" + k.other + " keys)", name: "", pf: k.pf, bf: k.bf, pt: k.pt, bt: k.bt, id: -1 } : k;
  });
  sec.appendChild(GT.table("keys", [
    { title: "key", get: function (k) { return k.label; },
      fmt: function (k) { return charted[k.id] ? GT.el("a", { href: "#chart-" + k.id }, k.label) : k.label; } },
    { title: "name", get: function (k) { return k.name || ""; } },
    { title: "pkts from", num: true, get: function (k) { return k.pf; }, fmt: function (k) { return GT.human(k.pf); } },
    { title: "bytes from", num: true, get: function (k) { return k.bf; }, fmt: function (k) { return GT.human(k.bf) + "B"; } },
    { title: "pkts to", num: true, get: function (k) { return k.pt; }, fmt: function (k) { return GT.human(k.pt); } },
    { title: "bytes to", num: true, get: function (k) { return k.bt; }, fmt: function (k) { return GT.human(k.bt) + "B"; } },
    { title: "share", num: true, get: function (k) { return k.pf + k.pt; }, fmt: function (k) { return GT.pct((k.pf + k.pt) / all); } },
  ], rows));
};

GT.render = function (D) {
  GT.data = D;
  var app = document.getElementById("app");
  app.textContent = "";
  GT.header(app, D);
  GT.map(app, D, JSON.parse(document.getElementById("gt-atlas").textContent),
         JSON.parse(document.getElementById("gt-codes").textContent));
  GT.charts(app, D);
  GT.eventTable(app, D);
  GT.keyTable(app, D);
  document.body.setAttribute("data-ready", "1");
};

/* The sensor's live page: ask this same origin for bins newer than the
 * ones shown, every second, and redraw when there are. */
GT.poll = function (D) {
  GT.updates = 0;
  setInterval(function () {
    fetch("/api/bins?since=" + D.grid.bins, { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (nd) {
        if (!nd || !nd.grid) return;
        var y = window.scrollY;
        D = nd;
        GT.render(D);
        window.scrollTo(0, y);
        document.body.setAttribute("data-updates", ++GT.updates);
      })
      .catch(function () { /* the sensor stopped: keep what is shown */ });
  }, 1000);
};

GT.data = JSON.parse(document.getElementById("gt-data").textContent);
GT.render(GT.data);
if (GT.data.meta.live) GT.poll(GT.data);
