"""Step 2 of the chapter: catch GitHub's redirect on a loopback address and trade the code for a token.

Run:  python 2_callback_exchange.py [--timeout SECONDS] [--no-browser]
Needs: GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (see .env.example), or `python local_github.py`.
Watch for: the server listens before the browser opens, and the browser opens in its own thread
(some browser commands return only when closed); only the callback path with the right `state`
ends the wait (checked before the code is even looked at); a callback that names another server
as its issuer (`iss`) is refused; the code is exchanged while the browser waits, so the page it
shows tells the real outcome; the code is never retried. The POST itself lives in
token_endpoint.py, because step 3 refreshes tokens with it too, without this file's server.
"""

from __future__ import annotations

import argparse
import hmac
import html
import http.server
import importlib
import logging
import os
import socket
import socketserver
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from oauth_config import LoopbackRedirect, OAuthConfig
from token_endpoint import post_to_token_endpoint, server_name, token_from_fields
from token_manager import AuthError, Token, as_told_by_a_step_script, safe_text, save_new_login

step1 = importlib.import_module("1_authorization_url")
log = logging.getLogger("dev_github_tool")

STEP_CALLBACK = "step 2 (callback)"
STEP_EXCHANGE = "step 2 (token exchange)"

# Long enough to sign in and approve with two-factor authentication, short enough that a closed
# tab or GitHub's "redirect_uri is not associated" page does not leave the tool waiting forever.
DEFAULT_TIMEOUT_SECONDS = 300
# A client that connects and then sends nothing is dropped, so it cannot hold up the real callback.
CONNECTION_IDLE_SECONDS = 10
# How often the server loop checks whether it should stop; the default 0.5 s is felt at every login.
SHUTDOWN_POLL_SECONDS = 0.05
# How often the waiting main thread wakes, so that Ctrl-C ends the wait at once (see wait()).
SIGNAL_CHECK_SECONDS = 0.1

CALLBACK_ERROR_FIXES = {
    "access_denied": "you declined the request on GitHub — run login again and choose Authorize",
    "redirect_uri_mismatch": "the redirect URI is not one the app allows — set the app's "
                             "Authorization callback URL to http://127.0.0.1/callback",
    "application_suspended": "the OAuth app is suspended — its owner must contact GitHub support",
}

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


@dataclass(frozen=True)
class Page:
    status: int
    title: str
    message: str


@dataclass(frozen=True)
class CallbackResult:
    """What the genuine callback (the one with our `state`) carried."""

    code: str | None = field(repr=False)
    error: str | None = None
    error_description: str | None = None
    issuer: str | None = None  # RFC 9207 `iss`: which authorization server sent the browser back


class CallbackHandler(http.server.BaseHTTPRequestHandler):
    server: CallbackServer
    timeout = CONNECTION_IDLE_SECONDS
    server_version = "dev-github-tool"
    sys_version = ""
    # A request line without a version (HTTP/0.9) still gets a status line and headers in reply.
    default_request_version = "HTTP/1.0"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != self.server.callback_path:
            self.send_page(Page(404, "Not found", "This address only answers GitHub's sign-in callback."))
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


