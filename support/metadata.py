"""What an authorization server publishes about itself (RFC 8414), read once at login, and the `iss` rule it sets.

Instead of assuming GitHub's paths, a login first asks the server where its endpoints are: at the
path-inserted address (RFC 8414 §3.1; github.com publishes its document at
https://github.com/.well-known/oauth-authorization-server/login/oauth), then at the issuer with the
well-known path appended, where several other servers publish it. With no document at either, the
login uses GitHub's fixed paths. What it learns is saved with the login (support/token.py).
Watch for: a document is used only when its `issuer` is exactly the issuer expected (RFC 8414 §3.3),
since it says where the code, the verifier and the client secret will go; its endpoints must be
https (plain http only on the issuer's own origin on this machine); a redirect to another origin is
never followed; every fetch has a timeout. A server that answers nothing usable (not found, not
JSON, unreachable) simply has no document; one that answers for another issuer, or with unusable
endpoints, stops the login with one line.
"""

from __future__ import annotations

import json
from urllib.parse import urljoin, urlsplit

from support.api_http import origin_of
from support.endpoints import DEVICE_CODE_PATH, ServerEndpoints, endpoint_problem
from support.errors import STEP_AUTHORIZE, STEP_CALLBACK, AuthError, safe_text
from support.http import requests
from support.settings import OAuthConfig, is_github_com
from support.token_endpoint import USER_AGENT, network_failure, server_name

WELL_KNOWN_PATH = "/.well-known/oauth-authorization-server"  # RFC 8414 §3
# Shorter than a token request's: a server that does not answer at once has no document worth waiting for.
METADATA_TIMEOUT_SECONDS = (5, 10)
METADATA_MAX_BYTES = 100_000  # a real document is a few kilobytes; a bigger answer is not one
SAME_ORIGIN_REDIRECTS = 3  # e.g. a trailing slash added; a redirect to another origin is never followed
GITHUB_COM_HOST = "github.com"


def metadata_urls(issuer: str) -> list[str]:
    """Where the issuer's metadata may be: RFC 8414 §3.1's address (the well-known path inserted between
    the host and the issuer's path, a terminating "/" removed first), then the issuer with it appended."""
    parts = urlsplit(issuer)
    inserted = f"{parts.scheme}://{parts.netloc}{WELL_KNOWN_PATH}{parts.path.rstrip('/')}"
    return list(dict.fromkeys((inserted, issuer.rstrip("/") + WELL_KNOWN_PATH)))


def discover(config: OAuthConfig) -> OAuthConfig:
    """The settings with the endpoints the server publishes for its issuer; unchanged (GitHub's fixed
    paths) when it publishes none. One line (AuthError) for a document that may not be used."""
    for url in metadata_urls(config.issuer):
        document = fetch_document(url)
        if document is not None:
            return config._replace(endpoints=endpoints_from(document, config, url))
    return config


def fetch_document(url: str) -> dict[str, object] | None:
    """The JSON object at `url`, or None when there is none there."""
    for _ in range(SAME_ORIGIN_REDIRECTS + 1):
        try:
            with requests.get(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                              timeout=METADATA_TIMEOUT_SECONDS, allow_redirects=False, stream=True) as response:
                if response.is_redirect:
                    target = urljoin(url, response.headers.get("Location", ""))
                    if origin_of(target) != origin_of(url):
                        return None  # the document is the issuer's own, or none
                    url = target
                    continue
                if response.status_code != 200:
                    return None
                body = read_at_most(response, METADATA_MAX_BYTES)
        except requests.ConnectionError as error:
            # Nothing answers at all: the browser would find nothing either, and wait for nothing.
            raise network_failure(error, urlsplit(url).netloc, STEP_AUTHORIZE) from error
        except requests.RequestException:
            return None  # slow or broken: GitHub's fixed paths, and the login goes on
        try:
            document = json.loads(body) if body is not None else None
        except ValueError:
            return None  # an HTML page (a catch-all route, a captive portal) is no document
        return document if isinstance(document, dict) else None
    return None


def read_at_most(response: requests.Response, limit: int) -> bytes | None:
    """The body, or None once it grows past `limit` bytes (the rest is never read)."""
    body = b""
    for chunk in response.iter_content(chunk_size=16384):
        body += chunk
        if len(body) > limit:
            return None
    return body


def endpoints_from(document: dict[str, object], config: OAuthConfig, url: str) -> ServerEndpoints:
    """The endpoints a document names, once its issuer is the one expected and every endpoint is usable."""
    issuer = document.get("issuer")
    if issuer != config.issuer:
        named = repr(safe_text(issuer, 100)) if isinstance(issuer, str) else "no issuer"
        raise AuthError(STEP_AUTHORIZE, f"the server's metadata at {url} names {named}, not the issuer "
                        f"{config.issuer} — nothing in it was used; set GITHUB_ISSUER to the issuer your "
                        "server's documentation names, and check GITHUB_SERVER_URL")
    # GitHub's path where a document names no device endpoint: it may leave out what the server still offers.
    device = document.get("device_authorization_endpoint") or config.server_url + DEVICE_CODE_PATH
    revocation = document.get("revocation_endpoint")  # RFC 7009; none: GitHub's own route
    endpoints = {"authorization_endpoint": document.get("authorization_endpoint"),
                 "token_endpoint": document.get("token_endpoint"), "device_authorization_endpoint": device}
    if revocation is not None:
        endpoints["revocation_endpoint"] = revocation
    for name, value in endpoints.items():
        problem = endpoint_problem(value, config.issuer)
        if problem:
            raise AuthError(STEP_AUTHORIZE, f"the server's metadata at {url} is not usable: its {name} {problem} "
                            "— nothing in it was used; ask the server's administrator, or check GITHUB_SERVER_URL")
    methods = document.get("token_endpoint_auth_methods_supported")
    return ServerEndpoints(
        issuer=config.issuer, authorization_endpoint=str(endpoints["authorization_endpoint"]),
        token_endpoint=str(endpoints["token_endpoint"]), device_authorization_endpoint=str(device),
        revocation_endpoint=None if revocation is None else str(revocation),
        token_endpoint_auth_methods=tuple(method for method in methods if isinstance(method, str))
        if isinstance(methods, list) else (),
        sends_issuer=document.get("authorization_response_iss_parameter_supported") is True,
        published=True)


def issuer_required(config: OAuthConfig) -> bool:
    """Whether a callback without `iss` must be refused (RFC 9207 §2.4): the server's metadata says it
    always sends one, or it is github.com, which names itself in every callback. Other servers (older
    GitHub Enterprise Server, Gitea) may send none."""
    return config.server.sends_issuer or is_github_com(config.server_url)


def wrong_issuer(config: OAuthConfig, named: str | None) -> AuthError:
    """The one line for a callback whose `iss` is not the issuer we sent the browser to, or is missing."""
    if named is None:
        return AuthError(STEP_CALLBACK, f"the callback names no issuer, though {server_name(config.server_url)} "
                         "names itself in every one — another authorization server may have answered (a mix-up "
                         "attack); its code was not used. Run login again")
    return AuthError(STEP_CALLBACK, f"the callback names {safe_text(named, 100)!r} as its issuer, not "
                     f"{config.issuer} — another authorization server answered (a mix-up attack) or "
                     "GITHUB_SERVER_URL or GITHUB_ISSUER is wrong; its code was not used. Check the settings "
                     "and run login again")
