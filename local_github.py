"""A local stand-in for GitHub: its OAuth endpoints and the slice of the REST API the chapter uses.

Not a step of the chapter, but the place to try every step without an account or a network; the
tests and `python dev_github_tool.py demo` use it too. It copies github.com's real behaviour
(see ../shared/github-oauth-facts.md), quirks included, rather than a textbook OAuth server.

Run:  python local_github.py [--port 8765] [--auto-approve] [--expiring]
      then, in another terminal, set the variables it prints and run the steps.
Watch for the quirks a client must survive: token errors come back with HTTP 200; the token
answer is form-encoded unless you ask for JSON; scopes come back comma-separated; a loopback
redirect may use any port; a refresh token works once; a wrong redirect_uri shows a page instead
of redirecting. Every secret it issues contains SECRET_MARKER, so tests can prove none leaks.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html
import http.server
import json
import re
import secrets
import socketserver
import string
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

# A recognisable piece of every token, refresh token, code and client secret issued here: a test
# that finds it in any output has found a leak. (Real GitHub tokens are opaque random strings.)
SECRET_MARKER = "CANARY"
DEMO_CLIENT_ID = "Ov23liLocalStandIn"
DEMO_CLIENT_SECRET = f"local-{SECRET_MARKER}-client-secret"
DEMO_CALLBACK_URL = "http://127.0.0.1/callback"
DEFAULT_PORT = 8765
API_PREFIX = "/api/v3"  # GitHub Enterprise Server's layout: the API lives under the same host

CODE_LIFETIME_SECONDS = 600  # "The temporary code will expire after 10 minutes."
ACCESS_TOKEN_LIFETIME_SECONDS = 28800  # 8 hours, for expiring tokens
REFRESH_TOKEN_LIFETIME_SECONDS = 15897600  # 6 months
RATE_LIMIT_PER_HOUR = 5000
SHUTDOWN_POLL_SECONDS = 0.05  # stop promptly: tests and the demo start and stop it often
DEFAULT_PER_PAGE, MAX_PER_PAGE = 30, 100
KNOWN_API_VERSIONS = ("2022-11-28", "2026-03-10")
DOCS = "https://docs.github.com"
TOKEN_ERRORS_DOC = f"{DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
TOKEN_ERRORS = {
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "redirect_uri_mismatch": "The redirect_uri MUST match the registered callback URL for this application.",
    "bad_verification_code": "The code passed is incorrect or expired.",
    "bad_refresh_token": "The refresh token passed is incorrect or expired.",
    "unsupported_grant_type": "The grant type is not supported.",
}
ACCESS_DENIED_DESCRIPTION = "The user has denied your application access."
ACCESS_DENIED_URI = (f"{DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/"
                     "#access-denied")
MISMATCH_PAGE = ("Be careful! The redirect_uri is not associated with this application. The application "
                 "might be misconfigured or could be trying to redirect you to a website you weren't expecting.")
NO_USER_AGENT_PAGE = ("Request forbidden by administrative rules. "
                      "Please make sure your request has a User-Agent header.")
TOKEN_ALPHABET = string.ascii_letters + string.digits


def random_secret(prefix: str, length: int) -> str:
    tail = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(length - len(prefix) - len(SECRET_MARKER)))
    return f"{prefix}{SECRET_MARKER}{tail}"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def normalize_scopes(requested: str) -> tuple[str, ...]:
    """GitHub drops scopes implied by others ("user,gist,user:email" gives "user,gist")."""
    scopes = [s for s in dict.fromkeys(re.split(r"[,\s]+", requested)) if s and s != "offline_access"]
    implied = {"user": ("read:user", "user:email", "user:follow"), "repo": ("public_repo",)}
    for parent, children in implied.items():
        if parent in scopes:
            scopes = [s for s in scopes if s not in children]
    return tuple(scopes)


def redirect_is_allowed(registered: str, given: str) -> bool:
    """GitHub's rules: same scheme and host; any port on a loopback host; the path or a subfolder."""
    reg, got = urlsplit(registered), urlsplit(given)
    if (reg.scheme, reg.hostname) != (got.scheme, got.hostname) or got.fragment:
        return False
    if reg.hostname not in ("127.0.0.1", "::1", "localhost") and reg.port != got.port:
        return False
    base = reg.path.rstrip("/")
    return got.path in (reg.path, base) or got.path.startswith(base + "/")


