"""The client of the token endpoint: one POST, and the answer read in whichever dialect it comes.

Step 2 trades the code for a token here, the device flow polls here (at the pace DevicePace sets),
and the token manager trades a refresh token for a new pair here. Watch for: the answer's body
decides, never the status alone (GitHub reports errors with HTTP 200, servers that follow RFC 6749
§5.2 with 400); redirects are never followed, because one could carry the client secret elsewhere;
every request has a timeout. The client secret goes in the form body, as GitHub takes it, or as
HTTP Basic to a server whose metadata lists only that (RFC 6749 §2.3.1).
"""

from __future__ import annotations

import base64
import math
from urllib.parse import parse_qs, quote_plus, urlsplit

from support.errors import STEP_DEVICE, AuthError, safe_text
from support.http import requests
from support.settings import OAuthConfig, host_of, is_loopback_host
from support.token import Token

# (connect, read) for every request: a dead network must end in a message, not a hang.
HTTP_TIMEOUT_SECONDS = (10, 30)
USER_AGENT = "dev-github-tool (OAuth chapter companion)"

# The error codes a callback can carry from the authorization endpoint (RFC 6749 §4.1.2.1, and
# GitHub's "Troubleshooting authorization request errors"), each with what a person should do.
CALLBACK_ERROR_FIXES = {
    "access_denied": "you declined the request — run login again and choose Authorize",
    "redirect_uri_mismatch": "the redirect URI is not one the app allows — set the app's "
                             "Authorization callback URL to http://127.0.0.1/callback",
    "application_suspended": "the OAuth app is suspended — its owner must contact GitHub support",
}
# The token endpoint's error codes, each with what a person should do about it: GitHub's own,
# then RFC 6749 §5.2's, which servers that follow the RFC (Gitea, Forgejo, Authlib) answer instead.
TOKEN_ERROR_FIXES = {
    "bad_verification_code": "the code expired (codes last 10 minutes), was already used, or does "
                             "not match the PKCE verifier — run login again",
    "incorrect_client_credentials": "GITHUB_CLIENT_ID or GITHUB_CLIENT_SECRET is wrong — copy both "
                                    "again from your OAuth app's page into .env",
    "Not Found": "no OAuth app has this GITHUB_CLIENT_ID — copy the Client ID again from your OAuth app's page",
    "redirect_uri_mismatch": "the redirect URI is not one the app allows — set the app's "
                             "Authorization callback URL to http://127.0.0.1/callback",
    "unverified_user_email": "your GitHub account has no verified primary email — verify it at "
                             "https://github.com/settings/emails, then log in again",
    "bad_refresh_token": "the refresh token expired or was already used — run login again",
    "unsupported_grant_type": "the server does not accept this kind of request — check GITHUB_SERVER_URL",
    "invalid_grant": "the code or refresh token is expired, already used, or does not match the redirect "
                     "URI or the PKCE verifier — run login again",
    "invalid_client": "GITHUB_CLIENT_ID or GITHUB_CLIENT_SECRET is wrong — copy both again from your "
                      "OAuth app's page into .env",
    "invalid_request": "the server refused the request as malformed — check GITHUB_SERVER_URL, and "
                       "report it if it persists",
    "unauthorized_client": "this app may not use this kind of sign-in — check the app's settings on the server",
    "invalid_scope": "the server does not know a scope that was asked for — check GITHUB_SCOPES",
}


# The device flow's pace (RFC 8628 §3.2, §3.5), within bounds whatever a server says: an interval
# of 0 would be a busy loop and one of a million seconds an endless wait; GitHub's own are 5 s
# between polls and 15 minutes for a code, so 1-60 s and at most 30 minutes leave room for any
# server that means well.
DEFAULT_INTERVAL_SECONDS = 5  # RFC 8628 §3.2: the pace when the server names none
INTERVAL_BOUNDS = (1.0, 60.0)
SLOW_DOWN_SECONDS = 5  # RFC 8628 §3.5: at least this much longer after `slow_down`
DEFAULT_EXPIRES_IN_SECONDS = 900  # GitHub's: a code must be entered within 15 minutes
EXPIRES_IN_BOUNDS = (1.0, 1800.0)


