"""Step 3 of the chapter: call the GitHub REST API with the token, and keep the token alive.

Run:  python 3_github_request.py [--limit 10] [--visibility all|public|private]
Needs: a token saved by step 2 (or GH_TOKEN for github.com, GH_ENTERPRISE_TOKEN for another
host), and the same settings as step 2.
Watch for: the token travels only in the Authorization header, only to the API host it was
issued for, and is never printed; an expiring token is refreshed first (token_manager.py); each
page's ETag is kept, so asking again is a 304 that costs no rate limit; every failure says what
to do, from "Bad credentials" to rate limits. It imports neither step 1 nor
step 2: the settings (oauth_config.py) and the token endpoint's client (token_endpoint.py) are
all it needs, so `status` and `repos` start without a callback server or a browser module.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

try:
    import requests
except ModuleNotFoundError as missing:  # a fresh checkout, before `pip install -r requirements.txt`
    raise SystemExit(f"{missing.name} is not installed — run: pip install -r requirements.txt") from None

from oauth_config import OAuthConfig, check_client_id, load_config
from token_endpoint import (
    HTTP_TIMEOUT_SECONDS,
    USER_AGENT,
    TokenEndpointError,
    network_failure,
    post_to_token_endpoint,
    server_name,
    token_from_fields,
    what_went_wrong,
)
from token_manager import (
    STEP_REFRESH,
    STEP_REVOKE,
    STEP_STORE,
    AuthError,
    NotLoggedIn,
    RefreshRejected,
    Token,
    TokenManager,
    TokenStore,
    as_told_by_a_step_script,
    mask,
    safe_text,
)


log = logging.getLogger("dev_github_tool")

STEP_API = "step 3 (API request)"
# Pin the API version so a new default cannot change the fields under us (GitHub's REST versioning).
API_VERSION = "2026-03-10"
API_ACCEPT = "application/vnd.github+json"
MAX_PER_PAGE = 100  # GitHub's maximum: fewer round trips
CACHE_FOLDER_NAME = "cache"  # beside the token file: pages and their ETags, never a token
SERVER_ERROR_RETRIES = 2  # a GET is safe to repeat; a 502 from a proxy often passes
RETRY_BACKOFF_SECONDS = 1.0  # doubled on each retry
SHORT_RETRY_AFTER_SECONDS = 10  # wait and retry once when GitHub asks for at most this long
PRIVATE_REPO_SCOPE = "repo"
# Variables that override the saved login, in gh's order of preference: the first pair for
# github.com, the second for any other host (GitHub Enterprise Server), so a token is never
# offered to a host it was not meant for.
TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN")
ENTERPRISE_TOKEN_VARIABLES = ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")
GITHUB_COM = "https://github.com"


def origin_of(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme)


class BearerAuth(requests.auth.AuthBase):
    """Send the token as `Authorization: Bearer …`, and only to the API it was issued for.

    A `Link` header or a misconfigured proxy could point a request elsewhere; the token stays
    home. (requests already drops the header when a redirect leaves the host.)
    """

    def __init__(self, access_token: str, api_url: str) -> None:
        self._access_token = access_token
        self._origin = origin_of(api_url)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if origin_of(request.url or "") == self._origin:
            request.headers["Authorization"] = f"Bearer {self._access_token}"
        return request

    def __repr__(self) -> str:
        return f"BearerAuth({mask(self._access_token)})"


class TokenSource(NamedTuple):
    token: Token
    description: str  # where it came from, for status lines
    variable: str | None = None  # GH_TOKEN or GITHUB_TOKEN when one of them overrides the saved login


def refresh_github_token(config: OAuthConfig) -> Callable[[Token], Token]:
    """GitHub's side of token_manager's refresh hook: grant_type=refresh_token at the token endpoint."""

    def refresh(old: Token) -> Token:
        if old.issuer != config.server_url:
            raise AuthError(STEP_REFRESH, f"the token was issued by {old.issuer}, not {config.server_url}; "
                            "its refresh token is not sent elsewhere — run login again")
        # GitHub wants the client secret, "unless the token was generated using the device flow":
        # without one in the settings, try without it, and say what to do if the server insists.
        with_secret = bool(config.client_secret)
        try:
            fields = post_to_token_endpoint(
                config, {"grant_type": "refresh_token", "refresh_token": old.refresh_token or ""}, STEP_REFRESH,
                with_secret=with_secret)
        except TokenEndpointError as error:
            if error.code in ("bad_refresh_token", "invalid_grant"):
                raise RefreshRejected(STEP_REFRESH, f"{error.server} says {error.code}: the refresh token expired, "
                                      "was revoked or was already used") from error
            if not with_secret and error.code in ("incorrect_client_credentials", "invalid_client"):
                raise AuthError(STEP_REFRESH, "GITHUB_CLIENT_SECRET is not set, and the server needs it to "
                                "refresh this token (it came from the browser flow) — put it in .env") from error
            raise
        return token_from_fields(config, fields, STEP_REFRESH)

    return refresh


def revoke_github_token(config: OAuthConfig) -> Callable[[Token], None]:
    """GitHub's side of token_manager's revocation hook (DELETE /applications/{client_id}/token)."""

    def revoke(token: Token) -> None:
        # Each failure says only why the token was not revoked; the caller says where to do it by hand.
        if token.resource != config.api_url:
            raise AuthError(STEP_REVOKE, f"the token belongs to {token.resource}, not {config.api_url}, so it "
                            "was not sent there to be revoked")
        if not config.client_secret:
            raise AuthError(STEP_REVOKE, "revoking needs GITHUB_CLIENT_SECRET, which is not set")
        url = f"{config.api_url}/applications/{config.client_id}/token"
        try:
            response = requests.delete(
                url, auth=(config.client_id, config.client_secret), json={"access_token": token.access_token},
                headers=api_headers(), timeout=HTTP_TIMEOUT_SECONDS, allow_redirects=False)
        except requests.RequestException as error:
            raise AuthError(STEP_REVOKE, what_went_wrong(error, urlsplit(url).netloc)[0]) from error
        # 404 and 422 mean GitHub no longer knows the token: it is as good as revoked.
        if response.status_code not in (204, 404, 422):
            raise AuthError(STEP_REVOKE, f"{server_name(url)} answered HTTP {response.status_code}")

    return revoke


def revocation_page(token: Token) -> str:
    """Where a person revokes a token by hand: the applications page of the server that issued it."""
    return f"{token.issuer}/settings/applications"


def github_token_manager(config: OAuthConfig, store: TokenStore | None = None) -> TokenManager:
    return TokenManager(store or TokenStore(issuer=config.server_url), refresh=refresh_github_token(config),
                        revoke=revoke_github_token(config))


def token_variable_in_use(environ: Mapping[str, str], server_url: str) -> str | None:
    """The variable whose token overrides the saved login for this server, if one is set."""
    variables = TOKEN_VARIABLES if server_url == GITHUB_COM else ENTERPRISE_TOKEN_VARIABLES
    return next((variable for variable in variables if environ.get(variable, "").strip()), None)


def load_token(config: OAuthConfig, manager: TokenManager, environ: Mapping[str, str] | None = None) -> TokenSource:
    """The token to use: GH_TOKEN or GITHUB_TOKEN if set, else the saved one (refreshed if needed)."""
    environ = os.environ if environ is None else environ
    variable = token_variable_in_use(environ, config.server_url)
    if variable:
        token = Token(access_token=environ[variable].strip(), issuer=config.server_url, resource=config.api_url)
        return TokenSource(token, f"the {variable} environment variable", variable)
    saved = manager.store.load()
    if saved is None:
        raise NotLoggedIn(STEP_STORE, "you are not logged in — run: python dev_github_tool.py login")
    # Check before any refresh: the refresh token must not go to another server either.
    if (saved.issuer, saved.resource) != (config.server_url, config.api_url):
        raise AuthError(STEP_API, f"the saved token was issued for {saved.resource}, but GITHUB_API_URL is now "
                        f"{config.api_url}; a token is never sent to another host — run login again")
    return TokenSource(manager.valid_token(), str(manager.store.path))


def links_of(header: str) -> dict[str, dict[str, str]]:
    """A Link header as requests' `response.links` has it."""
    return {link["rel"]: link for link in requests.utils.parse_header_links(header) if "rel" in link}


