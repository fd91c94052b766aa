// The session page's terminal: xterm.js and its fit addon (npm, served as
// /ui/assets/vendor/xterm.js and vendor/xterm-fit.js) over a WebSocket
// under /ui that the browser opens with the session cookie (same origin;
// the server checks the cookie and the Origin), speaking Backend.AI's
// terminal frames: {"type":"stdin","chars":BASE64} and
// {"type":"resize","rows","cols"} out, {"type":"out","data":BASE64} in.
//
// The page's CSP allows no inline style; xterm.js measures cells with
// <style> elements it creates, so those (and only those made while this
// page runs) carry the response's style nonce, read from this script.

(function () {
  const holder = document.getElementById("terminal");
  const button = document.getElementById("terminal-open");
  const status = document.getElementById("terminal-status");
  if (!holder || !button || typeof Terminal === "undefined") return;
  const nonce = document.currentScript && document.currentScript.nonce;
  if (nonce) {
    const create = document.createElement.bind(document);
    document.createElement = function (tag, options) {
      const el = create(tag, options);
      if (String(tag).toLowerCase() === "style") el.nonce = nonce;
      return el;
    };
  }

  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let term = null;
  let fit = null;
  let socket = null;

  function say(text) {
    status.textContent = text;
  }

  function toBase64(bytes) {
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }

  function fromBase64(text) {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
    }
  }

  function resize() {
    if (!term || !fit) return;
    try {
      fit.fit();
    } catch { /* hidden: keep the last size */ }
    send({ type: "resize", rows: term.rows, cols: term.cols });
  }

  function open() {
    if (socket) return;
    if (!term) {
      term = new Terminal({
        convertEol: false,
        cursorBlink: true,
        fontSize: 14,
        scrollback: 2000,
        screenReaderMode: true,
      });
      if (typeof FitAddon !== "undefined") {
        fit = new FitAddon.FitAddon();
        term.loadAddon(fit);
      }
      term.open(holder);
      term.onData((data) => {
        send({ type: "stdin", chars: toBase64(encoder.encode(data)) });
      });
      globalThis.addEventListener("resize", resize);
    }
    try {
      fit && fit.fit();
    } catch { /* first layout pending */ }
    const url = new URL(holder.dataset.socket, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("rows", String(term.rows));
    url.searchParams.set("cols", String(term.cols));
    say("Connecting…");
    holder.dataset.state = "connecting";
    socket = new WebSocket(url);
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      say("Connected.");
      holder.dataset.state = "open";
      button.textContent = "Reconnect terminal";
      button.hidden = true;
      term.focus();
      resize();
    });
    socket.addEventListener("message", (e) => {
      let f;
      try {
        f = JSON.parse(e.data);
      } catch {
        return;
      }
      if (f.type === "out") {
        term.write(decoder.decode(fromBase64(f.data), { stream: true }));
      } else if (f.type === "error") say(`Terminal: ${f.msg}`);
    });
    socket.addEventListener("close", (e) => {
      socket = null;
      holder.dataset.state = "closed";
      // A refused upgrade shows the page no reason (the browser keeps the
      // answer to itself): the session may be starting, or its node away.
      say(
        e.reason
          ? `Terminal closed: ${e.reason}`
          : opened
          ? "Terminal closed."
          : "The terminal could not be opened; try again in a moment.",
      );
      button.hidden = false;
      button.focus();
    });
  }

  button.addEventListener("click", open);
})();