def bounded_seconds(value: object, default: float, bounds: tuple[float, float]) -> float:
    """A number of seconds from a server (a number or a numeric string), within `bounds`; `default`
    when it is missing or no finite, positive number."""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        number = default
    return min(max(number, bounds[0]), bounds[1])


def poll_interval(value: object) -> float:
    return bounded_seconds(value, DEFAULT_INTERVAL_SECONDS, INTERVAL_BOUNDS)


def code_lifetime(value: object) -> float:
    return bounded_seconds(value, DEFAULT_EXPIRES_IN_SECONDS, EXPIRES_IN_BOUNDS)


class DevicePace:
    """When to poll next in the device flow, and when to stop (RFC 8628 §3.5).

    No wait runs past the code's expiry; `slow_down` makes every later wait at least five seconds
    longer; a poll that got no answer doubles the wait (§3.5's backoff) instead of ending the flow,
    and if none got through until the code expired, the last failure is what is reported.
    """

    def __init__(self, interval: float, expires_in: float, now: float) -> None:
        self.interval = poll_interval(interval)
        self.deadline = now + code_lifetime(expires_in)
        self.unanswered: AuthError | None = None  # the last poll's failure, while the server is out of reach

    def next_wait(self, now: float) -> float | None:
        """Seconds until the next poll, or None once the code has expired."""
        left = self.deadline - now
        return min(self.interval, left) if left > 0 else None

    def slow_down(self, told: object) -> None:
        self.interval = max(self.interval + SLOW_DOWN_SECONDS, poll_interval(told))

    def answered(self) -> None:
        self.unanswered = None

    def back_off(self, failure: AuthError) -> None:
        self.interval = max(self.interval, min(self.interval * 2, INTERVAL_BOUNDS[1]))
        self.unanswered = failure

    def expired(self, message: str) -> AuthError:
        if self.unanswered is not None:
            what = self.unanswered.message.split(" — ")[0]  # "cannot reach github.com", without its fix
            return AuthError(STEP_DEVICE, f"{what} until the code expired — check your network, then run login "
                             "--device again")
        return AuthError(STEP_DEVICE, message)


def server_name(url: str) -> str:
    """How messages name a server: "GitHub" for github.com, else its host, so that an error from
    a GitHub Enterprise Server or another authorization server is not blamed on github.com."""
    host = host_of(url)  # the normal form: GitHub.com:443 is github.com too
    return "GitHub" if host in ("github.com", "api.github.com") else host


class NoAnswer(AuthError):
    """A request that got no complete answer (no connection, a timeout, an answer cut short): worth
    trying again later, unlike an answer that says no."""


class TokenEndpointError(AuthError):
    """The server answered with an `error` code (kept in `.code`, and the whole answer in `.fields`,
    for callers to test: the device flow reads a new `interval` from a `slow_down`)."""

    def __init__(self, step: str, server: str, code: str, fix: str, fields: dict[str, object]) -> None:
        super().__init__(step, f"{server} says {code}: {fix}")
        self.server = server
        self.code = code
        self.fields = fields


def token_endpoint_error(fields: dict[str, object], step: str, server: str) -> TokenEndpointError:
    code = safe_text(fields.get("error"), 60)
    fix = TOKEN_ERROR_FIXES.get(code)
    if fix is None:
        description = safe_text(fields.get("error_description"), 160)
        fix = f"{description} — check the settings in .env and try again" if description else "try again"
    return TokenEndpointError(step, server, code, fix, fields)


