"""Step 3 of the chapter: call the GitHub REST API with the token, and never show the token.

Run:  python 3_github_request.py [--limit 10] [--visibility all|public|private]
Needs: a token saved by step 2 (or GH_TOKEN for github.com, GH_ENTERPRISE_TOKEN for another
host), and the same settings as step 2.
Watch for: the token travels only in the Authorization header, only to the API host it was
issued for, and is never printed; pages are followed through GitHub's `Link` header, never built
by hand. A token that has expired is the next file's subject: token_manager.py refreshes it.
Retries, failure messages and the ETag cache are plumbing: support/api_http.py, page_cache.py.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from support.api_http import (Page, TokenSource, Total, api_session, bad_token_fix,
                              check_app_settings_unless_a_variable, full_url, get_with_retries, json_payload, origin_of,
                              repositories_in_all, scopes_granted, sendable, token_from_variable, token_variable_in_use)
from support.cli import parse_arguments, positive_whole_number, run_step_script
from support.errors import STEP_API, STEP_STORE, AuthError, NotLoggedIn, mask, safe_text
from support.output import repositories_heading, who_you_are
from support.page_cache import PageCache
from support.settings import OAuthConfig, load_config
from support.token import Token
from support.token_store import TokenStore

if TYPE_CHECKING:
    import requests

MAX_PER_PAGE = 100  # GitHub's maximum: fewer round trips
PRIVATE_REPO_SCOPE = "repo"  # the scope that lets a token see private repositories


class BearerAuth:
    """Send the token as `Authorization: Bearer …` (RFC 6750 §2.1), and only to its own API.

    A `Link` header or a misconfigured proxy could point a request elsewhere; the token stays
    home. (requests already drops the header when a redirect leaves the host.)
    """

    def __init__(self, access_token: str, api_url: str) -> None:
        self._access_token = sendable(access_token)  # checked before any header is built from it
        self._origin = origin_of(api_url)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if origin_of(request.url or "") == self._origin:
            request.headers["Authorization"] = f"Bearer {self._access_token}"
        return request

    def __repr__(self) -> str:
        return f"BearerAuth({mask(self._access_token)})"


def load_token(config: OAuthConfig, store: TokenStore, environ: Mapping[str, str] | None = None) -> TokenSource:
    """The token to use: a token variable if one is set for this host, else the one step 2 saved."""
    environ = os.environ if environ is None else environ
    # GH_TOKEN is for github.com and GH_ENTERPRISE_TOKEN for other hosts only, as with gh.
    variable = token_variable_in_use(environ, config.server_url)
    if variable:
        return token_from_variable(environ, variable, config.server_url, config.api_url)  # bound to this server's API
    saved = store.load()
    if saved is None:
        raise NotLoggedIn(STEP_STORE, "you are not logged in — run: python dev_github_tool.py login")
    # A token is bound to the API it was issued for: changed settings never send it to another host.
    if (saved.issuer, saved.resource) != (config.server_url, config.api_url):
        raise AuthError(STEP_API, f"the saved token was issued for {saved.resource}, but GITHUB_API_URL is now "
                        f"{config.api_url}; a token is never sent to another host — run login again")
    return TokenSource(saved, str(store.path))


class GitHubClient:
    """One requests.Session for the whole run: one TCP connection, the same headers every time."""

    def __init__(self, config: OAuthConfig, token: Token, sleep: Callable[[float], None] = time.sleep,
                 variable: str | None = None, cache: PageCache | None = None) -> None:
        self.api_url = config.api_url
        self.bad_token_fix = bad_token_fix(variable)
        self.session = api_session(auth=BearerAuth(token.access_token, config.api_url))
        self.sleep = sleep
        self.granted_scopes: tuple[str, ...] | None = None  # from X-OAuth-Scopes; None if not sent
        self.more_repositories: Total | None = None  # how many in all, when list_repositories stopped short
        self.cache = cache

    def close(self) -> None:
        self.session.close()

    def get(self, url: str, params: dict[str, object] | None = None,
            headers: dict[str, str] | None = None) -> requests.Response:
        response = get_with_retries(self.session, url, params, headers, self.sleep, self.bad_token_fix)
        granted = scopes_granted(response)
        if granted is not None:
            self.granted_scopes = granted
        return response

    def get_page(self, url: str, params: dict[str, object] | None = None) -> Page:
        """GET one page of JSON. A page seen before is asked for with its ETag: GitHub's answer
        304 Not Modified costs no rate limit, and the copy kept from last time serves."""
        cached = self.cache.get(full_url(url, params)) if self.cache else None
        response = self.get(url, params, {"If-None-Match": cached.etag} if cached else None)
        if response.status_code == 304 and cached:
            return cached.as_page(url)
        page = Page(json_payload(response), response.links)
        if self.cache:
            self.cache.keep(response)
        return page

    def get_user(self) -> dict[str, object]:
        user = self.get_page(f"{self.api_url}/user").payload
        if not isinstance(user, dict) or not isinstance(user.get("login"), str):
            raise AuthError(STEP_API, "the answer for /user has no login — check GITHUB_API_URL")
        return user

    def lacks_private_scope(self) -> bool:
        """True when GitHub said which scopes the token has, and `repo` is not among them."""
        return self.granted_scopes is not None and PRIVATE_REPO_SCOPE not in self.granted_scopes

    def list_repositories(self, limit: int | None = None, visibility: str | None = None,
                          sort: str | None = None) -> Iterator[dict[str, object]]:
        """Your repositories, page by page, following GitHub's `Link: rel="next"` until done or `limit`."""
        # The same page size and parameters whatever the limit: the same URL every time is what
        # lets a page be answered 304 from the cache.
        params: dict[str, object] | None = {"per_page": MAX_PER_PAGE}
        if visibility:
            params["visibility"] = visibility
        if sort:
            params["sort"] = sort
        url: str | None = f"{self.api_url}/user/repos"
        count = 0
        while url:
            payload, links = self.get_page(url, params)
            if visibility == "private" and self.lacks_private_scope():
                raise AuthError(STEP_API, f"private repositories need the {PRIVATE_REPO_SCOPE} scope, and this "
                                f"token has only: {', '.join(self.granted_scopes or ()) or 'no scopes'} — log in "
                                f"again asking for it (login --scope \"read:user {PRIVATE_REPO_SCOPE}\")")
            if not isinstance(payload, list):
                raise AuthError(STEP_API, "the answer for /user/repos is not a list — check GITHUB_API_URL")
            for index, repo in enumerate(payload):
                yield repo
                count += 1
                if limit is not None and count >= limit:
                    self.more_repositories = repositories_in_all(count, len(payload) - index - 1, links)
                    return
            # The next link already carries every parameter; build no page URLs by hand.
            url, params = links.get("next", {}).get("url"), None


