// report.html's one script: a crosshair and a readout of time and value on every chart.
// It reads only the data-* attributes the Rust side wrote (never page text), loads
// nothing and writes nothing but SVG attributes and text content.
(function () {
  "use strict";
  function fmt(v) {
    var a = Math.abs(v);
    return a >= 100 || v % 1 === 0 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
  }
  function xText(kind, x) {
    return kind === "pct" ? "p" + fmt(100 * (1 - Math.pow(10, -x))) : fmt(x) + " s";
  }
  function nearest(pts, x) {
    var best = null;
    for (var i = 0; i < pts.length; i++) {
      if (best === null || Math.abs(pts[i][0] - x) < Math.abs(best[0] - x)) best = pts[i];
    }
    return best;
  }
  document.querySelectorAll("svg.chart[data-map]").forEach(function (svg) {
    var m = svg.getAttribute("data-map").split(" ").map(Number);
    var kind = svg.getAttribute("data-x"), unit = svg.getAttribute("data-unit");
    var hair = svg.querySelector(".xhair"), out = svg.querySelector(".readout");
    var legend = svg.querySelector(".legend");
    var width = svg.viewBox.baseVal.width;
    var series = [].map.call(svg.querySelectorAll("[data-xy]"), function (p) {
      var xy = p.getAttribute("data-xy");
      return {
        name: p.getAttribute("data-name"),
        pts: xy ? xy.split(",").map(function (s) { return s.split(" ").map(Number); }) : []
      };
    });
    function hide() {
      hair.setAttribute("visibility", "hidden");
      out.setAttribute("visibility", "hidden");
      if (legend) legend.removeAttribute("visibility");
    }
    function show(clientX) {
      var r = svg.getBoundingClientRect();
      var px = (clientX - r.left) * width / r.width;
      if (px < m[0] || px > m[1]) return hide();
      var x = m[2] + (px - m[0]) / (m[1] - m[0]) * (m[3] - m[2]);
      var parts = [];
      series.forEach(function (s) {
        var p = nearest(s.pts, x);
        if (p) parts.push(s.name + " " + fmt(p[1]) + " " + unit);
      });
      hair.setAttribute("x1", px);
      hair.setAttribute("x2", px);
      hair.setAttribute("visibility", "visible");
      out.textContent = xText(kind, x) + ": " + parts.join(" · ");
      out.setAttribute("visibility", "visible");
      if (legend) legend.setAttribute("visibility", "hidden");
    }
    svg.addEventListener("mousemove", function (e) { show(e.clientX); });
    svg.addEventListener("mouseleave", hide);
  });
})();
