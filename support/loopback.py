"""The loopback callback server's HTTP plumbing, and the browser that is sent to it.

Step 2's CallbackServer is a LoopbackServer: it decides what a callback means (`state`, `iss`,
the code); this module handles how HTTP is spoken on 127.0.0.1. Watch for: the server binds the
loopback address itself, never 0.0.0.0; only GET on the callback path is answered (other paths
404, other methods 405, as the client's mistake, never a 5xx); every page forbids framing,
caching and the Referer header; an idle connection is dropped; a request line is never logged,
because it holds the code; waits wake often, so that Ctrl-C works whatever thread receives it.
"""

from __future__ import annotations

import html
import http.server
import logging
import os
import socket
import socketserver
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from support.errors import STEP_CALLBACK, AuthError
from support.settings import LoopbackRedirect

log = logging.getLogger("dev_github_tool")

# A client that connects and then sends nothing is dropped, so it cannot hold up the real callback.
CONNECTION_IDLE_SECONDS = 10
# How often the server loop checks whether it should stop; the default 0.5 s is felt at every login.
SHUTDOWN_POLL_SECONDS = 0.05
# How often a waiting main thread wakes: Linux may hand a Ctrl-C to another thread (the server's,
# the browser's), and Python acts on it only when the main thread next runs Python code.
SIGNAL_CHECK_SECONDS = 0.1

# The callback page must not be framed (clickjacking), cached, or leak its URL (which holds the
# code) to another site through the Referer header.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
PAGE_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:16px system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em}}</style>
</head><body><h1>{title}</h1><p>{message}</p></body></html>
"""


class Page(NamedTuple):
    """What the browser is shown: a status, a title and one sentence (escaped before it is sent)."""

    status: int
    title: str
    message: str


Respond = Callable[[Page], None]

# The pages step 2 answers a callback with, when it is not the one it waits for.
NOT_OURS = Page(400, "Sign-in link not valid", "This request does not carry the state of the sign-in that is "
                "waiting, so it was not started by this tool. Nothing was done. Start the sign-in from the tool.")
REPEATED = Page(400, "Sign-in link not valid", "A parameter appears twice, which a genuine callback never does.")
ALREADY_USED = Page(400, "Already used", "This sign-in has already been completed. You can close this tab.")


def no_callback_within(timeout: float) -> AuthError:
    return AuthError(STEP_CALLBACK, f"no callback arrived within {timeout:g} s — the tab may have been closed, or "
                     "the server showed an error page instead (GitHub's \"redirect_uri is not associated with this "
                     "application\": check the app's callback URL); run login again")


def signed_in_page(account: str | None) -> Page:
    who = f" as {account}" if account else ""
    return Page(200, "Signed in", f"You are signed in to the tool{who}. You can close this tab.")


class CallbackHandler(http.server.BaseHTTPRequestHandler):
    """Speaks HTTP for a LoopbackServer: GET on the callback path reaches its `handle_callback`."""

    server: LoopbackServer
    timeout = CONNECTION_IDLE_SECONDS
    server_version = "dev-github-tool"
    sys_version = ""
    # A request line without a version (HTTP/0.9) still gets a status line and headers in reply.
    default_request_version = "HTTP/1.0"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != self.server.callback_path:
            self.send_page(Page(404, "Not found", "This address only answers the sign-in callback."))
            return
        self.server.handle_callback(parts.query, self.send_page)

    def reject_method(self) -> None:
        self.send_page(Page(405, "Method not allowed", "The sign-in callback is a GET request."),
                       extra_headers={"Allow": "GET"})

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = reject_method

    def send_page(self, page: Page, extra_headers: dict[str, str] | None = None) -> None:
        body = PAGE_TEMPLATE.format(title=html.escape(page.title), message=html.escape(page.message))
        data = body.encode("utf-8")
        self.send_response(page.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in {**PAGE_HEADERS, **(extra_headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server blames itself (501, 505) for an unknown method or protocol version; both
        # are the client's mistake, so they get a 4xx like every other bad request.
        if code == 501:
            code = 405
        elif code >= 500:
            code = 400
        super().send_error(code, message, explain)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Path and status only: the query string holds the authorization code.
        log.debug("callback server: %s %s -> %s", self.command, urlsplit(getattr(self, "path", "")).path, code)

    def log_message(self, format: str, *args: object) -> None:
        # Error lines quote the whole request line, code included: they must not reach a log.
        pass


class LoopbackServer(http.server.ThreadingHTTPServer):
    """A one-shot HTTP server on a loopback address. Subclasses decide in `handle_callback`.

    The main thread starts it, then `wait_for_outcome`; the callback's own thread `claim`s the
    sign-in and runs the work through `finish_while_the_browser_waits`, which sets the outcome.
    """

    daemon_threads = True
    # A burst of connections (a browser's pre-connects, or a hostile local process) queues in the
    # kernel instead of overflowing the default backlog of 5, which stalls new ones for a second.
    request_queue_size = 128

    def __init__(self, redirect: LoopbackRedirect) -> None:
        self.address_family = socket.AF_INET6 if ":" in redirect.host else socket.AF_INET
        try:
            # Bind the loopback address itself, never 0.0.0.0: no other machine can reach it.
            super().__init__((redirect.host, redirect.port or 0), CallbackHandler)
        except OSError as error:
            raise AuthError(STEP_CALLBACK, f"cannot listen on {redirect} ({error.strerror}) — another program "
                            "uses that port; stop it, or leave the port out of GITHUB_REDIRECT_URI "
                            "so that a free one is chosen") from error
        self.callback_path = redirect.path
        self.redirect_uri = redirect.with_port(self.server_address[1])
        self._serving: threading.Thread | None = None
        self._claim = threading.Lock()
        self._claimed = False
        self.done = threading.Event()
        self.outcome: object = None
        self.failure: Exception | None = None

    def handle_callback(self, query: str, respond: Respond) -> None:
        raise NotImplementedError

    def claim(self) -> bool:
        """True for the first caller only, even when two callbacks arrive at the same moment."""
        with self._claim:
            first = not self._claimed
            self._claimed = True
        return first

    def finish_while_the_browser_waits(self, respond: Respond, work: Callable[[], object],
                                       success_page: Callable[[object], Page]) -> None:
        """Run `work` and show the browser how it went; the outcome or failure goes to the main thread."""
        try:
            self.outcome = work()
            respond(success_page(self.outcome))
        except Exception as error:  # the main thread re-raises it; the browser learns what failed
            self.failure = error
            message = str(error) if isinstance(error, AuthError) else "An unexpected error; see the terminal."
            respond(Page(400 if isinstance(error, AuthError) else 500, "Sign-in failed", message))
        finally:
            self.done.set()  # only after the page is sent, so the browser never sees a dropped connection

    def wait_for_outcome(self, timeout: float) -> bool:
        """False if nothing was finished within `timeout`; the work's failure is raised here."""
        if not wait_for(self.done, timeout):
            return False
        if self.failure is not None:
            raise self.failure
        return True

    def server_bind(self) -> None:
        # http.server looks up our own host name here, which can stall on a misconfigured
        # resolver; a loopback callback has no use for it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        # A browser that hangs up early is no reason to print a traceback in the middle of a login.
        log.debug("callback server: a connection failed", exc_info=True)

    def start(self) -> None:
        self._serving = threading.Thread(target=self.serve_forever, args=(SHUTDOWN_POLL_SECONDS,),
                                         name="callback-server", daemon=True)
        self._serving.start()

    def close(self) -> None:
        if self._serving is not None:
            self.shutdown()
            self._serving.join()
        self.server_close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def wait_for(event: threading.Event, timeout: float) -> bool:
    """Wait until `event` is set or `timeout` runs out, waking often enough to act on Ctrl-C."""
    deadline = time.monotonic() + timeout
    while not event.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        event.wait(min(remaining, SIGNAL_CHECK_SECONDS))
    return event.is_set()


