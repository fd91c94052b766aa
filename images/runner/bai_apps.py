"""Service ports ("apps"): what the image declares and starting them on first use.

The image's `ai.backend.service-ports` label (Backend.AI's format,
``name:protocol:port`` items joined by commas, e.g.
``jupyter:http:8080,ipython:pty:3000``) is copied with the recipe's app
commands into /opt/kernel/apps.json at build time. A channel of kind `app`
names one: a `pty` app opens a terminal running its command; an `http` or
`tcp` app is started (its command, once, in its own session, as the
kernel's user, in the work dir) unless it already runs, and the channel
connects once its port accepts. `preopen` ports are the user's own: they
are connected to, never started.

Placeholders in an app's command and env: ``{port}``, ``{home}``,
``{base_url}`` and ``{token}`` (from the `chan.open` frame's `baseUrl` and
`token`, default ``/`` and empty); the app also gets them as
``BAI_APP_PORT``, ``BAI_APP_BASE_URL`` and ``BAI_APP_TOKEN``.
"""

import collections
import json
import os
import re
import socket
import subprocess
import threading
import time

import bai_chan

HOME = os.environ.get("HOME", "/home/work")
APPS_CONF = os.environ.get("BAI_APPS_CONF", "/opt/kernel/apps.json")
DEFAULT_START_S = 60.0
LOG_TAIL = 4096
_ITEM = re.compile(r"^(?P<name>[\w-]+):(?P<proto>\w+):(?P<ports>\[\d+(?:,\d+)*\]|\d+)$")
_BASE_URL = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
_TOKEN = re.compile(r"^[A-Za-z0-9._~-]{0,256}$")
PROTOCOLS = ("http", "tcp", "pty", "preopen")


def parse_service_ports(label):
    """[{name, protocol, ports}] from a service-ports label; ValueError if malformed."""
    items, seen = [], set()
    for part in _split(label or ""):
        m = _ITEM.match(part)
        if not m or m.group("proto") not in PROTOCOLS:
            raise ValueError("bad service port: %r" % part)
        ports = [int(p) for p in m.group("ports").strip("[]").split(",")]
        for p in ports:
            if not 0 < p < 65536 or p in seen:
                raise ValueError("bad or repeated port %d in %r" % (p, part))
            seen.add(p)
        items.append({"name": m.group("name"), "protocol": m.group("proto"), "ports": ports})
    return items


def _split(label):
    """Splits on commas outside [...] (a port list has commas of its own)."""
    out, depth, cur = [], 0, ""
    for c in label:
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        if c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur.strip())
    return out


def load(path=APPS_CONF):
    """The image's Apps, or None when it declares no service ports."""
    try:
        with open(path) as f:
            conf = json.load(f)
    except (OSError, ValueError):
        return None
    ports = parse_service_ports(conf.get("servicePorts", ""))
    return Apps(ports, conf.get("apps") or {}) if ports else None


class _App:
    def __init__(self, port, spec):
        self.port = port
        self.spec = spec
        self.proc = None
        self.lock = threading.Lock()
        self.log = collections.deque(maxlen=LOG_TAIL)
        self.base_url = "/"

    def running(self):
        return self.proc is not None and self.proc.poll() is None


class Apps:
    def __init__(self, ports, specs):
        self._apps = {p["name"]: _App(p, specs.get(p["name"]) or {}) for p in ports}

    def list(self):
        return [dict(a.port, running=a.running(), baseUrl=a.base_url if a.running() else None)
                for a in self._apps.values()]

    def open(self, registry, cid, window, msg):
        """The channel to app `msg["app"]`, starting it first if it is not running."""
        name = msg.get("app")
        app = self._apps.get(name)
        if app is None:
            raise bai_chan.ChannelError("no such app: %r (the image has %s)" % (name, ", ".join(self._apps) or "none"))
        proto = app.port["protocol"]
        if proto == "pty":
            import bai_pty
            argv = [_fill(a, app, msg) for a in app.spec.get("command") or []] or None
            return bai_pty.PtyChan(registry, cid, window, msg, argv=argv), {"app": name}
        port = app.port["ports"][0]
        started = False
        if proto != "preopen":
            started = self._ensure(app, msg)
        return bai_chan.TcpChan(registry, cid, window, port), {
            "app": name, "port": port, "started": started, "baseUrl": app.base_url}

    def _ensure(self, app, msg):
        with app.lock:
            if app.running():
                return False
            if _accepts(app.port["ports"][0]):
                return False  # the user started it by hand
            self._start(app, msg)
            return True

    def _start(self, app, msg):
        cmd = app.spec.get("command")
        if not cmd:
            raise bai_chan.ChannelError("app %s has no start command in this image" % app.port["name"])
        base_url = msg.get("baseUrl") or "/"
        token = msg.get("token") or ""
        if not _BASE_URL.match(base_url) or not _TOKEN.match(token):
            raise bai_chan.ChannelError("bad baseUrl or token for app %s" % app.port["name"])
        app.base_url = base_url if base_url.endswith("/") else base_url + "/"
        import bai_pty
        env = bai_pty.child_env({k: _fill(v, app, msg) for k, v in (app.spec.get("env") or {}).items()})
        env.update(BAI_APP_PORT=str(app.port["ports"][0]), BAI_APP_BASE_URL=app.base_url, BAI_APP_TOKEN=token)
        app.log.clear()
        app.proc = subprocess.Popen(
            [_fill(a, app, msg) for a in cmd], cwd=HOME, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, close_fds=True, start_new_session=True,
        )
        threading.Thread(target=_keep_log, args=(app.proc.stdout, app.log), daemon=True).start()
        deadline = time.monotonic() + float(app.spec.get("startTimeoutS") or DEFAULT_START_S)
        port = app.port["ports"][0]
        while time.monotonic() < deadline:
            if _accepts(port):
                return
            if app.proc.poll() is not None:
                raise bai_chan.ChannelError("app %s exited with %s before opening port %d: %s" % (
                    app.port["name"], app.proc.returncode, port, _tail(app.log)))
            time.sleep(0.1)
        _stop(app.proc)
        raise bai_chan.ChannelError("app %s did not open port %d in time: %s" % (app.port["name"], port, _tail(app.log)))

    def stop_all(self):
        for app in self._apps.values():
            if app.running():
                _stop(app.proc)


def _fill(text, app, msg):
    base_url = msg.get("baseUrl") or app.base_url or "/"
    if not base_url.endswith("/"):
        base_url += "/"
    return (str(text).replace("{port}", str(app.port["ports"][0])).replace("{home}", HOME)
            .replace("{base_url}", base_url).replace("{token}", msg.get("token") or ""))


def _accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _keep_log(pipe, log):
    while True:
        chunk = os.read(pipe.fileno(), 4096)
        if not chunk:
            return
        log.extend(chunk)


def _tail(log):
    return bytes(log).decode("utf-8", "replace").strip()[-1000:] or "(no output)"


def _stop(proc):
    import signal
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=3)
    except (ProcessLookupError, PermissionError):
        pass
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