@dataclass
class Settings:
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    callback_url: str = DEMO_CALLBACK_URL
    approval: str = "ask"  # "ask" shows a consent page; "auto" approves; "deny" cancels
    expiring: bool = False  # GitHub App style: expires_in and a rotating refresh token
    expires_in: int = ACCESS_TOKEN_LIFETIME_SECONDS
    lifetimes_as_strings: bool = False  # as GitHub's 2020 announcement showed them
    login: str = "octocat"
    repo_count: int = 7
    rate_limit: int = RATE_LIMIT_PER_HOUR


@dataclass
class Grant:
    scopes: tuple[str, ...]
    expires_at: float | None
    refresh_token: str | None = None


@dataclass
class PendingCode:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    expiring: bool
    expires_at: float
    used: bool = False


@dataclass
class Counters:
    """What the stand-in saw, for tests to assert on."""

    token_requests: int = 0
    refreshes: int = 0
    api_requests: int = 0
    connections: int = 0
    revocations: int = 0
    authorization_headers: list[str] = field(default_factory=list)
    secrets_seen: set[str] = field(default_factory=set)  # issued or received: codes, tokens, verifiers


class LocalGitHub:
    """The stand-in's state plus its HTTP server. Use as a context manager, or start()/stop()."""

    def __init__(self, settings: Settings | None = None, port: int = 0) -> None:
        self.settings = settings or Settings()
        self.counters = Counters()
        self.lock = threading.Lock()
        self.codes: dict[str, PendingCode] = {}
        self.tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, tuple[tuple[str, ...], float]] = {}
        self.pending_consents: dict[str, dict[str, str]] = {}
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

    def fail_next(self, path_prefix: str, status: int, body: str, content_type: str = "text/html") -> None:
        """Answer the next request under `path_prefix` with this response (a proxy error, say)."""
        with self.lock:
            self.queued_failures.append((path_prefix, status, body, content_type))

    # -- tokens -------------------------------------------------------------------------------

    def grant_tokens(self, scopes: tuple[str, ...], expiring: bool | None = None) -> dict[str, object]:
        """Issue a token as the token endpoint would; tests use it to skip the browser."""
        expiring = self.settings.expiring if expiring is None else expiring
        access_token = random_secret("gho_", 40)
        answer: dict[str, object] = {"access_token": access_token, "token_type": "bearer",
                                     "scope": ",".join(scopes)}
        grant = Grant(scopes=scopes, expires_at=None)
        if expiring:
            now = time.time()
            refresh_token = random_secret("ghr_", 80)
            grant = Grant(scopes, now + self.settings.expires_in, refresh_token)
            self.refresh_tokens[refresh_token] = (scopes, now + REFRESH_TOKEN_LIFETIME_SECONDS)
            lifetimes = (self.settings.expires_in, REFRESH_TOKEN_LIFETIME_SECONDS)
            if self.settings.lifetimes_as_strings:
                lifetimes = tuple(str(value) for value in lifetimes)
            answer.update(expires_in=lifetimes[0], refresh_token=refresh_token,
                          refresh_token_expires_in=lifetimes[1])
            self.counters.secrets_seen.add(refresh_token)
        self.tokens[access_token] = grant
        self.counters.secrets_seen.add(access_token)
        return answer

    def token_endpoint(self, params: dict[str, str]) -> dict[str, object]:
        self.counters.token_requests += 1
        self.counters.secrets_seen.update(
            value for name, value in params.items() if name in ("code", "code_verifier", "refresh_token"))
        grant_type = params.get("grant_type", "authorization_code")
        if grant_type not in ("authorization_code", "refresh_token"):
            return token_error("unsupported_grant_type")
        if params.get("client_id") != self.settings.client_id or not hmac.compare_digest(
                params.get("client_secret", "").encode(), self.settings.client_secret.encode()):
            return token_error("incorrect_client_credentials")
        if grant_type == "refresh_token":
            return self.refresh(params.get("refresh_token", ""))
        pending = self.codes.get(params.get("code", ""))
        if pending is None or pending.used or pending.expires_at < time.time():
            return token_error("bad_verification_code")
        pending.used = True  # single use, even when the rest of this request is wrong
        if params.get("redirect_uri") and params["redirect_uri"] != pending.redirect_uri:
            return token_error("redirect_uri_mismatch")
        if pending.code_challenge is not None:
            verifier = params.get("code_verifier", "")
            if not re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier) or s256(verifier) != pending.code_challenge:
                return token_error("bad_verification_code")  # GitHub's exact code here is unconfirmed
        return self.grant_tokens(pending.scopes, pending.expiring)

    def refresh(self, refresh_token: str) -> dict[str, object]:
        entry = self.refresh_tokens.pop(refresh_token, None)  # rotation: a refresh token works once
        if entry is None or entry[1] < time.time():
            return token_error("bad_refresh_token")
        self.counters.refreshes += 1
        # "Once you use a refresh token, that refresh token and the old access token will no longer work."
        for token, grant in list(self.tokens.items()):
            if grant.refresh_token == refresh_token:
                del self.tokens[token]
        return self.grant_tokens(entry[0], expiring=True)

    def user_for(self, authorization: str) -> Grant | None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        grant = self.tokens.get(value.strip())
        if grant is None or (grant.expires_at is not None and grant.expires_at < time.time()):
            return None
        return grant

    # -- data ---------------------------------------------------------------------------------

    def user(self, grant: Grant) -> dict[str, object]:
        login = self.settings.login
        user: dict[str, object] = {
            "login": login, "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==", "type": "User",
            "html_url": f"https://github.com/{login}", "url": f"{self.api_url}/users/{login}",
            "name": "The Octocat", "company": None, "blog": "", "location": None, "email": None,
            "bio": None, "public_repos": len(self.repositories(include_private=False)),
            "followers": 0, "following": 0, "site_admin": False,
            "created_at": "2011-01-25T18:44:36Z", "updated_at": "2026-11-01T12:00:00Z",
        }
        if "user" in grant.scopes:  # private profile fields need the user scope
            user.update(total_private_repos=self.settings.repo_count - user["public_repos"],
                        two_factor_authentication=True)
        return user

    def repositories(self, include_private: bool) -> list[dict[str, object]]:
        login = self.settings.login
        repos = []
        for number in range(1, self.settings.repo_count + 1):
            private = number % 3 == 0
            if private and not include_private:
                continue
            name = f"project-{number:03d}"
            repos.append({
                "id": 1000 + number, "name": name, "full_name": f"{login}/{name}", "private": private,
                "visibility": "private" if private else "public",
                "owner": {"login": login, "id": 583231},
                "html_url": f"https://github.com/{login}/{name}",
                "description": f"Example repository number {number}" if number % 4 else None,
                "fork": False, "url": f"{self.api_url}/repos/{login}/{name}",
                "stargazers_count": (number * 7) % 50, "language": "Python", "default_branch": "main",
                "created_at": f"2025-01-{(number % 28) + 1:02d}T10:00:00Z",
                "updated_at": f"2026-{(number % 12) + 1:02d}-{(number % 28) + 1:02d}T10:00:00Z",
                "pushed_at": f"2026-{(number % 12) + 1:02d}-{(number % 28) + 1:02d}T10:00:00Z",
            })
        return repos


