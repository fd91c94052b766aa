// Statistics plots with uPlot (npm, /ui/assets/vendor/uplot.js): cost per
// day as bars, CPU core-hours and memory GiB-hours per day as lines. The
// figures come from the page (data-days, written by the server); nothing
// is fetched. The x axis is the day's index, labelled with its date, so a
// day reads the same in every time zone.

(function () {
  if (typeof uPlot === "undefined") return;
  const charts = [];

  function width(el) {
    return Math.max(240, el.clientWidth || 600);
  }

  for (const holder of document.querySelectorAll(".chart[data-days]")) {
    let days;
    try {
      days = JSON.parse(holder.dataset.days);
    } catch {
      continue;
    }
    if (!Array.isArray(days) || days.length === 0) continue;
    const xs = days.map((_d, i) => i);
    const labels = days.map((d) => d.date.slice(5)); // MM-DD
    const bars = uPlot.paths && uPlot.paths.bars
      ? uPlot.paths.bars({ size: [0.6, 48] })
      : undefined;
    const x = {
      values: (_u, ticks) => ticks.map((i) => labels[i] ?? ""),
      splits: () => xs,
    };
    const cost = holder.dataset.series === "cost";
    const opts = cost
      ? {
        series: [
          {},
          {
            label: "Cost",
            stroke: "#1d4ed8",
            fill: "rgba(29, 78, 216, 0.35)",
            paths: bars,
            points: { show: !bars },
            value: (_u, v) => (v == null ? "" : v.toFixed(2)),
          },
        ],
        axes: [x, {
          label: "cost",
          values: (_u, t) => t.map((v) => v.toFixed(2)),
        }],
        data: [xs, days.map((d) => d.cost)],
      }
      : {
        series: [
          {},
          { label: "CPU (core-h)", stroke: "#2563eb", width: 2, scale: "h" },
          { label: "Memory (GiB-h)", stroke: "#db2777", width: 2, scale: "h" },
        ],
        axes: [x, { scale: "h", label: "hours" }],
        data: [
          xs,
          days.map((d) => d.coreHours),
          days.map((d) => d.memGiBHours),
        ],
      };
    const chart = new uPlot(
      {
        width: width(holder),
        height: 220,
        series: opts.series,
        axes: opts.axes,
        scales: {
          x: { time: false, range: () => [-0.5, xs.length - 0.5] },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
          h: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
        },
      },
      opts.data,
      holder,
    );
    holder.dataset.points = String(xs.length);
    holder.dataset.nonzero = String(
      opts.data.slice(1).some((s) => s.some((v) => v > 0)),
    );
    charts.push([chart, holder]);
  }

  globalThis.addEventListener("resize", () => {
    for (const [chart, holder] of charts) {
      chart.setSize({ width: width(holder), height: 220 });
    }
  });
})();
