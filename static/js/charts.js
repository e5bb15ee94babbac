// What the pages' charts share (ECharts, vendored): reading the numbers the page wrote with
// json_script, a horizontal bar chart of units, and drawing a chart into its element. Loaded
// before a page's own chart script; no inline script (the content security policy forbids it).
(function () {
  "use strict";

  // The JSON of the <script type="application/json" id="..."> the page carries, or null.
  function data(id) {
    var script = document.getElementById(id);
    if (!script) {
      return null;
    }
    try {
      return JSON.parse(script.textContent);
    } catch (error) {
      return null;
    }
  }

  // One horizontal bar per row, the first row on top: {title, rows, colour, label(row), labelWidth, integer}.
  function bars(options) {
    var rows = options.rows.slice().reverse(); // ECharts draws a horizontal bar chart from the bottom up
    return {
      animation: false,
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: options.integer ? { type: "value", minInterval: 1 } : { type: "value" },
      yAxis: {
        type: "category",
        data: rows.map(options.label),
        axisLabel: { width: options.labelWidth, overflow: "truncate" },
      },
      series: [
        {
          name: options.title,
          type: "bar",
          data: rows.map(function (row) {
            return row.value;
          }),
          itemStyle: { color: options.colour },
          barMaxWidth: 22,
          label: { show: true, position: "right" },
        },
      ],
    };
  }

  // Tooltips drawn on the canvas, not as HTML: ECharts' HTML tooltips carry style attributes, which
  // the content security policy refuses (style-src 'self', no 'unsafe-inline').
  function canvasTooltips(option) {
    [].concat(option.tooltip || []).forEach(function (tooltip) {
      tooltip.renderMode = "richText";
    });
    return option;
  }

  // The chart of `option` drawn into `element`, `height` pixels tall.
  function draw(element, option, height) {
    if (height) {
      element.style.height = height + "px";
    }
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(canvasTooltips(option));
    return chart;
  }

  window.WhistleCharts = { data: data, bars: bars, draw: draw };
})();
