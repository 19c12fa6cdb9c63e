/* Metrics explorer: one line per group, the chosen aggregate per day (Chart.js). */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("explorer-data");
  const canvas = document.getElementById("chart-explorer");
  if (!window.Chart || !data || !canvas) return;
  const { rows, aggregate } = JSON.parse(data.textContent);
  const palette = ["#2f6fed", "#e8590c", "#2b8a3e", "#ae3ec9", "#c92a2a", "#1098ad", "#5c940d", "#862e9c"];
  const days = [...new Set(rows.map((r) => r.day))].sort();
  const groups = [...new Set(rows.map((r) => r.label))];
  const datasets = groups.map((label, n) => {
    const byDay = new Map(rows.filter((r) => r.label === label).map((r) => [r.day, r[aggregate]]));
    const colour = palette[n % palette.length];
    return { label, data: days.map((d) => (byDay.has(d) ? byDay.get(d) : null)), borderColor: colour, backgroundColor: colour, pointRadius: 2, spanGaps: true };
  });
  new window.Chart(canvas, {
    type: "line",
    data: { labels: days, datasets },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: groups.length > 1 } } },
  });
});