class CallbackServer(http.server.ThreadingHTTPServer):
    """A one-shot HTTP server on a loopback address that waits for the genuine callback."""

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
        self._expected_state = b""
        self._finish: Callable[[CallbackResult], Token] | None = None
        self._claim = threading.Lock()
        self._claimed = False
        self._serving: threading.Thread | None = None
        self.done = threading.Event()
        self.result: CallbackResult | None = None  # what the genuine callback carried
        self.token: Token | None = None
        self.failure: Exception | None = None

    def server_bind(self) -> None:
        # http.server looks up our own host name here, which can stall on a misconfigured
        # resolver; a loopback callback has no use for it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        # A browser that hangs up early is no reason to print a traceback in the middle of a login.
        log.debug("callback server: a connection failed", exc_info=True)

    def expect(self, state: str, finish: Callable[[CallbackResult], Token]) -> None:
        self._expected_state = state.encode("utf-8")
        self._finish = finish

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

    def _state_matches(self, values: list[str]) -> bool:
        if len(values) != 1 or not self._expected_state:
            return False
        # Compare in constant time so the state cannot be guessed byte by byte (RFC 6749 §10.12).
        return hmac.compare_digest(values[0].encode("utf-8", "replace"), self._expected_state)

    def handle_callback(self, query: str, respond: Callable[[Page], None]) -> None:
        params = parse_qs(query, keep_blank_values=True)
        if not self._state_matches(params.get("state", [])):
            # A forged or stale callback: refuse it, and keep waiting for the real one.
            respond(Page(400, "Sign-in link not valid",
                         "This request does not carry the state of the sign-in that is waiting, so it "
                         "was not started by this tool. Nothing was done. Start the sign-in from the tool."))
            return
        if any(len(values) > 1 for values in params.values()):
            respond(Page(400, "Sign-in link not valid", "A parameter appears twice (RFC 6749 §3.1)."))
            return
        with self._claim:
            first = not self._claimed
            self._claimed = True
        if not first:
            respond(Page(400, "Already used", "This sign-in has already been completed. You can close this tab."))
            return
        result = CallbackResult(
            code=params.get("code", [None])[0],
            error=params.get("error", [None])[0],
            error_description=params.get("error_description", [None])[0],
            issuer=params.get("iss", [None])[0],
        )
        self.result = result
        try:
            assert self._finish is not None
            self.token = self._finish(result)
            who = f" as {self.token.account}" if self.token.account else ""
            respond(Page(200, "Signed in", f"You are signed in to the tool{who}. You can close this tab."))
        except Exception as error:  # the main thread re-raises it; the browser learns what failed
            self.failure = error
            message = str(error) if isinstance(error, AuthError) else "An unexpected error; see the terminal."
            respond(Page(400 if isinstance(error, AuthError) else 500, "Sign-in failed", message))
        finally:
            self.done.set()  # only after the page is sent, so the browser never sees a dropped connection

    def wait(self, timeout: float) -> Token:
        deadline = time.monotonic() + timeout
        while not self.done.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # In short slices: Linux may hand a Ctrl-C to another thread (the server's, the
            # browser's), and Python acts on it only when this thread next runs Python code.
            self.done.wait(min(remaining, SIGNAL_CHECK_SECONDS))
        if not self.done.is_set():
            raise AuthError(STEP_CALLBACK, f"no callback arrived within {timeout:g} s — the tab may have been "
                            "closed, or GitHub showed an error page instead (\"redirect_uri is not "
                            "associated with this application\": check the app's callback URL); run login again")
        if self.failure is not None:
            raise self.failure
        assert self.token is not None
        return self.token


def exchange_code_for_token(config: OAuthConfig, code: str, request: step1.AuthorizationRequest) -> Token:
    """Trade the single-use code for a token (RFC 6749 §4.1.3). Never retried: a code works once."""
    fields = post_to_token_endpoint(config, {
        # RFC 6749 §4.1.3 requires it. GitHub does not, but Gitea, Forgejo and every server that
        # follows the RFC refuse an exchange without it (unsupported_grant_type).
        "grant_type": "authorization_code",
        "code": code,
        # RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
        "redirect_uri": request.redirect_uri,
        # The secret half of PKCE: proves we are the program that started this sign-in.
        "code_verifier": request.code_verifier,
    }, STEP_EXCHANGE)
    return token_from_fields(config, fields, STEP_EXCHANGE)


def check_issuer(config: OAuthConfig, result: CallbackResult) -> None:
    """Refuse a callback that names another authorization server as its issuer (RFC 9207 §2.4).

    In a mix-up attack (RFC 9700 §4.4) a server we did not ask answers in the browser, hoping we
    send its code, and with it our verifier and client secret, to the server we meant. github.com
    names itself in every callback; older GitHub Enterprise Server and Gitea send no `iss`, which
    is accepted. Checked before anything else, error responses included.
    """
    if result.issuer is not None and result.issuer != config.issuer:
        raise AuthError(STEP_CALLBACK, f"the callback names {safe_text(result.issuer, 100)!r} as its issuer, not "
                        f"{config.issuer} — another authorization server answered (a mix-up attack, RFC 9700 "
                        "§4.4) or GITHUB_SERVER_URL is wrong; its code was not used. Check the setting and run "
                        "login again")


