"""A local stand-in for GitHub: its OAuth endpoints and the slice of the REST API the chapter uses.

Not a step of the chapter, but the place to try every step without an account or a network; the
tests and `python dev_github_tool.py demo` use it too. It copies github.com's real behaviour
(see ../shared/github-oauth-facts.md), quirks included, rather than a textbook OAuth server;
`--strict` turns it into one that holds clients to RFC 6749 and 7636 as Gitea and Forgejo do.

Run:  python local_github.py [--port 8765] [--auto-approve] [--expiring] [--strict]
      then, in another terminal, set the variables it prints and run the steps.
Watch for the quirks a client must survive: token errors come back with HTTP 200; the token
answer is form-encoded unless you ask for JSON; scopes come back comma-separated; a loopback
redirect may use any port; a refresh token works once; a wrong redirect_uri shows a page instead
of redirecting; every callback names its issuer (`iss`, RFC 9207). Every secret it issues
contains SECRET_MARKER, so tests can prove none leaks.

This file holds the stand-in's state, its HTTP plumbing and its command line. The pages live
beside it, one file a concern: stand_in/oauth.py (authorize and token endpoints, the strict
dialect), stand_in/device.py (the device flow) and stand_in/rest_api.py (/user, /user/repos,
token revocation).
"""

from __future__ import annotations

import argparse
import html
import http.server
import json
import re
import socketserver
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from stand_in.oauth import (
    ACCESS_TOKEN_LIFETIME_SECONDS,
    AUTHORIZE_PATH,
    ISSUER_PATH,
    SECRET_MARKER,
    TOKEN_PATH,
    Grant,
    OAuthEndpoints,
    PendingCode,
    TokenAuthority,
    repeated_names,
)
from stand_in.device import DEVICE_CODE_PATH, DEVICE_PAGE_PATH, DeviceAuthority, DeviceEndpoints, PendingDevice
from stand_in.rest_api import API_PREFIX, RestApiEndpoints

DEMO_CLIENT_ID = "Ov23liLocalStandIn"
DEMO_CLIENT_SECRET = f"local-{SECRET_MARKER}-client-secret"
DEMO_CALLBACK_URL = "http://127.0.0.1/callback"
DEFAULT_PORT = 8765
RATE_LIMIT_PER_HOUR = 5000
SHUTDOWN_POLL_SECONDS = 0.01  # stop promptly: the tests start and stop it some 150 times
OWN_ISSUER = "own"  # Settings.issuer: name this server, as github.com names itself
APPLICATIONS_PAGE = "/settings/applications"


@dataclass
class Settings:
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    callback_url: str = DEMO_CALLBACK_URL
    approval: str = "ask"  # "ask" shows a consent page; "auto" approves; "deny" cancels
    expiring: bool = False  # GitHub App style: expires_in and a rotating refresh token
    expires_in: int = ACCESS_TOKEN_LIFETIME_SECONDS
    lifetimes_as_strings: bool = False  # as GitHub's 2020 announcement showed them
    strict: bool = False  # refuse what RFC 6749/7636 require and GitHub forgives (stand_in/oauth.py)
    offline_access: bool = True  # False: ignore that scope, as GitHub Enterprise Server before 3.23 does
    device_flow: bool = True  # the app's "Enable Device Flow" box (stand_in/device.py)
    device_interval: int = 5  # seconds between polls; tests set 0 so that nobody waits
    device_expires_in: int = 900
    # The callback's `iss`: OWN_ISSUER as github.com does; None for none, as older GitHub Enterprise
    # Server and Gitea; any other text to impersonate another server (a mix-up, for tests).
    issuer: str | None = OWN_ISSUER
    login: str = "octocat"
    repo_count: int = 7
    rate_limit: int = RATE_LIMIT_PER_HOUR


