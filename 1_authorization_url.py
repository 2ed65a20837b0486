"""Step 1 of the chapter: build the URL that asks GitHub for permission, with `state` and PKCE.

Run:  python 1_authorization_url.py
Needs: GITHUB_CLIENT_ID (see .env.example); try it against `python local_github.py` too.
Watch for: two fresh random values on every run. `state` travels in the URL and comes back to
us; the PKCE `code_verifier` never leaves this program until the token exchange in step 2,
and only its SHA-256 hash (the `code_challenge`) goes into the URL.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from token_manager import AuthError, mask

STEP_CONFIG = "configuration"
STEP_AUTHORIZE = "step 1 (authorization URL)"

DEFAULT_SCOPES = "read:user"  # the narrowest scope that still shows who you are
DEFAULT_REDIRECT_URI = "http://127.0.0.1/callback"
DEFAULT_SERVER_URL = "https://github.com"
GITHUB_COM_API_URL = "https://api.github.com"
# GitHub Enterprise Server serves its REST API under the server's own host.
ENTERPRISE_API_PATH = "/api/v3"
AUTHORIZE_PATH = "/login/oauth/authorize"
TOKEN_PATH = "/login/oauth/access_token"
# GitHub names itself `<server>/login/oauth` in the callback's `iss` parameter (RFC 9207); step 2
# compares it with this, so a response from another authorization server is never used.
ISSUER_PATH = "/login/oauth"
SETTINGS_HINT = "see .env.example and your OAuth app's page at https://github.com/settings/developers"

# 32 random bytes = 256 bits. RFC 6749 §10.10 asks that guessing `state` be infeasible, and
# RFC 7636 §7.1 recommends 32 octets for the verifier, base64url-encoded into 43 characters.
STATE_BYTES = 32
CODE_VERIFIER_BYTES = 32
# RFC 7636 §4.1: 43 to 128 characters of [A-Z] [a-z] [0-9] "-" "." "_" "~".
CODE_VERIFIER_PATTERN = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# RFC 7636 §4.2: S256 is the only method that keeps the verifier out of the URL; GitHub refuses "plain".
CODE_CHALLENGE_METHOD = "S256"
# RFC 6749 §3.3: a scope is printable ASCII except space, double quote and backslash.
SCOPE_PATTERN = re.compile(r'[\x21\x23-\x5b\x5d-\x7e]+')
LOOPBACK_HOSTS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class LoopbackRedirect:
    """Where the browser comes back to: a loopback IP, a path, and a port or None for 'any free one'."""

    host: str
    port: int | None
    path: str

    def with_port(self, port: int) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}{self.path}"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}{'' if self.port is None else f':{self.port}'}{self.path}"


@dataclass(frozen=True)
class OAuthConfig:
    """The OAuth app's settings, read once from the environment and `.env`."""

    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...]
    redirect: LoopbackRedirect
    server_url: str
    api_url: str

    @property
    def authorize_url(self) -> str:
        return self.server_url + AUTHORIZE_PATH

    @property
    def token_url(self) -> str:
        return self.server_url + TOKEN_PATH

    @property
    def issuer(self) -> str:
        return self.server_url + ISSUER_PATH


def config_error(variable: str, problem: str, fix: str = SETTINGS_HINT) -> AuthError:
    return AuthError(STEP_CONFIG, f"{variable} {problem} — {fix}")


def parse_scopes(text: str, variable: str = "GITHUB_SCOPES") -> tuple[str, ...]:
    """Split scopes written with spaces or commas; keep their order, drop repeats."""
    scopes: list[str] = []
    for scope in re.split(r"[,\s]+", text.strip()):
        if not scope or scope in scopes:
            continue
        if not SCOPE_PATTERN.fullmatch(scope):
            raise config_error(variable, f"has a scope with characters a scope cannot have: {scope!r}",
                               "write scopes like: read:user repo")
        scopes.append(scope)
    return tuple(scopes)


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port_of(variable: str, parts) -> int | None:
    try:
        return parts.port
    except ValueError:
        raise config_error(variable, "has a port outside 1-65535", "fix the number after the colon") from None


def parse_redirect_uri(value: str) -> LoopbackRedirect:
    variable = "GITHUB_REDIRECT_URI"
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme != "http":
        raise config_error(variable, f"must start with http:// (got {value!r})",
                           "a loopback callback never leaves this machine, so plain http is safe (RFC 8252 §8.3); "
                           f"use {DEFAULT_REDIRECT_URI}")
    if host == "localhost":
        raise config_error(variable, "uses localhost",
                           "use 127.0.0.1 instead: 'localhost' can resolve to another interface or be "
                           "blocked by a firewall, and RFC 8252 §8.3 recommends the loopback IP literal")
    if host not in LOOPBACK_HOSTS:
        raise config_error(variable, f"must point at this machine (127.0.0.1 or [::1]), not {host or value!r}",
                           f"a callback elsewhere would hand the code to another computer; use {DEFAULT_REDIRECT_URI}")
    port = _port_of(variable, parts)
    if port == 0:
        raise config_error(variable, "has port 0", "leave the port out to get a free one")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise config_error(variable, "must not carry a user, query or fragment (RFC 6749 §3.1.2)",
                           f"use a plain address such as {DEFAULT_REDIRECT_URI}")
    return LoopbackRedirect(host=host, port=port, path=parts.path or "/")


def parse_endpoint_url(variable: str, value: str) -> str:
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise config_error(variable, f"is not a URL like https://github.com (got {value!r})", "fix it in .env")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise config_error(variable, "uses http:// to a remote host, which would send tokens in clear text",
                           "use https://")
    _port_of(variable, parts)
    if parts.username or parts.password or parts.query or parts.fragment:
        raise config_error(variable, "must not carry a user, query or fragment", "use a plain https:// URL")
    return value.rstrip("/")


