// The evaluation pages' charts: the ranking bars, the counts (bars, or a trend line by day, week or
// month) and the category × street heat map. The numbers come from the page's JSON script written by
// json_script (#ev-chart-data), the same numbers as the tables beside the charts; no inline script,
// no inline handler (the content security policy forbids them).
(function () {
  "use strict";

  var BLUE = "#0d6efd";

  function label(row) {
    return row.code && row.code !== row.name ? row.code + " " + row.name : row.name;
  }

  function barOption(data) {
    return WhistleCharts.bars({ title: data.title, rows: data.rows, colour: BLUE, label: label, labelWidth: 180 });
  }

  function lineOption(data) {
    return {
      animation: false,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: {
        type: "category",
        boundaryGap: false,
        data: data.rows.map(function (row) {
          return row.code;
        }),
      },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        {
          name: data.title,
          type: "line",
          data: data.rows.map(function (row) {
            return row.value;
          }),
          itemStyle: { color: BLUE },
          lineStyle: { color: BLUE },
        },
      ],
    };
  }

  function heatmapOption(data) {
    var most = 1;
    data.cells.forEach(function (cell) {
      most = Math.max(most, cell[2]);
    });
    return {
      animation: false,
      grid: { left: 8, right: 16, top: 8, bottom: 64, containLabel: true },
      tooltip: {
        position: "top",
        formatter: function (params) {
          var cell = params.data;
          return data.categories[cell[1]] + " · " + data.streets[cell[0]] + ": " + cell[2];
        },
      },
      xAxis: { type: "category", data: data.streets, splitArea: { show: true }, axisLabel: { rotate: 30 } },
      yAxis: { type: "category", data: data.categories.slice(), inverse: true, splitArea: { show: true } },
      visualMap: {
        min: 0,
        max: most,
        calculable: true,
        orient: "horizontal",
        left: "center",
        bottom: 0,
        inRange: { color: ["#fff5f0", "#fcbba1", "#fb6a4a", "#a50f15"] },
      },
      series: [{ type: "heatmap", data: data.cells, label: { show: true }, emphasis: { itemStyle: { borderColor: "#333" } } }],
    };
  }

  function option(key, data) {
    var chart = data[key];
    if (!chart) {
      return null;
    }
    if (key === "heatmap") {
      return chart.cells.length ? heatmapOption(chart) : null;
    }
    if (!chart.rows.length) {
      return null;
    }
    return chart.kind === "line" ? lineOption(chart) : barOption(chart);
  }

  function height(key, data) {
    if (key === "heatmap") {
      return Math.max(240, data.heatmap.categories.length * 28 + 120);
    }
    if (data[key].kind === "line") {
      return 300;
    }
    return Math.max(140, Math.min(data[key].rows.length, 60) * 24 + 48);
  }

  var charts = [];

  function drawCharts() {
    charts.forEach(function (chart) {
      chart.dispose();
    });
    charts = [];
    var elements = document.querySelectorAll("[data-ev-chart]");
    if (!elements.length || typeof echarts === "undefined") {
      return;
    }
    var data = WhistleCharts.data("ev-chart-data");
    if (!data) {
      return;
    }
    elements.forEach(function (element) {
      var key = element.dataset.evChart;
      var chartOption = option(key, data);
      if (!chartOption) {
        element.hidden = true;
        return;
      }
      charts.push(WhistleCharts.draw(element, chartOption, height(key, data)));
    });
  }

  function start() {
    drawCharts();
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) {
        chart.resize();
      });
    });
    // A boosted form (adopting a problem of the month) swaps #main: draw its charts again.
    document.body.addEventListener("htmx:afterSettle", drawCharts);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
