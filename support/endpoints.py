"""Where an authorization server's endpoints are, and what it says about itself: the record every step reads.

A login learns them once, from the server's own metadata (RFC 8414, support/metadata.py), or falls back
to GitHub's fixed paths; the record then travels with the settings (support/settings.py) and is kept
with the login in the token file, so that `status`, `repos`, a refresh and `logout` never ask again.
Watch for: an endpoint is https, or plain http only on the issuer's own origin (which the settings
allow on this machine only), whether it came from the server or from the token file.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

# GitHub's fixed paths (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps),
# used where a server publishes no metadata. GitHub names itself `<server>/login/oauth` in the callback's
# `iss` (RFC 9207), and that is its issuer identifier (RFC 8414 §2).
ISSUER_PATH = "/login/oauth"
AUTHORIZE_PATH = "/login/oauth/authorize"
TOKEN_PATH = "/login/oauth/access_token"
DEVICE_CODE_PATH = "/login/device/code"
APPLICATIONS_PAGE_PATH = "/settings/applications"  # where a GitHub user revokes an app's token by hand
BASIC_ONLY = ("client_secret_basic",)  # RFC 6749 §2.3.1: the one client authentication servers MUST take


class ServerEndpoints(NamedTuple):
    """An authorization server's issuer, its endpoints, and the two facts the client acts on."""

    issuer: str  # compared character for character with a callback's `iss` (RFC 9207 §2.4)
    authorization_endpoint: str
    token_endpoint: str
    device_authorization_endpoint: str
    revocation_endpoint: str | None = None  # RFC 7009; None: GitHub's own DELETE route instead
    token_endpoint_auth_methods: tuple[str, ...] = ()  # () when the server does not say
    sends_issuer: bool = False  # authorization_response_iss_parameter_supported (RFC 9207 §3)
    published: bool = False  # read from the server's metadata; False: GitHub's fixed paths

    @property
    def takes_basic_only(self) -> bool:
        return self.token_endpoint_auth_methods == BASIC_ONLY

    def to_json(self) -> dict[str, object]:
        return {**self._asdict(), "token_endpoint_auth_methods": list(self.token_endpoint_auth_methods)}

    @classmethod
    def from_json(cls, data: object) -> ServerEndpoints:
        """Read the record back from the token file, checking each field (the file may be edited)."""
        if not isinstance(data, dict):
            raise ValueError("endpoints is not an object")
        issuer = data.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise ValueError("endpoints.issuer is missing or not text")
        published = data.get("published") is True
        urls = {}
        for name in ("authorization_endpoint", "token_endpoint", "device_authorization_endpoint",
                     "revocation_endpoint"):
            value = data.get(name)
            if value is None and name == "revocation_endpoint":
                urls[name] = None
                continue
            if not isinstance(value, str) or not value:
                raise ValueError(f"endpoints.{name} is missing or not text")
            # What a server published is checked again; GitHub's fixed paths came from checked settings.
            problem = endpoint_problem(value, issuer) if published else None
            if problem:
                raise ValueError(f"endpoints.{name} {problem}")
            urls[name] = value
        methods = data.get("token_endpoint_auth_methods", [])
        if not isinstance(methods, list) or not all(isinstance(method, str) for method in methods):
            raise ValueError("endpoints.token_endpoint_auth_methods is not a list of text")
        return cls(issuer=issuer, **urls, token_endpoint_auth_methods=tuple(methods),
                   sends_issuer=data.get("sends_issuer") is True, published=published)


def github_endpoints(server_url: str, issuer: str | None = None) -> ServerEndpoints:
    """GitHub's fixed paths under `server_url` (github.com, or GitHub Enterprise Server), for a server
    that publishes no metadata. GitHub has no RFC 7009 endpoint: it revokes through its REST API."""
    return ServerEndpoints(issuer=issuer or server_url + ISSUER_PATH,
                           authorization_endpoint=server_url + AUTHORIZE_PATH, token_endpoint=server_url + TOKEN_PATH,
                           device_authorization_endpoint=server_url + DEVICE_CODE_PATH)


def endpoint_problem(url: object, issuer: str) -> str | None:
    """Why `url` may not be used as one of the issuer's endpoints, or None when it may.

    https anywhere; plain http only on the issuer's own origin, which the settings accept as http only
    on this machine, so that no endpoint sends a code, a token or the client secret in clear text
    across a network. No user, and no fragment (RFC 6749 §3.1, §3.2).
    """
    if not isinstance(url, str) or not url:
        return "is missing or not text"
    parts, home = urlsplit(url), urlsplit(issuer)
    try:
        port, home_port = parts.port, home.port
    except ValueError:
        return "has a port outside 1-65535"
    if not parts.hostname or parts.scheme not in ("https", "http"):
        return f"is not an https:// URL ({url[:100]!r})"
    if parts.scheme == "http" and (parts.scheme, parts.hostname, port) != (home.scheme, home.hostname, home_port):
        return "uses http:// away from the issuer's own address, which would send secrets in clear text"
    if parts.username or parts.password or parts.fragment:
        return "carries a user or a fragment"
    return None


def applications_page(server_url: str, endpoints: ServerEndpoints | None) -> str:
    """Where a person revokes a token by hand: GitHub's page of authorized apps on a GitHub server (its
    issuer is `<server>/login/oauth`); another kind of server has a page of its own, whose address it
    does not publish."""
    if endpoints is None or endpoints.issuer == server_url + ISSUER_PATH:
        return server_url + APPLICATIONS_PAGE_PATH
    return f"{urlsplit(server_url).netloc}, on its page of the applications you authorized"
