"""The stand-in's REST API: the slice of https://api.github.com the chapter uses, under /api/v3.

GET /user and GET /user/repos (with `Link` paging, `ETag` and 304, rate-limit and scope headers),
and DELETE/POST /applications/{client_id}/token (revoke or check a token, with Basic auth).
It answers as GitHub does: 401 "Bad credentials", 403 HTML without a User-Agent, 400 for an
unknown API version, 404 for a trailing slash.

Use:  stand_in/server.py mixes ApiState into LocalGitHub and RestApiEndpoints into its request
handler; `repositories()` also gives tests/helpers/authlib_server.py the same data.
Watch for: a 304 to a matching `If-None-Match` costs no rate limit ("Use conditional requests" in
https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api); without
the `repo` scope a token sees public repositories only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from email.utils import formatdate
from urllib.parse import urlencode

from stand_in.oauth import DOCS, Grant, TokenAuthority
from stand_in.settings import Settings

API_PREFIX = "/api/v3"  # GitHub Enterprise Server's layout: the API lives under the same host
DEFAULT_PER_PAGE, MAX_PER_PAGE = 30, 100
KNOWN_API_VERSIONS = ("2022-11-28", "2026-03-10")
NO_USER_AGENT_PAGE = ("Request forbidden by administrative rules. "
                      "Please make sure your request has a User-Agent header.")
USER_ID = 583231


def user_profile(settings: Settings, api_url: str, grant: Grant) -> dict[str, object]:
    login = settings.login
    public_repos = len(repositories(settings, api_url, include_private=False))
    user: dict[str, object] = {
        "login": login, "id": USER_ID, "node_id": "MDQ6VXNlcjU4MzIzMQ==", "type": "User",
        "html_url": f"https://github.com/{login}", "url": f"{api_url}/users/{login}",
        "name": "The Octocat", "company": None, "blog": "", "location": None, "email": None,
        "bio": None, "public_repos": public_repos, "followers": 0, "following": 0, "site_admin": False,
        "created_at": "2011-01-25T18:44:36Z", "updated_at": "2026-11-01T12:00:00Z",
    }
    if "user" in grant.scopes:  # private profile fields need the user scope
        user.update(total_private_repos=settings.repo_count - public_repos, two_factor_authentication=True)
    return user


def repositories(settings: Settings, api_url: str, include_private: bool) -> list[dict[str, object]]:
    login = settings.login
    repos = []
    for number in range(1, settings.repo_count + 1):
        private = number % 3 == 0
        if private and not include_private:
            continue
        name = f"project-{number:03d}"
        month, day = (number % 12) + 1, (number % 28) + 1
        repos.append({
            "id": 1000 + number, "name": name, "full_name": f"{login}/{name}", "private": private,
            "visibility": "private" if private else "public", "owner": {"login": login, "id": USER_ID},
            "html_url": f"https://github.com/{login}/{name}",
            "description": f"Example repository number {number}" if number % 4 else None,
            "fork": False, "url": f"{api_url}/repos/{login}/{name}",
            "stargazers_count": (number * 7) % 50, "language": "Python", "default_branch": "main",
            "created_at": f"2025-01-{day:02d}T10:00:00Z",
            "updated_at": f"2026-{month:02d}-{day:02d}T10:00:00Z",
            "pushed_at": f"2026-{month:02d}-{day:02d}T10:00:00Z",
            **settings.repo_fields,
        })
    return repos


class ApiState(TokenAuthority):
    """The REST API's share of the stand-in's state, beside the tokens. LocalGitHub sets it."""

    api_url: str  # the stand-in's url + API_PREFIX
    rate_remaining: int  # what is left of Settings.rate_limit


class RestApiEndpoints:
    """The handler's REST API pages, mixed into the stand-in's request handler."""

    github: ApiState  # the stand-in: LocalGitHub

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
        if grant is None and authorization:
            self.api_error(401, "Bad credentials")
            return
        if method == "GET" and path == "/rate_limit":  # answered with or without a token, as GitHub does
            self.rate_limit_status(grant)  # "Accessing this endpoint does not count against your REST API rate limit."
            return
        if grant is None:
            self.api_error(401, "Requires authentication")
            return
        if method == "GET" and path == "/user":
            payload, extra = user_profile(github.settings, github.api_url, grant), {"X-Accepted-OAuth-Scopes": ""}
        elif method == "GET" and path == "/user/repos":
            try:
                payload, extra = self.repositories_page(grant, query)
            except ValueError:
                self.api_error(422, "Validation Failed")
                return
            extra["X-Accepted-OAuth-Scopes"] = "repo"
        else:
            self.api_error(404, "Not Found")  # also what a trailing slash gets on GitHub
            return
        etag = f'W/"{hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:32]}"'
        # "Making a conditional request does not count against your primary rate limit if a 304
        # response is returned and the request was made while correctly authorized."
        not_modified = self.headers.get("If-None-Match") == etag
        with github.lock:
            limited = github.rate_remaining <= 0 and not not_modified
            if not_modified:
                github.counters.not_modified += 1
            elif not limited:
                github.rate_remaining -= 1
            remaining = github.rate_remaining
        headers = {
            "X-OAuth-Scopes": ", ".join(grant.scopes),
            "X-RateLimit-Limit": str(github.settings.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Used": str(github.settings.rate_limit - remaining),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Api-Version-Selected": version or KNOWN_API_VERSIONS[0],
            "Date": formatdate(time.time() + github.settings.clock_skew_seconds, usegmt=True),
            "ETag": etag, "Cache-Control": "private, max-age=60, s-maxage=60",
            "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
        }
        if limited:
            self.api_error(403, f"API rate limit exceeded for user ID {USER_ID}.", headers)
        elif not_modified:
            self.send(304, "", "application/json", headers)  # no body, and no Link: the client kept both
        else:
            self.send_json(200, payload, {**headers, **extra})

    def rate_limit_status(self, grant: Grant | None) -> None:
        """GET /rate_limit (https://docs.github.com/en/rest/rate-limit/rate-limit): free, and shows
        whether a token is accepted and which scopes it has."""
        github = self.github
        with github.lock:
            remaining = github.rate_remaining
        core = {"limit": github.settings.rate_limit, "remaining": remaining,
                "used": github.settings.rate_limit - remaining, "reset": int(time.time()) + 3600}
        headers = {"Date": formatdate(time.time() + github.settings.clock_skew_seconds, usegmt=True)}
        if grant is not None:
            headers["X-OAuth-Scopes"] = ", ".join(grant.scopes)
        self.send_json(200, {"resources": {"core": core}, "rate": core}, headers)

    def api_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        payload = {"message": message, "documentation_url": f"{DOCS}/rest", "status": str(status)}
        self.send_json(status, payload, headers)

    def repositories_page(self, grant: Grant, query: dict[str, str]) -> tuple[list, dict[str, str]]:
        """One page of GET /user/repos and its Link header; ValueError for GitHub's 422."""
        github = self.github
        if "type" in query and ("visibility" in query or "affiliation" in query):
            raise ValueError("type with visibility or affiliation")
        visibility = query.get("visibility", "all")
        if visibility not in ("all", "public", "private"):
            raise ValueError("visibility")
        # Without the repo scope a token sees public repositories only.
        repos = repositories(github.settings, github.api_url, include_private="repo" in grant.scopes)
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
                links.append(f'<{github.api_url}/user/repos?{page_query}>; rel="{rel}"')
        return repos[(page - 1) * per_page: page * per_page], {"Link": ", ".join(links)} if links else {}

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
