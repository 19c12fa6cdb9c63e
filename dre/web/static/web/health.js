/* Fleet health charts, drawn by Chart.js from the data the page embeds. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  if (!window.Chart) return;
  const accent = "#2f6fed";
  const base = { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } } };

  function chart(canvas, type, labels, values, options) {
    return new window.Chart(canvas, {
      type,
      data: { labels, datasets: [{ data: values, backgroundColor: accent, borderColor: accent, pointRadius: 2 }] },
      options: Object.assign({}, base, options || {}),
    });
  }

  const overview = document.getElementById("health-data");
  if (overview) {
    const days = JSON.parse(overview.textContent).days;
    const labels = days.map((d) => d.day);
    const share = days.map((d) => (d.crash_free_hours.value === null ? null : d.crash_free_hours.value * 100));
    chart(document.getElementById("chart-crashfree"), "line", labels, share, { scales: { y: { suggestedMax: 100 } } });
    chart(document.getElementById("chart-reboots"), "bar", labels, days.map((d) => d.unexpected_reboots), {
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    });
  }

  const device = document.getElementById("device-data");
  const holder = document.getElementById("metric-charts");
  if (device && holder) {
    const metrics = JSON.parse(device.textContent).metrics;
    for (const [name, points] of Object.entries(metrics)) {
      const figure = document.createElement("figure");
      figure.innerHTML = '<figcaption></figcaption><div class="chart"><canvas role="img"></canvas></div>';
      figure.querySelector("figcaption").textContent = name;
      const canvas = figure.querySelector("canvas");
      canvas.setAttribute("aria-label", name);
      holder.appendChild(figure);
      chart(canvas, "line", points.map((p) => p[0].slice(0, 16).replace("T", " ")), points.map((p) => p[1]));
    }
  }
});
