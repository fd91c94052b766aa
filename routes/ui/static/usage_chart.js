// Live usage plot of one session (its page), drawn with uPlot (npm, served
// from the package by the manager as /ui/assets/vendor/uplot.js). Points
// come from the page stream's usage samples (app.js re-dispatches them as
// `bai:usage`): CPU in cores (CPU-time growth over wall time) and memory
// in MB. Nothing is fetched here.

(function () {
  const holder = document.getElementById("usage-chart");
  const job = document.getElementById("job");
  if (!holder || !job || typeof uPlot === "undefined") return;
  const sessionId = job.dataset.sessionId;
  const xs = [];
  const cores = [];
  const mem = [];
  let last = null;
  let chart = null;

  function width() {
    return Math.max(240, holder.clientWidth || 600);
  }

  function draw() {
    if (!chart) {
      chart = new uPlot(
        {
          width: width(),
          height: 220,
          series: [
            {},
            {
              label: "CPU (cores)",
              stroke: "#2563eb",
              width: 2,
              scale: "cores",
            },
            { label: "Memory (MB)", stroke: "#db2777", width: 2, scale: "mb" },
          ],
          axes: [
            {},
            {
              scale: "cores",
              label: "cores",
              values: (_u, ticks) => ticks.map((v) => v.toFixed(2)),
            },
            {
              scale: "mb",
              side: 1,
              label: "MB",
              grid: { show: false },
              values: (_u, ticks) => ticks.map((v) => v.toFixed(0)),
            },
          ],
          scales: {
            x: { time: true },
            cores: { range: (_u, _min, max) => [0, Math.max(1, max)] },
            mb: { range: (_u, _min, max) => [0, Math.max(16, max * 1.2)] },
          },
        },
        [xs, cores, mem],
        holder,
      );
      globalThis.addEventListener(
        "resize",
        () => chart.setSize({ width: width(), height: 220 }),
      );
    } else {
      chart.setData([xs, cores, mem]);
    }
  }

  document.addEventListener("bai:usage", (e) => {
    const s = e.detail.find((x) => x.sessionId === sessionId);
    if (!s || s.cpuMs === undefined) return;
    const t = Date.parse(s.at) / 1000;
    if (last && t > last.t) {
      xs.push(t);
      cores.push((s.cpuMs - last.cpuMs) / 1000 / (t - last.t));
      mem.push(s.memKiB / 1024);
      if (xs.length > 600) {
        xs.shift();
        cores.shift();
        mem.shift();
      }
      // A line needs two points; one alone would stretch the time axis to years.
      if (xs.length >= 2) {
        draw();
        holder.dataset.points = String(xs.length);
      }
    }
    last = { t, cpuMs: s.cpuMs };
  });
})();