def finish_sign_in(config: OAuthConfig, request: step1.AuthorizationRequest,
                   result: CallbackResult) -> Token:
    check_issuer(config, result)
    if result.error:
        code = safe_text(result.error, 60)
        fix = CALLBACK_ERROR_FIXES.get(code) or safe_text(result.error_description, 160) or "run login again"
        raise AuthError(STEP_CALLBACK, f"{server_name(config.server_url)} says {code}: {fix}")
    if not result.code:
        raise AuthError(STEP_CALLBACK, "GitHub came back without a code — run login again")
    return exchange_code_for_token(config, result.code, request)


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


def sign_in_with_browser(
    config: OAuthConfig,
    *,
    scopes: tuple[str, ...] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    open_browser: Callable[[str], bool] | None = open_in_browser,
    say: Callable[[str], None] = print_now,
    explain: bool = False,
    confirm: Callable[[Token], Token] | None = None,
) -> Token:
    """Steps 1 and 2 together: listen, open the URL, wait for the callback, exchange the code.

    `confirm(token)`, if given, runs before the browser gets its answer (the complete tool asks
    GitHub who signed in), so the page tells the whole outcome.
    """
    with CallbackServer(config.redirect) as server:
        request = step1.prepare_authorization_request(config, server.redirect_uri, scopes)

        def finish(result: CallbackResult) -> Token:
            token = finish_sign_in(config, request, result)
            return confirm(token) if confirm else token

        server.expect(request.state, finish)
        server.start()
        if explain:
            say(f"Step 1: a fresh state and PKCE pair, and the URL that asks {config.server_url} for access:")
            for line in step1.describe_authorization_request(request, config):
                say(line)
            say(f"Step 2: listening on {server.redirect_uri} (loopback only) before the browser opens.")
        say(f"Open this URL to sign in (it is safe to copy; it holds no secret):\n{request.url}")
        say(f"Waiting up to {timeout:g} s for the browser to come back…")
        if open_browser is not None:
            open_browser_in_background(open_browser, request.url, say)
        token = server.wait(timeout)
    if explain:
        say("Step 2: the callback carried our state (compared in constant time), so it answers our own request.")
        issuer = server.result.issuer if server.result else None
        if issuer is None:
            say("  It named no issuer (older servers do not); had it named one other than")
            say(f"  {config.issuer}, it would have been refused (RFC 9207).")
        else:
            say(f"  It named {issuer} as its issuer, the server we asked; a callback naming")
            say("  any other server is refused, which stops mix-up attacks (RFC 9207).")
        say("  The code was exchanged (grant_type=authorization_code) with client_id, client_secret,")
        say("  redirect_uri and the PKCE code_verifier (never shown) that hashes to the code_challenge above.")
        asked, granted = " ".join(request.scopes) or "(none)", " ".join(token.scopes) or "(none)"
        say(f"  Scopes asked: {asked}; granted: {granted}.")
    return token


def seconds_above_zero(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError("must be more than 0")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Steps 1-2: sign in through the browser and save the token.")
    parser.add_argument("--timeout", type=seconds_above_zero, default=DEFAULT_TIMEOUT_SECONDS,
                        help=f"seconds to wait for the browser (default {DEFAULT_TIMEOUT_SECONDS})")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    args = parser.parse_args(argv)
    try:
        config = step1.load_config()
        token = sign_in_with_browser(config, timeout=args.timeout,
                                     open_browser=None if args.no_browser else open_in_browser)
        saved = save_new_login(token)
    except AuthError as error:
        print(as_told_by_a_step_script(error, "2_callback_exchange.py"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Cancelled.", file=sys.stderr)
        return 130
    print(saved)
    return 0


if __name__ == "__main__":
    sys.exit(main())
