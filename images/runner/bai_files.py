"""put/get/list confined to the work directory (no `..`, no symlink escape)."""

import os

MAX_GET = 12 * 1024 * 1024  # base64 of this fits a 16 MiB frame


def confine(home, path):
    home = os.path.realpath(home)
    full = os.path.realpath(os.path.join(home, path.lstrip("/") if not path.startswith(home) else os.path.relpath(path, home)))
    if full != home and not full.startswith(home + os.sep):
        raise ValueError("path escapes the work directory: %s" % path)
    return full


def put(home, path, data, mode=None):
    full = confine(home, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(full, int(mode, 8) if isinstance(mode, str) else int(mode))


def get(home, path):
    full = confine(home, path)
    if os.path.getsize(full) > MAX_GET:
        raise ValueError("file larger than %d bytes: %s" % (MAX_GET, path))
    with open(full, "rb") as f:
        return f.read()


def listdir(home, path):
    full = confine(home, path)
    items = []
    for entry in sorted(os.scandir(full), key=lambda e: e.name):
        st = entry.stat(follow_symlinks=False)
        kind = "dir" if entry.is_dir(follow_symlinks=False) else "link" if entry.is_symlink() else "file"
        items.append({"name": entry.name, "type": kind, "size": st.st_size, "mtime": st.st_mtime})
    return items
