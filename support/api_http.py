"""The REST API's plumbing: headers, bounded retries, failure messages and token variables.

Step 3 makes the calls and decides where the token goes; this module knows how GitHub's REST API
answers: a 5xx that passes on retry, a short `Retry-After` worth waiting for once, rate limits
that say when they reset, 404 for what a token may not see, and the scopes a token has in the
`X-OAuth-Scopes` header. Every request has a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from support.errors import STEP_API, STEP_CONFIG, AuthError, TokenRefused, safe_text
from support.http import requests
from support.settings import DEFAULT_PORTS, OAuthConfig, check_app_settings, hostname_of, is_github_com
from support.token import Token, is_token_text, parse_scope_list
from support.token_endpoint import HTTP_TIMEOUT_SECONDS, USER_AGENT, network_failure, server_name, what_went_wrong

# Pin the API version so a new default cannot change the fields under us (GitHub's REST versioning:
# https://docs.github.com/en/rest/about-the-rest-api/api-versions).
API_VERSION = "2026-03-10"
API_ACCEPT = "application/vnd.github+json"
SERVER_ERROR_RETRIES = 2  # a GET is safe to repeat; a 502 from a proxy often passes
RETRY_BACKOFF_SECONDS = 1.0  # doubled on each retry
SHORT_RETRY_AFTER_SECONDS = 10  # wait and retry once when GitHub asks for at most this long
# Variables that override the saved login, in gh's order of preference: the first pair for
# github.com, the second for any other host (GitHub Enterprise Server), so a token is never
# offered to a host it was not meant for.
TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN")
ENTERPRISE_TOKEN_VARIABLES = ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")


class TokenSource(NamedTuple):
    token: Token
    description: str  # where it came from, for status lines
    variable: str | None = None  # GH_TOKEN or another variable when one overrides the saved login


class Page(NamedTuple):
    payload: object
    links: dict[str, dict[str, str]]  # as requests' response.links: {"next": {"url": ...}, ...}


class Total(NamedTuple):
    """How many items a paged list holds, for "30 of N": exactly, or at least `count`."""

    count: int
    exact: bool


def token_variable_in_use(environ: Mapping[str, str], server_url: str) -> str | None:
    """The variable whose token overrides the saved login for this server, if one is set."""
    variables = TOKEN_VARIABLES if is_github_com(server_url) else ENTERPRISE_TOKEN_VARIABLES
    return next((variable for variable in variables if environ.get(variable, "").strip()), None)


def token_from_variable(environ: Mapping[str, str], variable: str, server_url: str, api_url: str) -> TokenSource:
    """The token a variable holds, for this server and its API only; refused (and never shown) if it
    holds what no token has."""
    value = environ[variable].strip()
    if not is_token_text(value):
        raise AuthError(STEP_CONFIG, f"{variable} holds characters no token has (a line break, a space or a letter "
                        f"outside ASCII), so it is not sent — set {variable} to the token alone")
    token = Token(access_token=value, issuer=server_url, resource=api_url)
    return TokenSource(token, f"the {variable} environment variable", variable)


def sendable(access_token: str) -> str:
    """The token, once it is sure to fit in a header: the HTTP library would otherwise refuse it with
    an error that quotes the whole header, token and all (RFC 6750 §2.1: visible ASCII only)."""
    if not is_token_text(access_token):
        raise AuthError(STEP_API, "the access token holds characters no token has, so it is not sent — "
                        "run login again")
    return access_token


def misplaced_token_variable(environ: Mapping[str, str], server_url: str) -> str | None:
    """A token variable that is set but meant for the other kind of host (GH_TOKEN while on GitHub Enterprise
    Server, GH_ENTERPRISE_TOKEN while on github.com): never used there, and worth naming."""
    variables = ENTERPRISE_TOKEN_VARIABLES if is_github_com(server_url) else TOKEN_VARIABLES
    return next((variable for variable in variables if environ.get(variable, "").strip()), None)


def check_app_settings_unless_a_variable(config: OAuthConfig, environ: Mapping[str, str],
                                         always: bool = False) -> None:
    """Reading the API with a token variable needs no OAuth app, as with gh, whatever .env holds; without one
    (or `always`, for what only the app may do, such as revoking), the app's settings must be filled in."""
    if token_variable_in_use(environ, config.server_url) and not always:
        return
    try:
        check_app_settings(config)
    except AuthError as error:
        misplaced = misplaced_token_variable(environ, config.server_url)
        if misplaced is None or token_variable_in_use(environ, config.server_url):
            raise
        meant, where = (ENTERPRISE_TOKEN_VARIABLES[0], "other hosts") if misplaced in TOKEN_VARIABLES \
            else (TOKEN_VARIABLES[0], "github.com")
        raise AuthError(STEP_CONFIG, f"{misplaced} is set, but it is not for {hostname_of(config.server_url)} (as with "
                        f"gh, {meant} is the variable for {where}) — put the token in {meant} instead, or fill in "
                        "the OAuth app's settings in .env to log in") from error