def read_token_endpoint_answer(response: requests.Response, step: str) -> dict[str, object]:
    """Read a token answer, success or error, whatever the dialect.

    GitHub answers form-encoded unless asked for JSON and reports errors with HTTP 200; servers
    that follow RFC 6749 §5.2 (Gitea, Authlib) report them with HTTP 400 or 401 and JSON.
    """
    host = urlsplit(response.url).netloc
    content_type = safe_text(response.headers.get("Content-Type", ""), 100).split(";")[0].strip().lower()
    fields: object = None
    if content_type == "application/json":
        try:
            fields = response.json()
        except ValueError:
            pass
    elif content_type == "application/x-www-form-urlencoded":
        fields = {name: values[0] for name, values in parse_qs(response.text).items()}
    if not isinstance(fields, dict):
        raise AuthError(step, f"{host} answered HTTP {response.status_code} ({content_type or 'no content type'}) "
                        "without a usable token answer — check GITHUB_SERVER_URL (a proxy or a captive portal "
                        "may be in the way) and try again")
    # Never trust the status code alone: the body decides (GitHub sends errors with 200).
    if "error" in fields:
        raise token_endpoint_error(fields, step, server_name(response.url))
    if response.status_code >= 400:
        raise AuthError(step, f"{host} answered HTTP {response.status_code} — the server or a proxy is having "
                        "trouble; try again later")
    return fields


def what_went_wrong(error: requests.RequestException, host: str) -> tuple[str, str]:
    """For a request that got no complete answer: what happened, and the usual fix."""
    if isinstance(error, requests.Timeout):
        return f"{host} did not answer in time", "check your network and try again"
    if isinstance(error, requests.ConnectionError):
        if is_loopback_host(urlsplit(f"//{host}").hostname or ""):  # this machine: nothing listens there
            return f"cannot reach {host}", "start the server there (the stand-in: python local_github.py)"
        return f"cannot reach {host}", "check your network and the URL settings (GITHUB_SERVER_URL)"
    return f"the answer from {host} broke off halfway", "try again"


def network_failure(error: requests.RequestException, host: str, step: str, fix: str | None = None) -> NoAnswer:
    """One line for a request that got no complete answer: what happened and what to do."""
    what, usual_fix = what_went_wrong(error, host)
    return NoAnswer(step, f"{what} — {fix or usual_fix}")


def basic_authorization(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: HTTP Basic, with the client ID and secret each form-url-encoded first (Appendix B),
    so that a ":" or "%" in either cannot be misread."""
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def client_authentication(config: OAuthConfig, with_secret: bool = True) -> tuple[dict[str, str], dict[str, str]]:
    """The app's credentials for the authorization server, as form fields and headers: HTTP Basic when
    the server's metadata lists only that (servers MUST take it, RFC 6749 §2.3.1), else the form body,
    as GitHub takes them. Without the secret (the device flow), the client ID alone names the app."""
    if not with_secret:
        return {"client_id": config.client_id}, {}
    if config.server.takes_basic_only:
        return {}, {"Authorization": basic_authorization(config.client_id, config.client_secret)}
    return {"client_id": config.client_id, "client_secret": config.client_secret}, {}


def post_to_token_endpoint(config: OAuthConfig, form: dict[str, str], step: str,
                           with_secret: bool = True) -> dict[str, object]:
    """POST to the token endpoint, the one request that carries the client secret (the device
    flow's polls carry none: `with_secret=False`)."""
    credentials, headers = client_authentication(config, with_secret)
    return post_form(config.token_url, {**credentials, **form}, step, headers)


def post_form(url: str, form: dict[str, str], step: str, headers: dict[str, str] | None = None) -> dict[str, object]:
    """POST a form to one of the authorization server's endpoints and read its answer."""
    host = urlsplit(url).netloc
    try:
        response = requests.post(
            url,
            data=form,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
            timeout=HTTP_TIMEOUT_SECONDS,
            # A redirect could carry the secret and the code to another host (307 keeps the body).
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise network_failure(error, host, step) from error
    if response.is_redirect:
        raise AuthError(step, f"{host} redirected the token request elsewhere — check GITHUB_SERVER_URL")
    return read_token_endpoint_answer(response, step)


def token_from_fields(config: OAuthConfig, fields: dict[str, object], step: str) -> Token:
    """The token, with the app and the endpoints it came from: a refresh and a revocation use them."""
    try:
        token = Token.from_token_response(fields, issuer=config.server_url, resource=config.api_url)
    except ValueError as error:
        raise AuthError(step, f"the answer from {config.server_url} is not usable ({error}) — try again") from error
    return token._replace(client_id=config.client_id or None, client_secret=config.client_secret or None,
                          endpoints=config.endpoints)