def sleep_in_slices(seconds: float) -> None:
    """time.sleep, waking often enough to act on a Ctrl-C handed to another thread."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, SIGNAL_CHECK_SECONDS))


def print_now(text: str) -> None:
    # Flush at once: the URL must be on screen while we wait, even when the output goes to a pipe.
    print(text, flush=True)


def open_in_browser(url: str) -> bool:
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def looks_like_a_remote_shell(environ: Mapping[str, str] = os.environ) -> bool:
    """An SSH session with no display to show a browser on (the device flow's case)."""
    remote = bool(environ.get("SSH_CONNECTION") or environ.get("SSH_TTY"))
    return remote and not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def open_browser_in_background(open_browser: Callable[[str], bool], url: str, say: Callable[[str], None]) -> None:
    """Start the browser in a thread of its own, so that nothing it does can hold up the login.

    Python's webbrowser waits for a browser command it does not know (w3m, lynx, a script in
    BROWSER) until that command exits. The wait for the callback, and its timeout, must not wait
    for that: the sign-in finishes as soon as the callback arrives, whatever the browser does.
    """

    def launch() -> None:
        try:
            opened = open_browser(url)
        except Exception:  # a broken browser command must not end the login: the URL is on screen
            log.debug("opening the browser failed", exc_info=True)
            opened = False
        if not opened:
            say("Could not open a browser. Open the URL above yourself; still waiting.")
            if looks_like_a_remote_shell():
                say("This looks like an SSH session without a display: use login --device instead, or forward "
                    "the port (ssh -L PORT:127.0.0.1:PORT) and open the URL on your own machine.")

    threading.Thread(target=launch, name="browser", daemon=True).start()