def load_config(env: dict[str, str] | None = None, require_secret: bool = True) -> OAuthConfig:
    """Read the settings from the environment, after loading `.env` from the current folder.

    A variable already set in the environment wins over `.env`. Every problem is an AuthError
    that names the variable and the fix.
    """
    if env is None:
        from dotenv import find_dotenv, load_dotenv

        load_dotenv(find_dotenv(usecwd=True), override=False)
        env = dict(os.environ)

    def optional(name: str, default: str) -> str:
        return env.get(name, "").strip() or default

    client_id = env.get("GITHUB_CLIENT_ID", "").strip()
    if not client_id:
        raise config_error("GITHUB_CLIENT_ID", "is not set",
                           f"copy .env.example to .env and fill it in; {SETTINGS_HINT}")
    client_secret = env.get("GITHUB_CLIENT_SECRET", "").strip()
    if require_secret and not client_secret:
        raise config_error("GITHUB_CLIENT_SECRET", "is not set",
                           "GitHub needs it for the token exchange even with PKCE; "
                           "generate one on your OAuth app's page and put it in .env")
    server_url = parse_endpoint_url("GITHUB_SERVER_URL", optional("GITHUB_SERVER_URL", DEFAULT_SERVER_URL))
    default_api = GITHUB_COM_API_URL if server_url == DEFAULT_SERVER_URL else server_url + ENTERPRISE_API_PATH
    return OAuthConfig(
        client_id=client_id,
        client_secret=client_secret,
        scopes=parse_scopes(optional("GITHUB_SCOPES", DEFAULT_SCOPES)),
        redirect=parse_redirect_uri(optional("GITHUB_REDIRECT_URI", DEFAULT_REDIRECT_URI)),
        server_url=server_url,
        api_url=parse_endpoint_url("GITHUB_API_URL", optional("GITHUB_API_URL", default_api)),
    )


def generate_state() -> str:
    return secrets.token_urlsafe(STATE_BYTES)


def generate_code_verifier() -> str:
    # token_urlsafe is base64url without padding: only characters RFC 7636 allows.
    return secrets.token_urlsafe(CODE_VERIFIER_BYTES)


def code_challenge_for(code_verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    if not CODE_VERIFIER_PATTERN.fullmatch(code_verifier):
        raise ValueError("a code_verifier is 43-128 characters of A-Z a-z 0-9 - . _ ~")
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class AuthorizationRequest:
    """One sign-in attempt: the URL to open and the values step 2 needs to finish it."""

    url: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    code_challenge: str
    code_verifier: str = field(repr=False)


def build_authorization_url(config: OAuthConfig, redirect_uri: str, state: str, code_challenge: str,
                            scopes: tuple[str, ...] | None = None) -> str:
    query = {
        "response_type": "code",  # RFC 6749 §4.1.1 requires it; GitHub ignores it
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(config.scopes if scopes is None else scopes),  # RFC 6749 §3.3: space-separated
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": CODE_CHALLENGE_METHOD,
    }
    return f"{config.authorize_url}?{urlencode(query)}"


def prepare_authorization_request(config: OAuthConfig, redirect_uri: str | None = None,
                                  scopes: tuple[str, ...] | None = None) -> AuthorizationRequest:
    """Fresh `state` and PKCE pair for one attempt: never reuse them (RFC 9700 §2.1.1)."""
    redirect_uri = redirect_uri or str(config.redirect)
    scopes = config.scopes if scopes is None else scopes
    state = generate_state()
    code_verifier = generate_code_verifier()
    code_challenge = code_challenge_for(code_verifier)
    return AuthorizationRequest(
        url=build_authorization_url(config, redirect_uri, state, code_challenge, scopes),
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        code_challenge=code_challenge,
        code_verifier=code_verifier,
    )


def describe_authorization_request(request: AuthorizationRequest, config: OAuthConfig) -> list[str]:
    """What each parameter of the URL is for, in a line or two each. The verifier stays masked."""
    return [
        f"  client_id={config.client_id}: which app is asking (public, not a secret).",
        f"  redirect_uri={request.redirect_uri}: where GitHub sends the browser back; a loopback",
        "    address on this machine, so the code never crosses the network (RFC 8252 §7.3).",
        f"  scope={' '.join(request.scopes) or '(none)'}: the access asked for, kept narrow; you may grant less.",
        f"  state={request.state[:8]}…: a random value that must come back unchanged; it proves the",
        "    callback answers our request and not one forged by a web page (CSRF, RFC 6749 §10.12).",
        f"  code_challenge={request.code_challenge}: SHA-256 of a secret code_verifier",
        f"    ({mask(request.code_verifier, show_prefix=False)}) that only this program knows and sends in",
        "    step 2, so a stolen code is useless to anyone else (PKCE, RFC 7636).",
        f"  code_challenge_method={CODE_CHALLENGE_METHOD}: the hash method; GitHub accepts no other.",
        "  response_type=code: the authorization code flow (GitHub ignores it, RFC 6749 asks for it).",
    ]


def main() -> int:
    try:
        config = load_config(require_secret=False)
    except AuthError as error:
        print(f"step 1 failed at {error}", file=sys.stderr)
        return 1
    request = prepare_authorization_request(config)
    print("Open this URL in a browser to ask GitHub for permission:\n")
    print(request.url)
    print("\nWhat each parameter is for:")
    print("\n".join(describe_authorization_request(request, config)))
    if config.redirect.port is None:
        print("\nThe redirect_uri has no port: step 2 adds the port of the server it starts.")
    print("Run it again: state and code_challenge change every time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
