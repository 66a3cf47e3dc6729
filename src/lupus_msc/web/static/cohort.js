// The Cohort page's charts: reads the numbers the server wrote into the JSON block and draws them
// with plotly.js (proportions by time point with their Wilson intervals, NRI beside observed cases;
// Kaplan–Meier curves with their bands; immune-marker medians with IQRs; the forest plot of
// published results). Nothing is computed here. Without JavaScript (or without plotly) the tables
// under each chart show the same numbers.
(function () {
  "use strict";

  var CONFIG = { displayModeBar: false, responsive: true };
  var COLORS = { nri: "#1f5fa8", observed: "#9a6200", study: "#1f5fa8", placebo: "#5b6573",
    pooled: "#1d2430", cohort: "#b3121f" };
  var CURVE_COLORS = ["#1f5fa8", "#1d7a3a", "#b3121f"];

  function show(element) {
    var figure = element.closest("figure");
    if (figure) figure.hidden = false;
  }

  function pick(points, key) {
    return points.map(function (point) { return point === null ? null : point[key]; });
  }

  function bars(name, points, timepoints, color) {
    return {
      type: "bar", name: name, x: timepoints, y: pick(points, "value"),
      text: pick(points, "text"), hovertemplate: "%{x}: %{text}<extra>" + name + "</extra>",
      textposition: "none", marker: { color: color },
      error_y: { type: "data", symmetric: false, array: pick(points, "plus"),
        arrayminus: pick(points, "minus"), color: "#1d2430", thickness: 1.2, width: 4 }
    };
  }

  function drawProportions(data) {
    var element = document.getElementById("chart-proportions");
    var choice = document.getElementById("chart-outcome");
    if (!element || !choice || !data.outcomes.length) return;
    function draw() {
      var outcome = data.outcomes.filter(function (o) { return o.key === choice.value; })[0];
      if (!outcome) outcome = data.outcomes[0];
      var traces = [
        bars("NRI (primary)", outcome.nri, data.timepoints, COLORS.nri),
        bars("Observed cases", outcome.observed, data.timepoints, COLORS.observed)
      ];
      var layout = {
        barmode: "group", height: 320, margin: { l: 55, r: 15, t: 10, b: 40 },
        yaxis: { title: { text: "Patients (%)" }, range: [0, 100] },
        legend: { orientation: "h", y: -0.2 }
      };
      window.Plotly.react(element, traces, layout, CONFIG);
      element.setAttribute("data-drawn", "true");
      element.setAttribute("data-outcome", outcome.key);
    }
    show(element);
    draw();
    choice.addEventListener("change", draw);
  }

  function drawTimeTo(data) {
    var element = document.getElementById("chart-time-to");
    if (!element || !data.curves.length) return;
    var traces = [];
    data.curves.forEach(function (curve, index) {
      var color = CURVE_COLORS[index % CURVE_COLORS.length];
      traces.push({ x: curve.x, y: curve.high, mode: "lines", line: { width: 0, shape: "hv" },
        hoverinfo: "skip", showlegend: false, legendgroup: curve.label });
      traces.push({ x: curve.x, y: curve.low, mode: "lines", line: { width: 0, shape: "hv" },
        fill: "tonexty", fillcolor: color + "22", hoverinfo: "skip", showlegend: false,
        legendgroup: curve.label });
      traces.push({ x: curve.x, y: curve.y, name: curve.label, mode: "lines", text: curve.text,
        hovertemplate: "%{text}<extra>" + curve.label + "</extra>", legendgroup: curve.label,
        line: { color: color, width: 2, shape: "hv" } });
    });
    var layout = {
      height: 360, margin: { l: 55, r: 15, t: 10, b: 45 },
      xaxis: { title: { text: "Months since the first infusion" }, tickvals: data.ticks,
        ticktext: data.ticks.map(function (t) { return String(Math.round(t)); }) },
      yaxis: { title: { text: "Cumulative proportion (%)" }, range: [0, 100] },
      legend: { orientation: "h", y: -0.25 }
    };
    show(element);
    window.Plotly.newPlot(element, traces, layout, CONFIG);
    element.setAttribute("data-drawn", "true");
  }

  function drawTrajectory(chart) {
    var element = document.getElementById(chart.id);
    if (!element) return;
    var trace = {
      x: chart.x, y: chart.median, text: chart.text, mode: "lines+markers", name: chart.title,
      hovertemplate: "%{text}<extra></extra>", line: { color: COLORS.nri },
      error_y: { type: "data", symmetric: false, array: chart.plus, arrayminus: chart.minus,
        color: "#5b6573", thickness: 1.2, width: 4 }
    };
    var layout = {
      height: 260, margin: { l: 55, r: 15, t: 10, b: 45 }, showlegend: false,
      xaxis: { title: { text: "Month" }, tickvals: chart.x },
      yaxis: { title: { text: chart.title }, rangemode: "tozero" }
    };
    show(element);
    window.Plotly.newPlot(element, [trace], layout, CONFIG);
    element.setAttribute("data-drawn", "true");
  }

  function drawForest(data) {
    var element = document.getElementById("chart-forest");
    if (!element || !data.rows.length) return;
    var labels = data.rows.map(function (row) { return row.label; });
    var traces = [];
    if (data.prediction) {
      traces.push({ x: [data.prediction.low, data.prediction.high],
        y: [data.prediction.label, data.prediction.label], mode: "lines",
        name: "Prediction interval (95%)", line: { color: COLORS.pooled, width: 1, dash: "dot" },
        hovertemplate: "prediction interval %{x:.0f}%<extra></extra>" });
    }
    var names = { study: "Published MSC arm", placebo: "Placebo arm", pooled: "Pooled estimate",
      cohort: "This cohort" };
    ["study", "placebo", "pooled", "cohort"].forEach(function (kind) {
      var rows = data.rows.filter(function (row) { return row.kind === kind; });
      if (!rows.length) return;
      traces.push({
        x: pick(rows, "value"), y: pick(rows, "label"), text: pick(rows, "text"),
        mode: "markers", type: "scatter", name: names[kind],
        marker: { color: COLORS[kind], size: kind === "pooled" ? 13 : 9,
          symbol: kind === "pooled" ? "diamond" : (kind === "cohort" ? "square" : "circle") },
        hovertemplate: "%{y}: %{x:.0f}% — %{text}<extra></extra>",
        error_x: { type: "data", symmetric: false, array: pick(rows, "plus"),
          arrayminus: pick(rows, "minus"), color: COLORS[kind], thickness: 1.5, width: 3 }
      });
    });
    var layout = {
      height: Math.max(260, 60 + 26 * labels.length), margin: { l: 10, r: 15, t: 10, b: 45 },
      xaxis: { title: { text: "Responders (%)" }, range: [0, 100] },
      yaxis: { categoryorder: "array", categoryarray: labels.slice().reverse(), automargin: true },
      legend: { orientation: "h", y: -0.2 }
    };
    show(element);
    window.Plotly.newPlot(element, traces, layout, CONFIG);
    element.setAttribute("data-drawn", "true");
  }

  function start() {
    var source = document.getElementById("cohort-chart-data");
    if (!source || !window.Plotly) return;
    var data = JSON.parse(source.textContent);
    drawProportions(data.proportions);
    drawTimeTo(data.time_to);
    data.trajectories.forEach(drawTrajectory);
    drawForest(data.forest);
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
