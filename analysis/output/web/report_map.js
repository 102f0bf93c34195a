/* geotap report: the world map (d3-geo + topojson-client, Natural Earth
 * 1:110m shapes from world-atlas), coloured by traffic share on a log
 * scale; countries with a drop_to_zero outlined and hatched. */
"use strict";
var GT = window.GT || (window.GT = {});

GT.svg = function (tag, attrs) {
  var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  return e;
};

/* Light yellow to dark blue, t in [0, 1]. */
GT.ramp = function (t) {
  var a = [255, 237, 160], m = [65, 182, 196], b = [8, 29, 88], c = [];
  t = Math.max(0, Math.min(1, t));
  for (var i = 0; i < 3; i++) {
    c.push(Math.round(t < 0.5 ? a[i] + (m[i] - a[i]) * t * 2 : m[i] + (b[i] - m[i]) * (t - 0.5) * 2));
  }
  return "rgb(" + c.join(",") + ")";
};

GT.map = function (parent, D, atlas, codes) {
  var sec = GT.el("section", { id: "map-section" });
  sec.appendChild(GT.el("h2", {}, "Traffic by country"));
  parent.appendChild(sec);
  var countries = D.countries || {};
  var ccs = Object.keys(countries);
  if (!ccs.length) {
    sec.appendChild(GT.el("p", { "class": "note" },
      D.meta.by.indexOf("country") < 0 ? "No map: the report counts by " + D.meta.by + ", not by country."
                                       : "No map: no packet had a known country."));
    return;
  }
  var total = 0, minShare = 1;
  ccs.forEach(function (cc) { total += countries[cc][0] + countries[cc][1]; });
  ccs.forEach(function (cc) {
    var s = (countries[cc][0] + countries[cc][1]) / total;
    if (s > 0 && s < minShare) minShare = s;
  });
  var lo = Math.log10(Math.min(minShare, 0.001));
  var down = {};
  D.events.forEach(function (e) {
    if (e.type === "drop_to_zero" && e.key !== null) {
      var ch = D.charts.filter(function (c) { return c.id === e.key; })[0];
      if (ch && ch.cc) down[ch.cc] = e;
    }
  });
  var num2cc = {};
  codes.forEach(function (c) { num2cc[parseInt(c[2], 10)] = c[0]; });
  var names = {};
  D.keys.forEach(function (k) { if (k.cc && k.name && !names[k.cc]) names[k.cc] = k.name; });

  var W = 960, H = 470;
  var fc = topojson.feature(atlas, atlas.objects.countries);
  var proj = d3.geoNaturalEarth1().fitSize([W, H], fc);
  var path = d3.geoPath(proj);
  var svg = GT.svg("svg", { id: "map", viewBox: "0 0 " + W + " " + H, role: "img",
                            "aria-label": "world map of traffic share" });
  var defs = GT.svg("defs");
  var pat = GT.svg("pattern", { id: "gt-hatch", width: 4, height: 4, patternUnits: "userSpaceOnUse",
                                patternTransform: "rotate(45)" });
  pat.appendChild(GT.svg("rect", { width: 2, height: 4, fill: "#d62728" }));
  defs.appendChild(pat);
  svg.appendChild(defs);
  svg.appendChild(GT.svg("path", { "class": "sphere", d: path({ type: "Sphere" }) }));
  var tip = document.getElementById("tooltip");
  var outlines = [];
  fc.features.forEach(function (f) {
    var cc = num2cc[parseInt(f.id, 10)] || "";
    var v = countries[cc] || [0, 0], n = v[0] + v[1], share = n / total;
    var t = n ? (Math.log10(share) - lo) / -lo : 0;
    var p = GT.svg("path", { d: path(f) || "", "data-cc": cc, "class": "country",
                             fill: n ? GT.ramp(t) : "#e8e8e8" });
    var name = names[cc] || (f.properties && f.properties.name) || cc;
    var text = (cc ? cc + " " : "") + name + ": " + GT.human(n) + " packets (" + GT.pct(share) + ")" +
      ", " + GT.human(v[0]) + " from, " + GT.human(v[1]) + " to";
    if (down[cc]) {
      p.setAttribute("class", "country outage");
      text += "; dropped to zero at " + GT.time(down[cc].last_seen);
      outlines.push(GT.svg("path", { d: p.getAttribute("d"), "class": "outage-outline", "data-cc": cc,
                                     fill: "url(#gt-hatch)" }));
    }
    p.appendChild(GT.svg("title")).textContent = text;
    p.addEventListener("mousemove", function (ev) {
      tip.hidden = false;
      tip.textContent = text;
      tip.style.left = (ev.pageX + 12) + "px";
      tip.style.top = (ev.pageY + 12) + "px";
    });
    p.addEventListener("mouseleave", function () { tip.hidden = true; });
    svg.appendChild(p);
  });
  /* Outlines last, so a neighbour's border never covers them. */
  outlines.forEach(function (o) { svg.appendChild(o); });
  sec.appendChild(svg);

  var legend = GT.el("div", { "class": "legend" });
  legend.appendChild(GT.el("span", {}, "share of packets (log scale): " + GT.pct(Math.pow(10, lo))));
  var bar = GT.el("span", { "class": "ramp" });
  var stops = [];
  for (var i = 0; i <= 10; i++) stops.push(GT.ramp(i / 10));
  bar.style.background = "linear-gradient(to right," + stops.join(",") + ")";
  legend.appendChild(bar);
  legend.appendChild(GT.el("span", {}, "100%"));
  legend.appendChild(GT.el("span", { "class": "hatch-key" }, ""));
  legend.appendChild(GT.el("span", {}, "dropped to zero"));
  sec.appendChild(legend);
};