@dataclass
class Counters:
    """What the stand-in saw, for tests to assert on."""

    token_requests: int = 0
    refreshes: int = 0
    api_requests: int = 0
    connections: int = 0
    revocations: int = 0
    not_modified: int = 0  # API answers 304: they cost no rate limit
    authorization_headers: list[str] = field(default_factory=list)
    secrets_seen: set[str] = field(default_factory=set)  # issued or received: codes, tokens, verifiers


class LocalGitHub(TokenAuthority, DeviceAuthority):
    """The stand-in's state plus its HTTP server. Use as a context manager, or start()/stop()."""

    def __init__(self, settings: Settings | None = None, port: int = 0) -> None:
        self.settings = settings or Settings()
        self.counters = Counters()
        self.lock = threading.Lock()
        self.codes: dict[str, PendingCode] = {}
        self.tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, tuple[tuple[str, ...], float, bool]] = {}
        self.devices: dict[str, PendingDevice] = {}
        self.pending_consents: dict[str, dict] = {}
        self.rate_remaining = self.settings.rate_limit
        self.queued_failures: list[tuple[str, int, str, str]] = []
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.github = self
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = self.url + API_PREFIX
        self._thread: threading.Thread | None = None
        self.counters.secrets_seen.add(self.settings.client_secret)

    @property
    def issuer(self) -> str | None:
        """What callbacks carry as `iss`: `<server>/login/oauth`, as https://github.com/login/oauth."""
        if self.settings.issuer == OWN_ISSUER:
            return self.url + ISSUER_PATH
        return self.settings.issuer

    def start(self) -> LocalGitHub:
        self._thread = threading.Thread(target=self.server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,),
                                        name="local-github", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
        self.server.server_close()

    def __enter__(self) -> LocalGitHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """The variables that point the chapter's scripts at this stand-in."""
        return {
            "GITHUB_CLIENT_ID": self.settings.client_id,
            "GITHUB_CLIENT_SECRET": self.settings.client_secret,
            "GITHUB_SERVER_URL": self.url,
        }

    def applications_summary(self) -> str:
        with self.lock:
            count = len(self.tokens)
        return (f"{self.settings.client_id} holds {count} valid token{'' if count == 1 else 's'} here. On github.com "
                "this page has a Revoke button; this stand-in forgets every token when it stops.")

    def fail_next(self, path_prefix: str, status: int, body: str, content_type: str = "text/html") -> None:
        """Answer the next request under `path_prefix` with this response (a proxy error, say)."""
        with self.lock:
            self.queued_failures.append((path_prefix, status, body, content_type))


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # parallel test processes connect in bursts
    github: LocalGitHub

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skip the reverse DNS lookup of http.server
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up (as fault tests do on purpose) is not news


