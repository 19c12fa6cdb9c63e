/* Release page charts: adoption per cohort, and both releases' crash-free hours with their
   95 % intervals (dashed), drawn by Chart.js from the data the page embeds. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const embedded = document.getElementById("release-data");
  if (!window.Chart || !embedded) return;
  const data = JSON.parse(embedded.textContent);
  const base = { animation: false, maintainAspectRatio: false, spanGaps: true };
  const colours = { asked: "#8a8f98", offered: "#2f6fed", reported: "#1f9d55", new: "#d64545", old: "#2f6fed" };

  function line(label, values, colour, dashed) {
    return { label, data: values, borderColor: colour, backgroundColor: colour, pointRadius: dashed ? 0 : 2, borderDash: dashed ? [4, 4] : [], borderWidth: dashed ? 1 : 2 };
  }

  document.querySelectorAll("canvas[data-adoption]").forEach((canvas) => {
    const days = data.adoption[canvas.dataset.adoption] || [];
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: days.map((d) => d.day),
        datasets: ["asked", "offered", "reported"].map((k) => line(k, days.map((d) => d[k]), colours[k], false)),
      },
      options: Object.assign({}, base, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
    });
  });

  const pct = (point, key) => (point && point.crash_free_hours[key] !== null ? point.crash_free_hours[key] * 100 : null);
  document.querySelectorAll("canvas[data-safety]").forEach((canvas) => {
    const days = data.safety[canvas.dataset.safety] || [];
    const datasets = [];
    for (const arm of ["new", "old"]) {
      const name = arm === "new" ? "this release" : "previous release";
      datasets.push(line(name, days.map((d) => pct(d[arm], "value")), colours[arm], false));
      datasets.push(line(name + " 95 % low", days.map((d) => pct(d[arm], "low")), colours[arm], true));
      datasets.push(line(name + " 95 % high", days.map((d) => pct(d[arm], "high")), colours[arm], true));
    }
    new window.Chart(canvas, {
      type: "line",
      data: { labels: days.map((d) => d.day), datasets },
      options: Object.assign({}, base, { scales: { y: { suggestedMax: 100 } } }),
    });
  });
});