def show_who_and_repositories(limit: int, visibility: str | None) -> None:
    config = load_config(require_secret=False, require_client_id=False)
    check_app_settings_unless_a_variable(config, os.environ)  # GH_TOKEN alone needs no OAuth app, as with gh
    source = load_token(config, TokenStore(issuer=config.server_url))
    if source.token.is_expired():
        raise AuthError(STEP_API, "the access token has expired — python token_manager.py --refresh trades the "
                        "refresh token for a new one (the next step), or run login again")
    print(f"Using the token from {source.description} ({mask(source.token.access_token)}).")
    client = GitHubClient(config, source.token, variable=source.variable)
    user = client.get_user()
    print(who_you_are(user))  # the server's words, made safe for the terminal
    repos = list(client.list_repositories(limit=limit, visibility=visibility))
    print(repositories_heading(len(repos), client.more_repositories))
    for repo in repos:
        print(f"  {safe_text(repo.get('full_name'), 100)}{'  (private)' if repo.get('private') else ''}")
    if client.lacks_private_scope():
        print(f"(Public repositories only: the token has no {PRIVATE_REPO_SCOPE} scope.)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Step 3: who am I, and my first repositories.")
    parser.add_argument("--limit", type=positive_whole_number, default=10, help="how many repositories (default 10)")
    parser.add_argument("--visibility", choices=("all", "public", "private"), help="which ones (default all)")
    args = parse_arguments(parser, argv)
    return run_step_script("3_github_request.py", lambda: show_who_and_repositories(args.limit, args.visibility))


if __name__ == "__main__":
    raise SystemExit(main())