def api_headers() -> dict[str, str]:
    return {"Accept": API_ACCEPT, "X-GitHub-Api-Version": API_VERSION, "User-Agent": USER_AGENT}


def local_time(epoch_seconds: str | None) -> str:
    try:
        return datetime.fromtimestamp(int(epoch_seconds or "")).strftime("%H:%M:%S")
    except (ValueError, OverflowError, OSError):
        return "a time GitHub did not say"


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
    path = urlsplit(response.url).path
    wait = seconds_to_wait(response)
    if status == 401:
        return AuthError(STEP_API, "GitHub says Bad credentials: the token was revoked or has expired — "
                         f"{bad_token_fix}")
    if status in (403, 429) and response.headers.get("X-RateLimit-Remaining") == "0":
        limit = response.headers.get("X-RateLimit-Limit", "?")
        reset = local_time(response.headers.get("X-RateLimit-Reset"))
        return AuthError(STEP_API, f"the API rate limit ({limit} requests an hour) is used up — it resets at "
                         f"{reset} local time; wait until then")
    if status in (403, 429) and wait is not None:
        return AuthError(STEP_API, f"GitHub asks to slow down (secondary rate limit) — try again in {wait} s, "
                         f"at {local_time(str(int(time.time()) + wait))}")
    if status == 403:
        needed = response.headers.get("X-Accepted-OAuth-Scopes") or "a scope the token lacks"
        return AuthError(STEP_API, f"GitHub says {message or 'Forbidden'} for {path} — this needs {needed}; "
                         "log in again asking for it")
    if status == 404:
        return AuthError(STEP_API, f"GitHub says Not Found for {path} — it does not exist, or the token cannot "
                         "see it (GitHub answers 404 for private things a token may not read): check the scopes")
    if status >= 500:
        return AuthError(STEP_API, f"GitHub answered HTTP {status} for {path}, even after retrying — GitHub or a "
                         "proxy is having trouble; try again later (https://www.githubstatus.com)")
    return AuthError(STEP_API, f"GitHub answered HTTP {status} for {path}: {message or 'no message'}")