def token_error(code: str) -> dict[str, object]:
    return {"error": code, "error_description": TOKEN_ERRORS[code],
            "error_uri": f"{TOKEN_ERRORS_DOC}#{code.replace('_', '-')}"}


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # parallel test processes connect in bursts
    github: LocalGitHub

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skip the reverse DNS lookup of http.server
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up (as fault tests do on purpose) is not news


class _Handler(http.server.BaseHTTPRequestHandler):
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

    def api_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        payload = {"message": message, "documentation_url": f"{DOCS}/rest", "status": str(status)}
        self.send_json(status, payload, headers)

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
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path == "/login/oauth/authorize" and method == "GET":
            self.authorize(query)
        elif parts.path == "/login/oauth/authorize" and method == "POST":
            self.decide({k: v[0] for k, v in parse_qs(self.read_body().decode("utf-8", "replace")).items()})
        elif parts.path == "/login/oauth/access_token" and method == "POST":
            self.access_token(query)
        elif parts.path.startswith(API_PREFIX + "/"):
            self.api(method, parts.path[len(API_PREFIX):], query)
        else:
            self.read_body()
            self.send_page(404, "Not Found", "There is nothing at this address.")

    # -- the authorize endpoint ----------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> None:
        settings = self.github.settings
        if query.get("client_id") != settings.client_id:
            self.send_page(404, "Not Found", "No OAuth app has this client_id.")
            return
        redirect_uri = query.get("redirect_uri") or settings.callback_url
        if not redirect_is_allowed(settings.callback_url, redirect_uri):
            # Today GitHub shows this page rather than redirecting with redirect_uri_mismatch.
            self.send_page(200, "Be careful!", MISMATCH_PAGE)
            return
        challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
        if (challenge is None) != (method is None) or (method is not None and method != "S256") or (
                challenge is not None and not re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge)):
            self.send_page(400, "Invalid PKCE parameters",
                           "code_challenge and code_challenge_method=S256 must come together; plain is not supported.")
            return
        request = {"redirect_uri": redirect_uri, "scope": query.get("scope", ""),
                   "state": query.get("state", ""), "code_challenge": challenge or ""}
        if settings.approval == "ask":
            request_id = secrets.token_urlsafe(16)
            with self.github.lock:
                self.github.pending_consents[request_id] = request
            self.send(200, consent_page(request_id, settings.client_id, request["scope"]), "text/html; charset=utf-8")
        else:
            self.redirect(self.decision_url(request, approve=settings.approval == "auto"))

    def decide(self, form: dict[str, str]) -> None:
        with self.github.lock:
            request = self.github.pending_consents.pop(form.get("request_id", ""), None)
        if request is None:
            self.send_page(400, "Expired", "This authorization request is no longer valid.")
            return
        self.redirect(self.decision_url(request, approve=form.get("decision") == "authorize"))

    def decision_url(self, request: dict[str, str], approve: bool) -> str:
        if approve:
            code = random_secret("", 26)
            requested = request["scope"]
            with self.github.lock:
                self.github.codes[code] = PendingCode(
                    client_id=self.github.settings.client_id, redirect_uri=request["redirect_uri"],
                    scopes=normalize_scopes(requested), code_challenge=request["code_challenge"] or None,
                    # Like an OAuth app: `offline_access` asks for an expiring token and a refresh token.
                    expiring=self.github.settings.expiring or "offline_access" in requested.split(),
                    expires_at=time.time() + CODE_LIFETIME_SECONDS)
                self.github.counters.secrets_seen.add(code)
            params = {"code": code}
        else:
            params = {"error": "access_denied", "error_description": ACCESS_DENIED_DESCRIPTION,
                      "error_uri": ACCESS_DENIED_URI}
        if request["state"]:  # echoed only when it was sent
            params["state"] = request["state"]
        separator = "&" if "?" in request["redirect_uri"] else "?"
        return f"{request['redirect_uri']}{separator}{urlencode(params)}"

    # -- the token endpoint --------------------------------------------------------------------

    def access_token(self, query: dict[str, str]) -> None:
        body = self.read_body()
        params = dict(query)  # GitHub takes the parameters from the query, a form or JSON
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type == "application/json":
            try:
                loaded = json.loads(body or b"{}")
                params.update({k: str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {})
            except ValueError:
                pass
        else:
            params.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
        with self.github.lock:
            answer = self.github.token_endpoint(params)
        accept = self.headers.get("Accept") or ""
        # Errors too are HTTP 200: the body says what happened.
        if "application/json" in accept:
            self.send_json(200, answer)
        elif "application/xml" in accept:
            fields = "".join(f"<{k}>{html.escape(str(v))}</{k}>" for k, v in answer.items())
            self.send(200, f"<OAuth>{fields}</OAuth>", "application/xml; charset=utf-8")
        else:
            self.send(200, urlencode(answer), "application/x-www-form-urlencoded; charset=utf-8")

    # -- the REST API --------------------------------------------------------------------------

    def api(self, method: str, path: str, query: dict[str, str]) -> None:
        body = self.read_body()
        github = self.github
        if not self.headers.get("User-Agent"):
            self.send(403, NO_USER_AGENT_PAGE, "text/html; charset=utf-8")
            return
        version = self.headers.get("X-GitHub-Api-Version")
        if version is not None and version not in KNOWN_API_VERSIONS:
            self.api_error(400, f"Invalid API version provided: {version}")
            return
        if path.startswith("/applications/"):
            self.application_token(method, path, body)
            return
        authorization = self.headers.get("Authorization") or ""
        with github.lock:
            github.counters.api_requests += 1
            if authorization:
                github.counters.authorization_headers.append(authorization)
            grant = github.user_for(authorization) if authorization else None
        if not authorization:
            self.api_error(401, "Requires authentication")
            return
        if grant is None:
            self.api_error(401, "Bad credentials")
            return
        with github.lock:
            if github.rate_remaining <= 0:
                limited = True
            else:
                limited = False
                github.rate_remaining -= 1
            remaining = github.rate_remaining
        reset = int(time.time()) + 3600
        headers = {
            "X-OAuth-Scopes": ", ".join(grant.scopes),
            "X-RateLimit-Limit": str(github.settings.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Used": str(github.settings.rate_limit - remaining),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Api-Version-Selected": version or KNOWN_API_VERSIONS[0],
            "Date": formatdate(usegmt=True),
        }
        if limited:
            self.api_error(403, "API rate limit exceeded for user ID 583231.", headers)
        elif method == "GET" and path == "/user":
            self.send_cacheable(github.user(grant), {**headers, "X-Accepted-OAuth-Scopes": ""})
        elif method == "GET" and path == "/user/repos":
            self.list_repositories(grant, query, {**headers, "X-Accepted-OAuth-Scopes": "repo"})
        else:
            self.api_error(404, "Not Found", headers)  # also what a trailing slash gets on GitHub

    def send_cacheable(self, payload: object, headers: dict[str, str]) -> None:
        text = json.dumps(payload)
        etag = f'W/"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'
        headers = {**headers, "ETag": etag, "Cache-Control": "private, max-age=60, s-maxage=60",
                   "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP"}
        if self.headers.get("If-None-Match") == etag:
            self.send(304, "", "application/json", headers)
        else:
            self.send_json(200, payload, headers)

    def list_repositories(self, grant: Grant, query: dict[str, str], headers: dict[str, str]) -> None:
        if "type" in query and ("visibility" in query or "affiliation" in query):
            self.api_error(422, "Validation Failed", headers)
            return
        visibility = query.get("visibility", "all")
        if visibility not in ("all", "public", "private"):
            self.api_error(422, "Validation Failed", headers)
            return
        # Without the repo scope a token sees public repositories only.
        repos = self.github.repositories(include_private="repo" in grant.scopes)
        if visibility != "all":
            repos = [r for r in repos if r["visibility"] == visibility]
        sort = query.get("sort", "full_name")
        if sort in ("created", "updated", "pushed"):
            repos.sort(key=lambda r: r[f"{sort}_at"], reverse=query.get("direction", "desc") == "desc")
        elif query.get("direction") == "desc":
            repos.reverse()
        try:
            per_page = min(max(int(query.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
            page = max(int(query.get("page", 1)), 1)
        except ValueError:
            per_page, page = DEFAULT_PER_PAGE, 1
        last = max((len(repos) + per_page - 1) // per_page, 1)
        # Like GitHub: no prev on the first page, no next on the last, and per_page always included.
        wanted = {"prev": page > 1, "next": page < last, "last": page != last, "first": page != 1}
        numbers = {"prev": page - 1, "next": page + 1, "last": last, "first": 1}
        links = []
        for rel in ("prev", "next", "last", "first"):
            if wanted[rel]:
                page_query = urlencode({**query, "per_page": per_page, "page": numbers[rel]})
                target = f"{self.github.api_url}/user/repos?{page_query}"
                links.append(f'<{target}>; rel="{rel}"')
        if links:
            headers = {**headers, "Link": ", ".join(links)}
        self.send_cacheable(repos[(page - 1) * per_page: page * per_page], headers)

    def application_token(self, method: str, path: str, body: bytes) -> None:
        """DELETE (revoke) or POST (check) /applications/{client_id}/token, with Basic auth."""
        github = self.github
        match = re.fullmatch(r"/applications/([^/]+)/token", path)
        expected = base64.b64encode(f"{github.settings.client_id}:{github.settings.client_secret}".encode()).decode()
        if match is None or method not in ("DELETE", "POST"):
            self.api_error(404, "Not Found")
            return
        if match.group(1) != github.settings.client_id or not hmac.compare_digest(
                (self.headers.get("Authorization") or "").encode(), f"Basic {expected}".encode()):
            self.api_error(401, "Bad credentials")
            return
        try:
            token = json.loads(body or b"{}").get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str):
            self.api_error(422, "Validation Failed")
            return
        with github.lock:
            grant = github.tokens.get(token)
            if grant is not None and method == "DELETE":
                del github.tokens[token]
                github.refresh_tokens.pop(grant.refresh_token or "", None)
                github.counters.revocations += 1
        if grant is None:
            self.api_error(404, "Not Found")  # "Invalid tokens will return 404 NOT FOUND"
        elif method == "DELETE":
            self.send(204, "", "application/json")
        else:
            self.send_json(200, {"token_last_eight": token[-8:], "scopes": list(grant.scopes),
                                 "app": {"client_id": github.settings.client_id, "name": "Local stand-in"}})


def consent_page(request_id: str, client_id: str, scope: str) -> str:
    scopes = ", ".join(normalize_scopes(scope)) or "public information only"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorize application</title></head>
<body style="font:16px system-ui,sans-serif;max-width:34em;margin:4em auto">
<h1>Authorize {html.escape(client_id)}</h1>
<p>This local stand-in of GitHub asks whether the app may access: <strong>{html.escape(scopes)}</strong>.</p>
<form method="post" action="/login/oauth/authorize">
<input type="hidden" name="request_id" value="{html.escape(request_id)}">
<button name="decision" value="authorize">Authorize</button>
<button name="decision" value="cancel">Cancel</button>
</form></body></html>
"""


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
            with opener.open(urljoin(final_url, "/login/oauth/authorize"), data=form, timeout=60) as response:
                status, body = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode("utf-8", "replace")
    return status, body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a local stand-in of GitHub's OAuth and REST API.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--auto-approve", action="store_true", help="approve without showing the consent page")
    parser.add_argument("--expiring", action="store_true", help="issue 8-hour tokens with refresh tokens")
    args = parser.parse_args(argv)
    settings = Settings(approval="auto" if args.auto_approve else "ask", expiring=args.expiring)
    try:
        github = LocalGitHub(settings, port=args.port)
    except OSError as error:
        print(f"local_github: cannot listen on 127.0.0.1:{args.port} ({error.strerror}) — try --port 0")
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
