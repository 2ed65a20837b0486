"""The stand-in's OAuth side: GitHub's authorize and token endpoints, and the tokens they issue.

Two dialects. By default it is as lenient as github.com (no `grant_type` needed, errors with HTTP
200, GitHub's own error codes). With `Settings(strict=True)` it refuses what RFC 6749 and 7636
require and GitHub forgives, as Gitea, Forgejo and every RFC server do: no `grant_type`, a
`redirect_uri` at the exchange that differs from the authorize request's, a repeated parameter,
a missing `response_type`; errors come back as HTTP 400 JSON with RFC 6749 §5.2's codes.
A client that passes only the lenient dialect is not yet interoperable.

Use:  TokenAuthority holds the token logic and OAuthEndpoints the pages; stand_in/server.py mixes
the first into LocalGitHub and the second into its request handler. TokenAuthority names the state
it needs and LocalGitHub provides it, so this module needs no other of the stand-in but settings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from stand_in.settings import OWN_ISSUER, Counters, Settings

TOKEN_ALPHABET = string.ascii_letters + string.digits
AUTHORIZE_PATH = "/login/oauth/authorize"
TOKEN_PATH = "/login/oauth/access_token"
ISSUER_PATH = "/login/oauth"  # github.com's issuer is https://github.com/login/oauth (RFC 9207)
CODE_LIFETIME_SECONDS = 600  # "The temporary code will expire after 10 minutes."
REFRESH_TOKEN_LIFETIME_SECONDS = 15897600  # 6 months
CODE_VERIFIER_PATTERN = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 §4.1

DOCS = "https://docs.github.com"
TOKEN_ERRORS_DOC = f"{DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
TOKEN_ERRORS = {
    # GitHub's codes (HTTP 200) ...
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "redirect_uri_mismatch": "The redirect_uri MUST match the registered callback URL for this application.",
    "bad_verification_code": "The code passed is incorrect or expired.",
    "bad_refresh_token": "The refresh token passed is incorrect or expired.",
    "unsupported_grant_type": "The grant type is not supported.",
    "Not Found": "",  # what github.com answers for a client_id it does not know (no description)
    # ... and RFC 6749 §5.2's, which the strict dialect answers with HTTP 400 (401 for the client).
    "invalid_request": "The request is missing a parameter or repeats one.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": "The code or refresh token is invalid, expired, used, or does not match.",
}
# What the strict dialect answers in place of each of GitHub's codes.
RFC_ERROR_FOR = {
    "incorrect_client_credentials": "invalid_client",
    "Not Found": "invalid_client",
    "redirect_uri_mismatch": "invalid_grant",
    "bad_verification_code": "invalid_grant",
    "bad_refresh_token": "invalid_grant",
}
ACCESS_DENIED_DESCRIPTION = "The user has denied your application access."
ACCESS_DENIED_URI = f"{DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
MISMATCH_PAGE = ("Be careful! The redirect_uri is not associated with this application. The application "
                 "might be misconfigured or could be trying to redirect you to a website you weren't expecting.")


def random_secret(prefix: str, length: int, marker: str = "") -> str:
    """`length` characters: the prefix (gho_, ghr_), the test marker if any, then random letters."""
    tail = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(length - len(prefix) - len(marker)))
    return f"{prefix}{marker}{tail}"


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


def repeated_names(pairs: list[tuple[str, str]]) -> set[str]:
    """RFC 6749 §3.1 and §3.2: a parameter MUST NOT appear more than once."""
    names = [name for name, _ in pairs]
    return {name for name in names if names.count(name) > 1}


@dataclass
class Grant:
    scopes: tuple[str, ...]
    expires_at: float | None
    refresh_token: str | None = None


@dataclass
class PendingCode:
    client_id: str
    redirect_uri: str
    redirect_uri_sent: bool  # RFC 6749 §4.1.3: if it was sent, the exchange must repeat it exactly
    scopes: tuple[str, ...]
    code_challenge: str | None
    expiring: bool
    expires_at: float
    used: bool = False


@dataclass(frozen=True)
class TokenAnswer:
    status: int
    fields: dict[str, object]


class TokenAuthority:
    """Issues, refreshes, checks and revokes tokens. Mixed into LocalGitHub, which holds the state."""

    settings: Settings
    counters: Counters
    lock: threading.Lock  # held by the pages around every use of the state below
    url: str  # where the stand-in listens, http://127.0.0.1:PORT
    codes: dict[str, PendingCode]
    tokens: dict[str, Grant]
    refresh_tokens: dict[str, tuple[tuple[str, ...], float, bool]]  # scopes, expiry, from the device flow
    pending_consents: dict[str, dict]  # authorization requests waiting on the consent page, by request_id

    @property
    def issuer(self) -> str | None:
        """What callbacks carry as `iss`: `<server>/login/oauth`, as https://github.com/login/oauth."""
        if self.settings.issuer == OWN_ISSUER:
            return self.url + ISSUER_PATH
        return self.settings.issuer

    def secret(self, prefix: str, length: int) -> str:
        return random_secret(prefix, length, self.settings.secret_marker)

    def token_error(self, code: str) -> TokenAnswer:
        """GitHub: HTTP 200 and its own code. Strict: RFC 6749 §5.2's code, HTTP 400 (401 for the client)."""
        if self.settings.strict:
            code = RFC_ERROR_FOR.get(code, code)
            status = 401 if code == "invalid_client" else 400
        else:
            status = 200
        if not TOKEN_ERRORS[code]:
            return TokenAnswer(status, {"error": code})
        return TokenAnswer(status, {"error": code, "error_description": TOKEN_ERRORS[code],
                                    "error_uri": f"{TOKEN_ERRORS_DOC}#{code.replace('_', '-')}"})

    def grant_tokens(self, scopes: tuple[str, ...], expiring: bool | None = None,
                     from_device: bool = False) -> dict[str, object]:
        """Issue a token as the token endpoint would; tests use it to skip the browser."""
        expiring = self.settings.expiring if expiring is None else expiring
        access_token = self.secret("gho_", 40)
        answer: dict[str, object] = {"access_token": access_token, "token_type": "bearer", "scope": ",".join(scopes)}
        grant = Grant(scopes=scopes, expires_at=None)
        if expiring:
            now = time.time()
            refresh_token = self.secret("ghr_", 80)
            grant = Grant(scopes, now + self.settings.expires_in, refresh_token)
            self.refresh_tokens[refresh_token] = (scopes, now + REFRESH_TOKEN_LIFETIME_SECONDS, from_device)
            lifetimes: tuple[object, object] = (self.settings.expires_in, REFRESH_TOKEN_LIFETIME_SECONDS)
            if self.settings.lifetimes_as_strings:
                lifetimes = tuple(str(value) for value in lifetimes)  # type: ignore[assignment]
            answer.update(expires_in=lifetimes[0], refresh_token=refresh_token, refresh_token_expires_in=lifetimes[1])
            self.counters.secrets_seen.add(refresh_token)
        self.tokens[access_token] = grant
        self.counters.secrets_seen.add(access_token)
        return answer

    def token_endpoint(self, params: dict[str, str], repeated: set[str] = frozenset()) -> TokenAnswer:
        self.counters.token_requests += 1
        self.counters.secrets_seen.update(
            value for name, value in params.items() if name in ("code", "code_verifier", "refresh_token"))
        strict = self.settings.strict
        if strict and repeated:
            return self.token_error("invalid_request")
        # GitHub takes an exchange without grant_type; RFC 6749 §4.1.3 (and Gitea) do not.
        grant_type = params.get("grant_type", "" if strict else "authorization_code")
        if grant_type == DEVICE_GRANT:
            return self.device_token(params)  # "The client_secret is not needed for the device flow."
        if grant_type not in ("authorization_code", "refresh_token"):
            return self.token_error("unsupported_grant_type")
        secret_matches = hmac.compare_digest(params.get("client_secret", "").encode(),
                                             self.settings.client_secret.encode())
        # A refresh needs the secret "unless the token was generated using the device flow".
        refreshing_a_device_token = grant_type == "refresh_token" and self.refresh_tokens.get(
            params.get("refresh_token", ""), ((), 0, False))[2]
        secret_needed = not (refreshing_a_device_token and "client_secret" not in params)
        # github.com's order, seen from outside (a made-up code tells each case apart, with no user):
        # the app by its client_id, then the secret, then the redirect_uri against the app's
        # registered callback URL, and only then the code.
        if params.get("client_id") != self.settings.client_id:
            return self.token_error("Not Found")
        if secret_needed and not secret_matches:
            return self.token_error("incorrect_client_credentials")
        if grant_type == "refresh_token":
            return self.refresh(params.get("refresh_token", ""))
        if not strict and params.get("redirect_uri") and not redirect_is_allowed(self.settings.callback_url,
                                                                                 params["redirect_uri"]):
            return self.token_error("redirect_uri_mismatch")
        pending = self.codes.get(params.get("code", ""))
        if pending is None or pending.used or pending.expires_at < time.time():
            return self.token_error("bad_verification_code")
        pending.used = True  # single use, even when the rest of this request is wrong
        given = params.get("redirect_uri")
        if strict and pending.redirect_uri_sent and given != pending.redirect_uri:
            return self.token_error("redirect_uri_mismatch")  # RFC 6749 §4.1.3: identical, and present
        if given and given != pending.redirect_uri:
            return self.token_error("redirect_uri_mismatch")
        if pending.code_challenge is not None:
            verifier = params.get("code_verifier", "")
            if not CODE_VERIFIER_PATTERN.fullmatch(verifier) or s256(verifier) != pending.code_challenge:
                return self.token_error("bad_verification_code")  # GitHub's exact code here is unconfirmed
        return TokenAnswer(200, self.grant_tokens(pending.scopes, pending.expiring))

    def refresh(self, refresh_token: str) -> TokenAnswer:
        entry = self.refresh_tokens.pop(refresh_token, None)  # rotation: a refresh token works once
        if entry is None or entry[1] < time.time():
            return self.token_error("bad_refresh_token")
        self.counters.refreshes += 1
        # "Once you use a refresh token, that refresh token and the old access token will no longer work."
        for token, grant in list(self.tokens.items()):
            if grant.refresh_token == refresh_token:
                del self.tokens[token]
        return TokenAnswer(200, self.grant_tokens(entry[0], expiring=True, from_device=entry[2]))

    def device_token(self, params: dict[str, str]) -> TokenAnswer:
        """The device grant's answer; stand_in/device.py gives it. A server without it knows no such grant."""
        return self.token_error("unsupported_grant_type")

    def user_for(self, authorization: str) -> Grant | None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        grant = self.tokens.get(value.strip())
        if grant is None or (grant.expires_at is not None and grant.expires_at < time.time()):
            return None
        return grant


