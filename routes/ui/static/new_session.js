// The New session form's cost estimate: when the image, resources or
// mounts change, ask the server for the estimate fragment (debounced, the
// last answer wins) and swap it in. The server prices and formats; this
// only moves its HTML. No timer runs unless the user changed something.

(function () {
  const form = document.getElementById("new-session");
  if (!form || !form.dataset.estimate) return;
  const DEBOUNCE_MS = 300;
  let timer = null;
  let inflight = null;
  let asked = 0;

  async function refresh() {
    timer = null;
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      if (k === "image" || k === "cpu" || k === "mem" || k === "mounts") {
        q.append(k, String(v));
      }
    }
    inflight?.abort();
    inflight = new AbortController();
    const n = ++asked;
    let res;
    try {
      res = await fetch(`${form.dataset.estimate}?${q}`, {
        headers: { accept: "text/html" },
        credentials: "same-origin",
        signal: inflight.signal,
      });
    } catch {
      return; // superseded, or the network failed: the old estimate stays
    }
    if (!res.ok || n !== asked) return;
    const t = document.createElement("template");
    t.innerHTML = await res.text();
    const fresh = t.content.getElementById("estimate");
    const old = document.getElementById("estimate");
    if (fresh && old && n === asked) {
      fresh.dataset.version = String(n);
      old.replaceWith(fresh);
    }
  }

  function changed(e) {
    if (e.target && e.target.name === "name") return; // the name costs nothing
    if (timer) clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
})();
