// Draws every [data-chart] element with the vendored Apache ECharts. The option is built on
// the server (anxin.ui.charts); live fragments that are swapped in later are drawn too.
(function () {
  "use strict";
  if (!window.echarts) return;  // no script, no chart: the table beside it still reads
  var charts = [];

  function draw(el) {
    if (el.getAttribute("data-chart-drawn")) return;
    el.setAttribute("data-chart-drawn", "1");
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(JSON.parse(el.getAttribute("data-chart")));
    charts.push(chart);
  }

  function drawAll(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-chart]"), draw);
  }

  drawAll(document);
  new MutationObserver(function (changes) {
    charts = charts.filter(function (c) {
      if (document.body.contains(c.getDom())) return true;
      c.dispose();
      return false;
    });
    changes.forEach(function (change) {
      Array.prototype.forEach.call(change.addedNodes, function (node) {
        if (node.nodeType === 1) {
          if (node.hasAttribute("data-chart")) draw(node);
          drawAll(node);
        }
      });
    });
  }).observe(document.body, { childList: true, subtree: true });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
