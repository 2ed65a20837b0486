"""The stand-in of GitHub itself: its state, its HTTP server on 127.0.0.1, and the routing to its pages.

Use:  with LocalGitHub(Settings(approval="auto")) as github:  # a free port; github.url names it
          ...point a client at github.environment()...
      or start()/stop() it by hand; play_browser(url) does what a browser does with an
      authorization URL. The pages live beside this file, one file a concern: stand_in/oauth.py
      (authorize and token endpoints, the strict dialect), stand_in/device.py (the device flow) and
      stand_in/rest_api.py (/user, /user/repos, token revocation).
Here too: the metadata document (RFC 8414) that names them all, where github.com publishes its own.
Watch for: it listens on 127.0.0.1 only and logs no request line (request lines hold codes and
tokens); it forgets every token when it stops. Its logic (what to issue, what to refuse) comes from
those page modules, mixed in: LocalGitHub provides the state they name, and _Handler the HTTP.
"""

from __future__ import annotations

import html
import http.server
import json
import re
import socketserver
import threading
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from stand_in.device import DEVICE_CODE_PATH, DEVICE_PAGE_PATH, DeviceAuthority, DeviceEndpoints, PendingDevice
from stand_in.oauth import (AUTHORIZE_PATH, DEVICE_GRANT, ISSUER_PATH, TOKEN_PATH, Grant, OAuthEndpoints, PendingCode,
                            repeated_names)
from stand_in.rest_api import API_PREFIX, ApiState, RestApiEndpoints
from stand_in.settings import Counters, Settings

SHUTDOWN_POLL_SECONDS = 0.005  # stop promptly: the tests start and stop it some 400 times
APPLICATIONS_PAGE = "/settings/applications"
# RFC 8414 §3.1: the well-known path inserted before the issuer's path, where github.com publishes it.
METADATA_PATH = "/.well-known/oauth-authorization-server" + ISSUER_PATH
BROWSER_TIMEOUT_SECONDS = 60  # play_browser: the callback server exchanges the code before it answers


class LocalGitHub(DeviceAuthority, ApiState):
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

    def metadata_document(self) -> dict[str, object]:
        """GitHub-shaped metadata (RFC 8414 §2): its issuer and fixed endpoints, and no RFC 7009 revocation
        endpoint (GitHub revokes through its REST API). Only what a client needs: which other fields
        github.com lists has not been checked, so none is claimed here."""
        return {
            "issuer": self.url + ISSUER_PATH,
            "authorization_endpoint": self.url + AUTHORIZE_PATH,
            "token_endpoint": self.url + TOKEN_PATH,
            "device_authorization_endpoint": self.url + DEVICE_CODE_PATH,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
            "code_challenge_methods_supported": ["S256"],
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
        self.log_request(status)
        self.send_response_only(status)  # not send_response: its Date would come before a page's own
        self.send_header("Server", self.version_string())
        if "Date" not in (headers or {}):
            self.send_header("Date", self.date_time_string())
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
        elif parts.path == METADATA_PATH and method == "GET" and self.github.settings.publishes_metadata:
            with self.github.lock:
                self.github.counters.metadata_requests += 1
            self.send_json(200, self.github.metadata_document())
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
        with opener.open(url, timeout=BROWSER_TIMEOUT_SECONDS) as response:
            status, body = response.status, response.read().decode("utf-8", "replace")
            final_url = response.url
        consent = re.search(r'name="request_id" value="([^"]+)"', body)
        if consent:
            form = urlencode({"request_id": html.unescape(consent.group(1)), "decision": decision}).encode()
            consent_url = urljoin(final_url, AUTHORIZE_PATH)
            with opener.open(consent_url, data=form, timeout=BROWSER_TIMEOUT_SECONDS) as response:
                status, body = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode("utf-8", "replace")
    return status, body
