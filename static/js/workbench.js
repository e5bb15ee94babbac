// The workbenches: deadline countdowns refreshed each minute, the focus after a
// one-click task action, and the supervisor's charts. Words and data come from
// the page (data-* attributes and a JSON <script> written by json_script): no
// inline script, no inline handler (the content security policy forbids them).
(function () {
  "use strict";

  var MINUTE = 60 * 1000;

  // Countdowns ------------------------------------------------------------------------------

  // The translated pieces, from the element that carries them (the task list).
  function countdownWords() {
    var source = document.querySelector("[data-countdown-left]");
    if (!source) {
      return null;
    }
    return {
      day: source.dataset.countdownDay,
      hour: source.dataset.countdownHour,
      minute: source.dataset.countdownMinute,
      left: source.dataset.countdownLeft,
      late: source.dataset.countdownLate,
    };
  }

  function fill(template, name, value) {
    return template.split("%(" + name + ")s").join(String(value));
  }

  // The same words as workbench.selectors.remaining_time: whole minutes, the two largest units.
  function remaining(due, now, words) {
    var late = due < now;
    var minutes = Math.floor(Math.abs(due - now) / MINUTE);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    var parts;
    if (days) {
      parts = [fill(words.day, "n", days), fill(words.hour, "n", hours)];
    } else if (hours) {
      parts = [fill(words.hour, "n", hours), fill(words.minute, "n", mins)];
    } else {
      parts = [fill(words.minute, "n", mins)];
    }
    return { text: fill(late ? words.late : words.left, "time", parts.join(" ")), late: late };
  }

  function refreshCountdowns() {
    var words = countdownWords();
    if (!words) {
      return;
    }
    var now = Date.now();
    document.querySelectorAll(".wb-countdown[data-due]").forEach(function (element) {
      var due = Date.parse(element.dataset.due);
      if (isNaN(due)) {
        return;
      }
      var result = remaining(due, now, words);
      if (element.textContent !== result.text) {
        element.textContent = result.text;
      }
      element.classList.toggle("wb-late", result.late);
    });
  }

  // After a one-click action htmx swaps the row: the button that had the focus is gone,
  // so the focus moves to the row's message (which a screen reader also announces).
  function focusSwappedMessage() {
    var message = document.querySelector("[data-wb-focus]");
    if (message) {
      message.removeAttribute("data-wb-focus");
      message.focus();
    }
  }

  // Charts -----------------------------------------------------------------------------------

  var COLOURS = { overdue: "#dc3545", warning: "#f0ad00", raised: "#0d6efd", closed: "#198754" };

  function barOption(bar) {
    return WhistleCharts.bars({
      title: bar.title,
      rows: bar.rows,
      colour: COLOURS[bar.kind],
      labelWidth: 160,
      integer: true,
      label: function (row) {
        return row.code + " " + row.name;
      },
    });
  }

  function trendOption(trend) {
    return {
      animation: false,
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      xAxis: {
        type: "category",
        boundaryGap: false,
        data: trend.days.map(function (day) {
          return day.slice(5); // MM-DD
        }),
      },
      yAxis: { type: "value", minInterval: 1 },
      series: trend.series.map(function (series) {
        return {
          name: series.name,
          type: "line",
          data: series.values,
          itemStyle: { color: COLOURS[series.key] },
          lineStyle: { color: COLOURS[series.key] },
        };
      }),
    };
  }

  function drawCharts() {
    var elements = document.querySelectorAll("[data-chart]");
    if (!elements.length || typeof echarts === "undefined") {
      return;
    }
    var data = WhistleCharts.data("wb-chart-data");
    if (!data) {
      return;
    }
    var bars = {};
    data.bars.forEach(function (bar) {
      bars[bar.key] = bar;
    });
    var charts = [];
    elements.forEach(function (element) {
      var key = element.dataset.chart;
      var option = key === "trend" ? trendOption(data.trend) : bars[key] && barOption(bars[key]);
      if (!option) {
        return;
      }
      // As tall as its bars need: a chart of two units is not as tall as one of fifteen.
      var height = key === "trend" ? null : Math.max(140, bars[key].rows.length * 26 + 48);
      charts.push(WhistleCharts.draw(element, option, height));
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) {
        chart.resize();
      });
    });
  }

  function start() {
    refreshCountdowns();
    window.setInterval(refreshCountdowns, MINUTE);
    document.body.addEventListener("htmx:afterSettle", focusSwappedMessage);
    drawCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
