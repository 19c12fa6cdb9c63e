/* The issue page: charts drawn by Chart.js from the rollups the page embeds, and the
   resolve form, whose version field matters only for "resolve in version". */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("chart-data");
  if (!source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const accent = "#2f6fed";

  function bars(canvasId, rows, options) {
    const canvas = document.getElementById(canvasId);
    if (!canvas) return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map((row) => row[0]),
        datasets: [
          {
            label: "traces",
            data: rows.map((row) => row[1]),
            backgroundColor: accent,
            maxBarThickness: 28,
          },
        ],
      },
      options: Object.assign(
        {
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        },
        options || {}
      ),
    });
  }

  bars("chart-days", data.days, {
    scales: {
      x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } },
      y: { beginAtZero: true, ticks: { precision: 0 } },
    },
  });
  bars("chart-versions", data.software_versions, { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } });
  bars("chart-hardware", data.hardware_versions, { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } });
});

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.resolve");
  if (!form) return;
  const resolution = form.querySelector("select[name=resolution]");
  const version = form.querySelector("input[name=version]");
  const sync = () => {
    version.hidden = resolution.value !== "in_version";
    version.required = !version.hidden;
  };
  resolution.addEventListener("change", sync);
  sync();
});