class OAuthEndpoints:
    """The handler's OAuth pages: GET/POST /login/oauth/authorize and POST /login/oauth/access_token."""

    github: TokenAuthority  # the stand-in: LocalGitHub

    def authorize(self, query: dict[str, str], repeated: set[str]) -> None:
        github = self.github
        settings = github.settings
        if query.get("client_id") != settings.client_id:
            self.send_page(404, "Not Found", "No OAuth app has this client_id.")
            return
        if settings.strict and repeated:
            # RFC 6749 §3.1: which of two redirect_uri values would we trust? Neither: no redirect.
            self.send_page(400, "invalid_request", f"Repeated parameter: {', '.join(sorted(repeated))}.")
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
        request = {"redirect_uri": redirect_uri, "redirect_uri_sent": "redirect_uri" in query,
                   "scope": query.get("scope", ""), "state": query.get("state", ""), "code_challenge": challenge or ""}
        if settings.strict and query.get("response_type") != "code":
            self.redirect(self.callback_url(request, {"error": "unsupported_response_type"}))  # RFC 6749 §4.1.2.1
        elif settings.approval == "ask":
            request_id = secrets.token_urlsafe(16)
            with github.lock:
                github.pending_consents[request_id] = request
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

    def decision_url(self, request: dict, approve: bool) -> str:
        github = self.github
        if not approve:
            return self.callback_url(request, {"error": "access_denied", "error_description": ACCESS_DENIED_DESCRIPTION,
                                               "error_uri": ACCESS_DENIED_URI})
        code = github.secret("", 26)
        requested = request["scope"]
        with github.lock:
            github.codes[code] = PendingCode(
                client_id=github.settings.client_id, redirect_uri=request["redirect_uri"],
                redirect_uri_sent=request["redirect_uri_sent"], scopes=normalize_scopes(requested),
                code_challenge=request["code_challenge"] or None,
                # Like an OAuth app: `offline_access` asks for an expiring token and a refresh token.
                expiring=github.settings.expiring or (
                    github.settings.offline_access and "offline_access" in re.split(r"[,\s]+", requested)),
                expires_at=time.time() + CODE_LIFETIME_SECONDS)
            github.counters.secrets_seen.add(code)
        return self.callback_url(request, {"code": code})

    def callback_url(self, request: dict, params: dict[str, str]) -> str:
        if request["state"]:  # echoed only when it was sent
            params["state"] = request["state"]
        issuer = self.github.issuer
        if issuer is not None:  # github.com names itself in every callback, errors too (RFC 9207)
            params["iss"] = issuer
        separator = "&" if "?" in request["redirect_uri"] else "?"
        return f"{request['redirect_uri']}{separator}{urlencode(params)}"

    def access_token(self, query_pairs: list[tuple[str, str]]) -> None:
        body = self.read_body()
        pairs = list(query_pairs)  # GitHub takes the parameters from the query, a form or JSON
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type == "application/json":
            try:
                loaded = json.loads(body or b"{}")
                pairs += [(k, str(v)) for k, v in loaded.items()] if isinstance(loaded, dict) else []
            except ValueError:
                pass
        else:
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        with self.github.lock:
            answer = self.github.token_endpoint(dict(pairs), repeated_names(pairs))
        self.send_token_answer(answer)

    def send_token_answer(self, answer: TokenAnswer) -> None:
        """Form-encoded unless JSON (or XML) is asked for, as GitHub answers; JSON always when strict."""
        accept = self.headers.get("Accept") or ""
        if "application/json" in accept or self.github.settings.strict:
            self.send_json(answer.status, answer.fields)
        elif "application/xml" in accept:
            fields = "".join(f"<{k}>{html.escape(str(v))}</{k}>" for k, v in answer.fields.items())
            self.send(answer.status, f"<OAuth>{fields}</OAuth>", "application/xml; charset=utf-8")
        else:
            self.send(answer.status, urlencode(answer.fields), "application/x-www-form-urlencoded; charset=utf-8")


def consent_page(request_id: str, client_id: str, scope: str) -> str:
    scopes = ", ".join(normalize_scopes(scope)) or "public information only"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorize application</title></head>
<body style="font:16px system-ui,sans-serif;max-width:34em;margin:4em auto">
<h1>Authorize {html.escape(client_id)}</h1>
<p>This local stand-in of GitHub asks whether the app may access: <strong>{html.escape(scopes)}</strong>.</p>
<form method="post" action="{AUTHORIZE_PATH}">
<input type="hidden" name="request_id" value="{html.escape(request_id)}">
<button name="decision" value="authorize">Authorize</button>
<button name="decision" value="cancel">Cancel</button>
</form></body></html>
"""