class CachedPage(NamedTuple):
    etag: str
    link: str  # the page's Link header: a 304 need not repeat it
    body: str


class Page(NamedTuple):
    payload: object
    links: dict[str, dict[str, str]]  # as requests' response.links: {"next": {"url": ...}, ...}


class PageCache:
    """Each page's ETag, Link header and body, so that asking again costs no rate limit.

    GitHub answers `If-None-Match: <etag>` with 304 Not Modified when nothing changed, and a 304
    to an authorized request does not count against the rate limit (facts §8.8). One private
    folder per host and account (0700, files 0600) under the config folder; it holds only what
    the API answered, never a token.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def for_login(cls, config_folder: Path, host: str, account: str) -> PageCache:
        return cls(config_folder / CACHE_FOLDER_NAME / file_name_for(host) / file_name_for(account))

    @staticmethod
    def forget_host(config_folder: Path, host: str) -> None:
        shutil.rmtree(config_folder / CACHE_FOLDER_NAME / file_name_for(host), ignore_errors=True)

    def _file(self, url: str) -> Path:
        return self.folder / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.json"

    def get(self, url: str) -> CachedPage | None:
        try:
            entry = json.loads(self._file(url).read_text(encoding="utf-8"))
            return CachedPage(entry["etag"], entry["link"], entry["body"]) if entry.get("url") == url else None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # no entry, or a damaged one: ask without If-None-Match

    def put(self, url: str, page: CachedPage) -> None:
        """Best effort: a cache that cannot be written only costs a request next time."""
        temporary = None
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")  # 0600 from the start
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump({"url": url, **page._asdict()}, file)
            os.replace(temporary, self._file(url))
        except OSError:
            log.debug("the page cache in %s could not be written", self.folder, exc_info=True)
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)


def file_name_for(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"


class GitHubClient:
    """One requests.Session for the whole run: one TCP connection, the same headers every time."""

    def __init__(self, config: OAuthConfig, token: Token, sleep: Callable[[float], None] = time.sleep,
                 variable: str | None = None, cache: PageCache | None = None) -> None:
        self.api_url = config.api_url
        # A token from GH_TOKEN / GITHUB_TOKEN: logging in again cannot help while the variable is set.
        self.bad_token_fix = "run login again" if variable is None else (
            f"it comes from {variable}, which overrides the saved login: unset {variable} or give it a valid token")
        self.session = requests.Session()
        self.session.headers.update(api_headers())
        self.session.auth = BearerAuth(token.access_token, config.api_url)
        self.sleep = sleep
        self.granted_scopes: tuple[str, ...] | None = None  # from X-OAuth-Scopes; None if not sent
        self.more_repositories = False  # list_repositories stopped at its limit with more to come
        self.cache = cache

    def close(self) -> None:
        self.session.close()

    def get(self, url: str, params: dict[str, object] | None = None,
            headers: dict[str, str] | None = None) -> requests.Response:
        """GET with bounded retries: server errors back off, a short Retry-After is honoured once."""
        host = urlsplit(url).netloc
        server_errors, waited = 0, False
        while True:
            try:
                response = self.session.get(url, params=params, headers=headers, timeout=HTTP_TIMEOUT_SECONDS)
            except requests.RequestException as error:
                raise network_failure(error, host, STEP_API) from error
            if response.status_code >= 500 and server_errors < SERVER_ERROR_RETRIES:
                self.sleep(RETRY_BACKOFF_SECONDS * 2 ** server_errors)
                server_errors += 1
                continue
            wait = seconds_to_wait(response) if response.status_code in (403, 429) else None
            if wait is not None and wait <= SHORT_RETRY_AFTER_SECONDS and not waited \
                    and response.headers.get("X-RateLimit-Remaining") != "0":
                self.sleep(wait)
                waited = True
                continue
            break
        if not response.ok:
            raise describe_failure(response, self.bad_token_fix)
        if "X-OAuth-Scopes" in response.headers:
            self.granted_scopes = tuple(s.strip() for s in response.headers["X-OAuth-Scopes"].split(",") if s.strip())
        return response

    def get_page(self, url: str, params: dict[str, object] | None = None) -> Page:
        """GET one page of JSON, conditionally when it is cached: a 304 serves the cached page."""
        # The cache knows a page by its full URL, query included; without a cache, nothing to compute.
        cache_key = requests.Request("GET", url, params=params).prepare().url if self.cache else None
        cached = self.cache.get(cache_key) if self.cache and cache_key else None
        response = self.get(url, params, {"If-None-Match": cached.etag} if cached else None)
        if response.status_code == 304 and cached:
            log.debug("%s: 304 Not Modified, the cached page was used (no rate limit spent)", urlsplit(url).path)
            return Page(json.loads(cached.body), links_of(cached.link))
        try:
            payload = response.json()
        except ValueError:
            content_type = response.headers.get("Content-Type", "no content type")
            raise AuthError(STEP_API, f"{urlsplit(url).netloc} answered HTTP {response.status_code} ({content_type}) "
                            "with something that is not usable JSON — check GITHUB_API_URL (a proxy may be in "
                            "the way)") from None
        if self.cache and cache_key and response.headers.get("ETag"):
            self.cache.put(cache_key, CachedPage(response.headers["ETag"], response.headers.get("Link", ""),
                                                response.text))
        return Page(payload, response.links)

    def get_user(self) -> dict[str, object]:
        user = self.get_page(f"{self.api_url}/user").payload
        if not isinstance(user, dict) or not isinstance(user.get("login"), str):
            raise AuthError(STEP_API, "GitHub's answer for /user has no login — check GITHUB_API_URL")
        return user

    def lacks_private_scope(self) -> bool:
        """True when GitHub said which scopes the token has, and `repo` is not among them."""
        return self.granted_scopes is not None and PRIVATE_REPO_SCOPE not in self.granted_scopes

    def list_repositories(self, limit: int | None = None, visibility: str | None = None,
                          sort: str | None = None) -> Iterator[dict[str, object]]:
        """Your repositories, page by page, following GitHub's `Link: rel="next"` until done or `limit`."""
        # Always the same page size, sort and parameters, whatever the limit: the same URL every time
        # is what lets a page be answered 304 from the cache ("make requests that can be cached").
        params: dict[str, object] | None = {"per_page": MAX_PER_PAGE}
        if visibility:
            params["visibility"] = visibility
        if sort:
            params["sort"] = sort
        url: str | None = f"{self.api_url}/user/repos"
        count = 0
        while url:
            page, links = self.get_page(url, params)
            if visibility == "private" and self.lacks_private_scope():
                raise AuthError(STEP_API, f"private repositories need the {PRIVATE_REPO_SCOPE} scope, and this "
                                f"token has only: {', '.join(self.granted_scopes or ()) or 'no scopes'} — log in "
                                f"again asking for it (login --scope \"read:user {PRIVATE_REPO_SCOPE}\")")
            if not isinstance(page, list):
                raise AuthError(STEP_API, "GitHub's answer for /user/repos is not a list — check GITHUB_API_URL")
            for index, repo in enumerate(page):
                yield repo
                count += 1
                if limit is not None and count >= limit:
                    self.more_repositories = index + 1 < len(page) or "next" in links
                    return
            # The next link already carries every parameter; build no page URLs by hand.
            url, params = links.get("next", {}).get("url"), None


