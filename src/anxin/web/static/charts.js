// Draws every [data-chart] element with the vendored Apache ECharts. The option is built on
// the server (anxin.ui.charts); live fragments that are swapped in later are drawn too.
(function () {
  "use strict";
  if (!window.echarts) return;  // no script, no chart: the table beside it still reads
  var charts = [];

  var measure = document.createElement("canvas").getContext("2d");

  // ECharts never wraps a title by itself: give it the element's width (less the 8 px each
  // side) and, for each line beyond the first, move the legend and the plot down a line.
  // Narrow elements (a phone) get a slightly smaller title. `base` is the server's option.
  function fitTitle(chart, el, base) {
    var title = base.title, style = title && title.textStyle;
    if (!title || !title.text || !style) return;
    var width = Math.max(el.clientWidth - 16, 80);
    var size = el.clientWidth < 480 ? Math.min(style.fontSize || 14, 13) : style.fontSize || 14;
    var line = style.lineHeight || size + 4;
    measure.font = "bold " + size + "px sans-serif";
    var lines = Math.max(1, Math.ceil(measure.measureText(title.text).width / width));
    var extra = (lines - 1) * line;
    var patch = { title: { textStyle: { width: width, fontSize: size } } };
    if (base.legend && typeof base.legend.top === "number") {
      patch.legend = { top: base.legend.top + extra };
    }
    if (base.grid && typeof base.grid.top === "number") {
      patch.grid = { top: base.grid.top + extra };
    }
    chart.setOption(patch);
  }

  function draw(el) {
    if (el.getAttribute("data-chart-drawn")) return;
    el.setAttribute("data-chart-drawn", "1");
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var base = JSON.parse(el.getAttribute("data-chart"));
    chart.setOption(base);
    fitTitle(chart, el, base);
    charts.push({ chart: chart, el: el, base: base });
  }

  function drawAll(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-chart]"), draw);
  }

  drawAll(document);
  new MutationObserver(function (changes) {
    charts = charts.filter(function (c) {
      if (document.body.contains(c.el)) return true;
      c.chart.dispose();
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
    charts.forEach(function (c) {
      c.chart.resize();
      fitTitle(c.chart, c.el, c.base);
    });
  });
})();
