"""Small helpers shared by the tests: plain HTTP to loopback servers, without proxies or retries."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from urllib.parse import urlencode, urlsplit

TOOL = "dev_github_tool.py"
# The same tool, with the demo's stand-in carrying the test marker (for a process of its own).
MARKED_TOOL = "tests/helpers/marked_tool.py"
# The state a `waiting_server` (tests/conftest.py) waits for.
STATE = "S" * 20 + "genuine-state-for-the-fuzz-test"
# An OAuth app's settings for tests that never reach a server: obviously fake values.
APP_SETTINGS = {"GITHUB_CLIENT_ID": "Ov23liExample", "GITHUB_CLIENT_SECRET": "not-a-real-secret"}


def host(server) -> str:
    """A loopback server's host and port, as --hostname takes it and messages name it."""
    return f"127.0.0.1:{server.port}"


def one_clean_line(result) -> bool:
    """A failed run: exit 1, one line on stderr, no traceback."""
    return result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def fetch(url: str, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    """One request with http.client: the status, the body as text, and the headers."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target or "/", body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace"), dict(response.getheaders())
    finally:
        connection.close()


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens there and a new server could (as http.server does, with SO_REUSEADDR,
    so a closed connection's TIME_WAIT does not count as in use)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            probe.listen()
        except OSError:
            return False
    return True


def callback_port(authorization_url: str) -> int:
    from urllib.parse import parse_qs

    redirect = parse_qs(urlsplit(authorization_url).query)["redirect_uri"][0]
    return urlsplit(redirect).port


def read_until(stream, needle: str, timeout: float = 30) -> str:
    """Read a subprocess's output until a line contains `needle`; return all of it. Fails, never hangs."""
    import queue
    import threading

    lines: list[str] = []
    outcome: queue.Queue = queue.Queue()

    def reader() -> None:
        for line in stream:
            lines.append(line)
            if needle in line:
                outcome.put(True)
                return
        outcome.put(False)

    threading.Thread(target=reader, daemon=True).start()
    try:
        found = outcome.get(timeout=timeout)
    except queue.Empty:
        found = False
    assert found, f"{needle!r} never appeared in: {''.join(lines)!r}"
    return "".join(lines)


def sign_in(step2, config, browse, timeout: float = 30, **options):
    """Sign in with `browse` as the browser. The tool runs it in a thread of its own and does not
    wait for it; this waits, so that what `browse` saw is complete when the test looks at it."""
    browsed = threading.Event()

    def browse_then_signal(url):
        try:
            return browse(url)
        finally:
            browsed.set()

    try:
        return step2.sign_in_with_browser(config, timeout=timeout, open_browser=browse_then_signal,
                                          say=lambda line: None, **options)
    finally:
        assert browsed.wait(30), "the browser never finished"


def genuine_callback(server, code="the-real-code"):
    return fetch(f"{server.redirect_uri}?{urlencode({'code': code, 'state': STATE})}")


def read_saved(token_path) -> dict:
    """The one login in the token file, as the file holds it (tests may look inside)."""
    tokens = json.loads(token_path.read_text())["tokens"]
    assert len(tokens) == 1, f"{len(tokens)} logins saved"
    return next(iter(tokens.values()))


def write_saved(token_path, entry: dict) -> None:
    """Replace that login's entry, e.g. to make its token expire."""
    data = json.loads(token_path.read_text())
    data["tokens"][entry["issuer"]] = entry
    token_path.write_text(json.dumps(data))


def race_to_refresh(environment: dict[str, str], token_path, processes: int = 8) -> set[str]:
    """Start `processes` workers (refresh_worker.py) that ask for a valid token at the same moment.

    Each must succeed; returns the hashes of the tokens they were handed (never the tokens).
    """
    import subprocess
    import sys
    from pathlib import Path

    worker = Path(__file__).with_name("refresh_worker.py")
    settings = json.dumps(environment)
    started = [subprocess.Popen([sys.executable, str(worker), settings, str(token_path)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(processes)]
    for process in started:
        assert process.stdout.readline().strip() == "ready"
    for process in started:  # all released together: they race for the refresh
        process.stdin.write("go\n")
        process.stdin.flush()
    results = [process.communicate(timeout=60) for process in started]
    assert [process.returncode for process in started] == [0] * processes, results
    return {out.strip() for out, _ in results}


def refuse_writes(monkeypatch, error_number: int, after: int = 0) -> None:
    """Make every private write fail (root may write anywhere, so pretend), after `after` good ones."""
    import errno
    import os
    import tempfile

    real, calls = tempfile.mkstemp, []

    def mkstemp(*args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise OSError(error_number, os.strerror(error_number))
        return real(*args, **kwargs)

    assert error_number in (errno.ENOSPC, errno.EACCES, errno.EROFS)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def make_read_only(monkeypatch, folder) -> None:
    """Make `folder` behave as a read-only folder would (root may write anywhere, so pretend): nothing new
    can be created in it, and nothing in it replaced or removed; files already there open as before."""
    import errno
    import os
    import tempfile
    from pathlib import Path

    def refused():
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    def inside(path) -> bool:
        return Path(path).parent == Path(folder)

    real_open, real_mkstemp, real_replace, real_unlink = os.open, tempfile.mkstemp, os.replace, os.unlink

    def open_(path, flags, *args, **kwargs):
        if inside(path) and flags & os.O_CREAT and not os.path.exists(path):
            raise refused()
        return real_open(path, flags, *args, **kwargs)

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == Path(folder):
            raise refused()
        return real_mkstemp(*args, dir=dir, **kwargs)

    def replace(source, destination, **kwargs):
        if inside(destination):
            raise refused()
        return real_replace(source, destination, **kwargs)

    def unlink(path, **kwargs):
        if inside(path):
            raise refused()
        return real_unlink(path, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "unlink", unlink)


def paused_on_a_fake_clock(monkeypatch, device_flow) -> list:
    """Make the device flow's pauses instant, on a clock only they move; returns the list of pauses."""
    clock, pauses = [1000.0], []

    def pause(seconds):
        pauses.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(device_flow, "pause", pause)
    monkeypatch.setattr(device_flow, "monotonic", lambda: clock[0])
    return pauses
