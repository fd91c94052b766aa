// Folder uploads with tus-js-client (npm, served as /ui/assets/vendor/tus.js):
// the page asks the manager for an upload ticket (the cookie's keypair,
// CSRF header), then the browser speaks tus straight to the storage node
// the ticket names, in chunks, retrying and resuming from the server's
// offset; Pause aborts, Resume starts again from where the node is.
// Nothing here builds markup: the listing is a server-rendered fragment
// swapped in after the upload, and status lines are text.

(function () {
  const form = document.getElementById("upload-form");
  if (!form || typeof tus === "undefined") return;
  const input = document.getElementById("upload-file");
  const row = document.getElementById("upload-progress-row");
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const start = document.getElementById("upload-start");
  const pause = document.getElementById("upload-pause");
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content;
  let upload = null;
  let paused = false;

  function say(text) {
    status.textContent = text;
  }

  function percent(sent, total) {
    return total > 0 ? Math.floor((sent / total) * 100) : 100;
  }

  async function refreshListing() {
    const res = await fetch(form.dataset.list, {
      headers: { accept: "text/html" },
      credentials: "same-origin",
    });
    if (!res.ok) return;
    const t = document.createElement("template");
    t.innerHTML = await res.text();
    const fresh = t.content.getElementById("folder-files");
    const old = document.getElementById("folder-files");
    if (fresh && old) old.replaceWith(fresh);
  }

  /** The name a file gets in the folder: one path segment. */
  function baseName(file) {
    return file.name.replace(/[\/\\]/g, "_") || "upload";
  }

  async function ticket(file) {
    const dir = form.dataset.dir;
    const name = baseName(file);
    const res = await fetch(form.dataset.ticket, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        "x-csrf-token": csrf,
      },
      body: JSON.stringify({
        path: dir ? `${dir}/${name}` : name,
        size: file.size,
      }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.detail || `refused (${res.status})`);
    return body.url;
  }

  function finish() {
    upload = null;
    pause.hidden = true;
    start.disabled = false;
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = input.files && input.files[0];
    if (!file || upload) return;
    start.disabled = true;
    row.hidden = false;
    bar.value = 0;
    form.dataset.state = "uploading";
    say(`Uploading ${file.name}: 0 %`);
    let url;
    try {
      url = await ticket(file);
    } catch (err) {
      form.dataset.state = "failed";
      say(`Upload refused: ${err.message}`);
      finish();
      return;
    }
    upload = new tus.Upload(file, {
      // The ticket's URL is the upload itself: tus HEADs it, then PATCHes from the offset.
      endpoint: url,
      uploadUrl: url,
      chunkSize: 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000],
      // The URL carries a token: keep it out of localStorage.
      storeFingerprintForResuming: false,
      onProgress(sent, total) {
        const p = percent(sent, total);
        bar.value = p;
        say(`Uploading ${file.name}: ${p} %`);
      },
      onError(err) {
        form.dataset.state = "failed";
        say(`Upload failed: ${err.message || err}`);
        finish();
      },
      async onSuccess() {
        bar.value = 100;
        form.dataset.state = "done";
        say(`Upload finished: ${file.name}`);
        finish();
        form.reset();
        await refreshListing();
      },
    });
    paused = false;
    pause.textContent = "Pause";
    pause.hidden = false;
    upload.start();
  });

  pause.addEventListener("click", async () => {
    if (!upload) return;
    if (!paused) {
      paused = true;
      await upload.abort();
      pause.textContent = "Resume";
      form.dataset.state = "paused";
      say(`Paused at ${bar.value} %`);
    } else {
      paused = false;
      pause.textContent = "Pause";
      form.dataset.state = "uploading";
      upload.start(); // resumes from the offset the storage node has
    }
  });
})();
