// The patient page's charts: reads the figure data from the JSON block the server wrote and draws
// it with plotly.js, marking each infusion date with a dashed vertical line. Without JavaScript
// (or without plotly) the table under the charts shows the same numbers.
(function () {
  "use strict";

  function infusionLines(dates) {
    return dates.map(function (day) {
      return {
        type: "line", xref: "x", yref: "paper", x0: day, x1: day, y0: 0, y1: 1,
        line: { color: "#1b7a3a", width: 1.5, dash: "dash" }
      };
    });
  }

  function draw(figure, infusions) {
    var element = document.getElementById(figure.id);
    if (!element || !figure.traces.length) return;
    var traces = figure.traces.map(function (trace) {
      return { name: trace.name, x: trace.x, y: trace.y, yaxis: trace.yaxis, type: "scatter", mode: "lines+markers" };
    });
    var layout = {
      margin: { l: 50, r: figure.y2_title ? 55 : 15, t: 25, b: 40 },
      height: 260,
      showlegend: traces.length > 1,
      legend: { orientation: "h", y: -0.25 },
      xaxis: { type: "date" },
      yaxis: { title: { text: figure.y_title }, rangemode: "tozero" },
      shapes: infusionLines(infusions)
    };
    if (figure.y2_title) {
      layout.yaxis2 = { title: { text: figure.y2_title }, overlaying: "y", side: "right", rangemode: "tozero" };
    }
    element.parentNode.hidden = false;
    window.Plotly.newPlot(element, traces, layout, { displayModeBar: false, responsive: true });
    element.setAttribute("data-drawn", "true");
  }

  function start() {
    var source = document.getElementById("patient-charts-data");
    if (!source || !window.Plotly) return;
    var data = JSON.parse(source.textContent);
    data.figures.forEach(function (figure) { draw(figure, data.infusions); });
    // A chart drawn while the grid was still settling can be wider than its cell: fit them all
    // once the layout is final.
    window.requestAnimationFrame(function () {
      document.querySelectorAll("[data-drawn]").forEach(function (element) {
        window.Plotly.Plots.resize(element);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