class _Handler(OAuthEndpoints, DeviceEndpoints, RestApiEndpoints, http.server.BaseHTTPRequestHandler):
    """HTTP plumbing and routing; the pages themselves live in stand_in/oauth.py, stand_in/device.py
    and stand_in/rest_api.py."""

    protocol_version = "HTTP/1.1"  # keep-alive, so a client can page through one connection
    server_version = "GitHub.com"
    sys_version = ""
    timeout = 30
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.github.lock:
            self.server.github.counters.connections += 1

    def log_message(self, format: str, *args: object) -> None:
        pass  # request lines hold codes and tokens; a stand-in must not leak them either

    @property
    def github(self) -> LocalGitHub:
        return self.server.github

    # -- plumbing -----------------------------------------------------------------------------

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status: int, body: bytes | str, content_type: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(data)

    def send_json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        self.send(status, json.dumps(payload), "application/json; charset=utf-8", headers)

    def send_page(self, status: int, title: str, message: str) -> None:
        title, message = html.escape(title), html.escape(message)
        page = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>"
        self.send(status, page, "text/html; charset=utf-8")

    def redirect(self, location: str) -> None:
        self.send(302, "", "text/html; charset=utf-8", {"Location": location})

    def queued_failure(self) -> bool:
        with self.github.lock:
            queued = next((f for f in self.github.queued_failures if self.path.startswith(f[0])), None)
            if queued is None:
                return False
            self.github.queued_failures.remove(queued)
        _, status, body, content_type = queued
        self.read_body()
        self.send(status, body, content_type)
        return True

    # -- routing ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def do_DELETE(self) -> None:
        self.route("DELETE")

    def route(self, method: str) -> None:
        if self.queued_failure():
            return
        parts = urlsplit(self.path)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = dict(pairs)
        if parts.path == AUTHORIZE_PATH and method == "GET":
            self.authorize(query, repeated_names(pairs))
        elif parts.path == AUTHORIZE_PATH and method == "POST":
            self.decide(dict(parse_qsl(self.read_body().decode("utf-8", "replace"))))
        elif parts.path == TOKEN_PATH and method == "POST":
            self.access_token(pairs)
        elif parts.path == DEVICE_CODE_PATH and method == "POST":
            self.device_code(pairs)
        elif parts.path == DEVICE_PAGE_PATH and method == "GET":
            self.device_page()
        elif parts.path == DEVICE_PAGE_PATH and method == "POST":
            self.device_decision()
        elif parts.path == APPLICATIONS_PAGE and method == "GET":
            # Where the tool sends you to revoke a token by hand; GitHub lists authorized apps there.
            self.send_page(200, "Authorized OAuth Apps", self.github.applications_summary())
        elif parts.path.startswith(API_PREFIX + "/"):
            self.api(method, parts.path[len(API_PREFIX):], query)
        else:
            self.read_body()
            self.send_page(404, "Not Found", "There is nothing at this address.")


def play_browser(url: str, decision: str = "authorize") -> tuple[int, str]:
    """Do what a browser does with the authorization URL: follow redirects, click the consent button.

    Returns the status and body of the last page (the callback server's answer). Proxies are
    ignored: everything here lives on 127.0.0.1.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=60) as response:
            status, body = response.status, response.read().decode("utf-8", "replace")
            final_url = response.url
        consent = re.search(r'name="request_id" value="([^"]+)"', body)
        if consent:
            form = urlencode({"request_id": html.unescape(consent.group(1)), "decision": decision}).encode()
            with opener.open(urljoin(final_url, AUTHORIZE_PATH), data=form, timeout=60) as response:
                status, body = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode("utf-8", "replace")
    return status, body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a local stand-in of GitHub's OAuth and REST API.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--auto-approve", action="store_true", help="approve without showing the consent page")
    parser.add_argument("--expiring", action="store_true", help="issue 8-hour tokens with refresh tokens")
    parser.add_argument("--repos", type=int, default=Settings.repo_count, metavar="N",
                        help=f"how many repositories octocat has (default {Settings.repo_count}; 250 shows paging)")
    parser.add_argument("--strict", action="store_true",
                        help="hold clients to RFC 6749/7636 (grant_type, exact redirect_uri, no repeated "
                             "parameters) and answer errors with HTTP 400, as Gitea does")
    args = parser.parse_args(argv)
    settings = Settings(approval="auto" if args.auto_approve else "ask", expiring=args.expiring,
                        strict=args.strict, repo_count=max(args.repos, 0))
    try:
        github = LocalGitHub(settings, port=args.port)
    except OSError as error:
        print(f"local_github: cannot listen on 127.0.0.1:{args.port} ({error.strerror}) — try --port 0",
              file=sys.stderr)
        return 1
    print(f"Local GitHub stand-in on {github.url} (Ctrl-C to stop).")
    print("In another terminal, point the chapter's scripts at it (these values are fake):\n")
    for name, value in github.environment().items():
        print(f"  export {name}={value}")
    print("\nthen run: python 1_authorization_url.py, python 2_callback_exchange.py, python 3_github_request.py",
          flush=True)  # show it now even when the output goes to a pipe
    try:
        github.server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        github.server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