def positive_whole_number(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)


def repositories_heading(count: int, more: bool) -> str:
    if count == 0:
        return "You have no repositories this token can see."
    noun = "repository" if count == 1 else "repositories"
    return f"Your first {count} {noun} (--limit shows more):" if more else f"Your {noun} ({count}):"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Step 3: who am I, and my first repositories.")
    parser.add_argument("--limit", type=positive_whole_number, default=10, help="how many repositories (default 10)")
    parser.add_argument("--visibility", choices=("all", "public", "private"), help="which ones (default all)")
    args = parser.parse_args(argv)
    try:
        config = load_config(require_secret=False, require_client_id=False)
        if token_variable_in_use(os.environ, config.server_url) is None:
            check_client_id(config)
        source = load_token(config, github_token_manager(config))
        print(f"Using the token from {source.description} ({mask(source.token.access_token)}).")
        client = GitHubClient(config, source.token, variable=source.variable)
        user = client.get_user()
        print(f"You are {user['login']}" + (f" ({safe_text(user.get('name'), 80)})" if user.get("name") else "") + ".")
        repos = list(client.list_repositories(limit=args.limit, visibility=args.visibility))
        print(repositories_heading(len(repos), client.more_repositories))
        for repo in repos:
            print(f"  {safe_text(repo.get('full_name'), 100)}{'  (private)' if repo.get('private') else ''}")
        if client.lacks_private_scope():
            print(f"(Public repositories only: the token has no {PRIVATE_REPO_SCOPE} scope.)")
        sys.stdout.flush()
    except AuthError as error:
        print(as_told_by_a_step_script(error, "3_github_request.py"), file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Piped into `head`, which has read enough: stop quietly (the recipe in Python's signal docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