def bad_token_fix(variable: str | None) -> str:
    """What to do about a token the API refuses: with a token variable set, logging in cannot help."""
    if variable is None:
        return "run login again"
    return f"it comes from {variable}, which overrides the saved login: unset {variable} or give it a valid token"


def origin_of(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: what must match before a credential may be sent to a URL."""
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme)


def api_headers() -> dict[str, str]:
    return {"Accept": API_ACCEPT, "X-GitHub-Api-Version": API_VERSION, "User-Agent": USER_AGENT}


def api_session(auth: Callable[[requests.PreparedRequest], requests.PreparedRequest]) -> requests.Session:
    """One session for a whole run: one TCP connection, GitHub's headers, and `auth` on every request."""
    session = requests.Session()
    session.headers.update(api_headers())
    session.auth = auth
    return session


def links_of(header: str) -> dict[str, dict[str, str]]:
    """A Link header as requests' `response.links` has it."""
    return {link["rel"]: link for link in requests.utils.parse_header_links(header) if "rel" in link}


def full_url(url: str, params: dict[str, object] | None) -> str:
    """The URL a GET with these parameters asks for, query included."""
    return requests.Request("GET", url, params=params).prepare().url or url


def scopes_granted(response: requests.Response) -> tuple[str, ...] | None:
    """The scopes GitHub says the token has (`X-OAuth-Scopes`), or None when it does not say."""
    if "X-OAuth-Scopes" not in response.headers:
        return None
    return parse_scope_list(response.headers["X-OAuth-Scopes"])


def get_with_retries(session: requests.Session, url: str, params: dict[str, object] | None,
                     headers: dict[str, str] | None, sleep: Callable[[float], None],
                     bad_token_fix: str) -> requests.Response:
    """GET with bounded retries: server errors back off, a short Retry-After is honoured once.
    A failure that remains is one AuthError that says what to do."""
    host = urlsplit(url).netloc
    server_errors, waited = 0, False
    while True:
        try:
            response = session.get(url, params=params, headers=headers, timeout=HTTP_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise network_failure(error, host, STEP_API) from error
        if response.status_code >= 500 and server_errors < SERVER_ERROR_RETRIES:
            sleep(RETRY_BACKOFF_SECONDS * 2 ** server_errors)
            server_errors += 1
            continue
        wait = seconds_to_wait(response) if response.status_code in (403, 429) else None
        if wait is not None and wait <= SHORT_RETRY_AFTER_SECONDS and not waited \
                and response.headers.get("X-RateLimit-Remaining") != "0":
            sleep(wait)
            waited = True
            continue
        break
    if not response.ok:
        raise describe_failure(response, bad_token_fix)
    return response


def delete_as_the_app(url: str, client_id: str, client_secret: str, body: dict[str, str],
                      step: str) -> requests.Response:
    """DELETE with the app's own credentials (HTTP Basic), and the answer.

    A redirect is never followed: it could carry the client secret to another host.
    """
    try:
        return requests.delete(url, auth=(client_id, client_secret), json=body, headers=api_headers(),
                               timeout=HTTP_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as error:
        raise AuthError(step, what_went_wrong(error, urlsplit(url).netloc)[0]) from error


def repositories_in_all(seen: int, left_on_page: int, links: Mapping[str, Mapping[str, str]]) -> Total | None:
    """How many items a list holds when it was cut after `seen` with `left_on_page` more on this page, or
    None when nothing is left. Exact on the last page; otherwise at least what the `Link` header's last
    page implies, full pages before it (GitHub leaves `last` out when it cannot count)."""
    if "next" not in links:
        return Total(seen + left_on_page, exact=True) if left_on_page else None
    last = parse_qs(urlsplit(links.get("last", {}).get("url", "")).query)
    try:
        at_least = (int(last["page"][0]) - 1) * int(last["per_page"][0]) + 1
    except (KeyError, ValueError):
        at_least = 0
    return Total(max(at_least, seen + left_on_page + 1), exact=False)


def json_payload(response: requests.Response) -> object:
    try:
        return response.json()
    except ValueError:
        content_type = safe_text(response.headers.get("Content-Type"), 60) or "no content type"
        raise AuthError(STEP_API, f"{urlsplit(response.url).netloc} answered HTTP {response.status_code} "
                        f"({content_type}) with something that is not usable JSON — check GITHUB_API_URL (a proxy "
                        "may be in the way)") from None


def local_time(epoch_seconds: str | None) -> str:
    try:
        return datetime.fromtimestamp(int(epoch_seconds or "")).strftime("%H:%M:%S")
    except (ValueError, OverflowError, OSError):
        return "a time the server did not say"


def seconds_to_wait(response: requests.Response) -> int | None:
    try:
        return max(int(response.headers.get("Retry-After", "")), 0)
    except ValueError:
        return None


def describe_failure(response: requests.Response, bad_token_fix: str = "run login again") -> AuthError:
    """Turn a failed API answer into one line that says what to do."""
    status = response.status_code
    try:
        message = safe_text(response.json().get("message"), 160)
    except (ValueError, AttributeError):
        message = ""
    path = safe_text(urlsplit(response.url).path, 200)  # a Link header from the server may have named it
    server = server_name(response.url)  # "GitHub" for github.com; any other server by its host
    wait = seconds_to_wait(response)
    if status == 401:
        return TokenRefused(STEP_API, f"{server} says Bad credentials: the token was revoked or has expired — "
                            f"{bad_token_fix}")
    if status in (403, 429) and response.headers.get("X-RateLimit-Remaining") == "0":
        limit = safe_text(response.headers.get("X-RateLimit-Limit", "?"), 20)
        reset = local_time(response.headers.get("X-RateLimit-Reset"))
        return AuthError(STEP_API, f"the API rate limit ({limit} requests an hour) is used up — it resets at "
                         f"{reset} local time; wait until then")
    if status in (403, 429) and wait is not None:
        return AuthError(STEP_API, f"{server} asks to slow down (secondary rate limit) — try again in {wait} s, "
                         f"at {local_time(str(int(time.time()) + wait))}")
    if status == 403:
        needed = safe_text(response.headers.get("X-Accepted-OAuth-Scopes"), 100) or "a scope the token lacks"
        return AuthError(STEP_API, f"{server} says {message or 'Forbidden'} for {path} — this needs {needed}; "
                         "log in again asking for it")
    if status == 404:
        return AuthError(STEP_API, f"{server} says Not Found for {path} — it does not exist, or the token cannot "
                         "see it (GitHub answers 404 for private things a token may not read): check the scopes")
    if status >= 500:
        status_page = " (https://www.githubstatus.com)" if server == "GitHub" else ""
        return AuthError(STEP_API, f"{server} answered HTTP {status} for {path}, even after retrying — the server "
                         f"or a proxy is having trouble; try again later{status_page}")
    return AuthError(STEP_API, f"{server} answered HTTP {status} for {path}: {message or 'no message'}")
