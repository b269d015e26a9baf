// Draws the statistics chart from the page's JSON data island (CSP forbids inline scripts). The table
// under the chart holds the same figures for screen readers and for when the library is missing.
(function () {
  "use strict";
  var island = document.getElementById("chart-data");
  var box = document.getElementById("chart");
  if (!island || !box || typeof window.echarts === "undefined") { return; }
  var spec = JSON.parse(island.textContent);
  if (!spec.categories.length) { box.hidden = true; return; }
  var chart = window.echarts.init(box, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { top: 60, left: 50, right: 20, bottom: 90 },
    xAxis: { type: "category", data: spec.categories, axisLabel: { rotate: spec.categories.length > 6 ? 40 : 0 } },
    yAxis: { type: "value" },
    series: spec.series.map(function (s) {
      return { name: s.name, type: spec.type, data: s.data, stack: s.stack };
    })
  });
  box.setAttribute("data-rendered", "true");
  window.addEventListener("resize", function () { chart.resize(); });
}());
