/* Dashboard charts (Apache ECharts, vendored under console/vendor/echarts). */
(function () {
  "use strict";
  function option(data, days) {
    var n = Math.min(days, data.days.length);
    var x = data.days.slice(-n);
    var grid = { left: 8, right: 8, top: 36, bottom: 8, containLabel: true };
    if (data.kind === "sales") {
      return {
        animation: false,
        animation: false,
      grid: grid,
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [data.labels.amount, data.labels.orders] },
        xAxis: { type: "category", data: x },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", minInterval: 1 }],
        series: [
          { name: data.labels.amount, type: "bar", data: data.amounts.slice(-n), itemStyle: { color: "#e8453c" } },
          { name: data.labels.orders, type: "line", yAxisIndex: 1, data: data.orders.slice(-n), itemStyle: { color: "#2f6fdf" } }
        ]
      };
    }
    return {
      animation: false,
      grid: grid,
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [data.labels.signups] },
      xAxis: { type: "category", data: x },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: data.labels.signups, type: "bar", data: data.signups.slice(-n), itemStyle: { color: "#e8453c" } }]
    };
  }
  function init() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var data = JSON.parse(source.textContent);
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option(data, parseInt(el.dataset.days, 10)));
      el.dataset.ready = "true";
      window.addEventListener("resize", function () { chart.resize(); });
      var panel = el.closest("section");
      panel.querySelectorAll("[data-chart-days]").forEach(function (button) {
        button.addEventListener("click", function () {
          panel.querySelectorAll("[data-chart-days]").forEach(function (b) {
            var on = b === button;
            b.setAttribute("aria-pressed", on ? "true" : "false");
            b.classList.toggle("button-secondary", !on);
          });
          el.dataset.days = button.dataset.chartDays;
          chart.setOption(option(data, parseInt(button.dataset.chartDays, 10)), true);
        });
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
