"""The OAuth app's settings, read once from the environment and `.env`, and checked.

Every step reads its settings here: step 1 builds its URL from them, step 2 exchanges the code
with them, step 3 calls the API with them. Every bad value stops with one line that names the
variable, the fix, and where the settings came from; the redirect must be a loopback address,
and plain http goes only to this machine.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from support.errors import STEP_CONFIG, AuthError

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
ENV_FILE_NAME = ".env"
# Values copied unchanged from .env.example: refused, so that a forgotten one is named at once
# instead of failing later as "incorrect_client_credentials" at GitHub.
PLACEHOLDERS = {"GITHUB_CLIENT_ID": "your-client-id", "GITHUB_CLIENT_SECRET": "your-client-secret"}
SETTINGS_HINT = "see .env.example and your OAuth app's page at https://github.com/settings/developers"
CLIENT_ID_FIX = f"copy .env.example to .env and fill it in; {SETTINGS_HINT}"

# RFC 6749 §3.3: a scope is printable ASCII except space, double quote and backslash.
SCOPE_PATTERN = re.compile(r'[\x21\x23-\x5b\x5d-\x7e]+')
LOOPBACK_HOSTS = ("127.0.0.1", "::1")


class LoopbackRedirect(NamedTuple):
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


class OAuthConfig(NamedTuple):
    """The OAuth app's settings, read once from the environment and `.env`.

    A NamedTuple, not a dataclass: see the note above support.token.Token.
    """

    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    redirect: LoopbackRedirect
    server_url: str
    api_url: str
    env_file: str | None = None  # the .env the settings came from, for messages; None: environment only

    @property
    def authorize_url(self) -> str:
        return self.server_url + AUTHORIZE_PATH

    @property
    def token_url(self) -> str:
        return self.server_url + TOKEN_PATH

    @property
    def issuer(self) -> str:
        return self.server_url + ISSUER_PATH

    def __repr__(self) -> str:
        # The client secret stays out of logs and tracebacks.
        return (f"OAuthConfig(client_id={self.client_id!r}, client_secret='…', scopes={self.scopes!r}, "
                f"redirect={str(self.redirect)!r}, server_url={self.server_url!r}, api_url={self.api_url!r}, "
                f"env_file={self.env_file!r})")


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
    # RFC 8252 §7.3 and §8.3: plain http to the loopback IP literal, never "localhost".
    if parts.scheme != "http":
        raise config_error(variable, f"must start with http:// (got {value!r})",
                           "a loopback callback never leaves this machine, so plain http is safe; "
                           f"use {DEFAULT_REDIRECT_URI}")
    if host == "localhost":
        raise config_error(variable, "uses localhost",
                           "use 127.0.0.1 instead: 'localhost' can resolve to another interface or be "
                           "blocked by a firewall, and the loopback address itself cannot")
    if host not in LOOPBACK_HOSTS:
        raise config_error(variable, f"must point at this machine (127.0.0.1 or [::1]), not {host or value!r}",
                           f"a callback elsewhere would hand the code to another computer; use {DEFAULT_REDIRECT_URI}")
    port = _port_of(variable, parts)
    if port == 0:
        raise config_error(variable, "has port 0", "leave the port out to get a free one")
    if parts.username or parts.password or parts.query or parts.fragment:
        # RFC 6749 §3.1.2: a redirect URI carries no fragment; a user or query has no place in ours.
        raise config_error(variable, "must not carry a user, query or fragment",
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


def host_of(url: str) -> str:
    """The host (and port) of a server URL."""
    return urlsplit(url).netloc or url


def hostname_of(server_url: str) -> str:
    """The server as messages and `--hostname` name it: its host (and port), or the whole URL when that
    would not lead back to it (https where --hostname would choose http, or the other way round)."""
    host = host_of(server_url)
    return host if server_url_for(host) == server_url else server_url


def find_env_file() -> Path | None:
    """The `.env` in the current folder, if there is one. Only there: python-dotenv's own search
    walks up the parent folders, where a `.env` may belong to another app, with another client
    ID and wider scopes, and it would be used without a word."""
    candidate = Path.cwd() / ENV_FILE_NAME
    return candidate if candidate.is_file() else None


def chosen_hostname(hostname: str | None, environ: Mapping[str, str]) -> str | None:
    """The host to use, as gh chooses it: --hostname, else GH_HOST, else None (GITHUB_SERVER_URL decides)."""
    return hostname or environ.get("GH_HOST", "").strip() or None


def server_url_for(hostname: str) -> str:
    """`--hostname` as a server URL: https, except on this machine (the stand-in), where http is safe."""
    if "://" in hostname:
        return hostname
    host = urlsplit(f"//{hostname}").hostname or ""
    return f"{'http' if is_loopback_host(host) else 'https'}://{hostname}"


def load_config(env: dict[str, str] | None = None, require_secret: bool = True,
                require_client_id: bool = True, server_url: str | None = None) -> OAuthConfig:
    """Read the settings from the environment, after loading `.env` from the current folder.

    A variable already set in the environment wins over `.env`; `server_url` (from --hostname)
    wins over both, and then the API URL follows it. Every problem is an AuthError that names
    the variable, the fix, and the `.env` the settings came from. Reading the API with a token
    from GH_TOKEN needs no OAuth app at all: then `require_client_id=False`, and the caller
    decides with `check_app_settings`.
    """
    env_file = None
    if env is None:
        env_file = find_env_file()
        if env_file is not None:  # python-dotenv is imported only when there is a file to read
            try:
                from dotenv import load_dotenv
            except ModuleNotFoundError:
                raise AuthError(STEP_CONFIG, f"python-dotenv is not installed, so {env_file} cannot be read — "
                                "run: pip install -r requirements.txt") from None
            load_dotenv(env_file, override=False)
        env = dict(os.environ)
    if server_url is not None:
        env = {**env, "GITHUB_SERVER_URL": server_url, "GITHUB_API_URL": ""}
    try:
        return read_settings(env, require_secret, require_client_id, env_file)
    except AuthError as error:
        raise naming_the_source(error, env_file) from None


def naming_the_source(error: AuthError, env_file: Path | str | None) -> AuthError:
    """The same error, saying where the settings came from: a wrong .env is a common cause."""
    source = f"settings read from {env_file} and the environment" if env_file else \
        "settings read from the environment; no .env in the current folder"
    return AuthError(error.step, f"{error.message} ({source})")


def check_app_settings(config: OAuthConfig) -> OAuthConfig:
    """The checks load_config(require_client_id=False) left out, for when no token variable stands in:
    the client ID, then a client secret still copied from .env.example, in the order login checks them."""
    try:
        required({"GITHUB_CLIENT_ID": config.client_id}, "GITHUB_CLIENT_ID", CLIENT_ID_FIX)
        if config.client_secret == PLACEHOLDERS["GITHUB_CLIENT_SECRET"]:
            raise placeholder_error("GITHUB_CLIENT_SECRET")
    except AuthError as error:
        raise naming_the_source(error, config.env_file) from None
    return config


def read_settings(env: dict[str, str], require_secret: bool, require_client_id: bool,
                  env_file: Path | None) -> OAuthConfig:
    def optional(name: str, default: str) -> str:
        return env.get(name, "").strip() or default

    client_id = required(env, "GITHUB_CLIENT_ID", CLIENT_ID_FIX) if require_client_id \
        else env.get("GITHUB_CLIENT_ID", "").strip()
    client_secret = env.get("GITHUB_CLIENT_SECRET", "").strip()
    if require_secret and not client_secret:
        raise config_error("GITHUB_CLIENT_SECRET", "is not set",
                           "GitHub needs it for the token exchange even with PKCE; "
                           "generate one on your OAuth app's page and put it in .env")
    # Without require_client_id (a token variable may stand in for the app), check_app_settings checks it.
    if require_client_id and client_secret == PLACEHOLDERS["GITHUB_CLIENT_SECRET"]:
        raise placeholder_error("GITHUB_CLIENT_SECRET")
    server_url = parse_endpoint_url("GITHUB_SERVER_URL", optional("GITHUB_SERVER_URL", DEFAULT_SERVER_URL))
    default_api = GITHUB_COM_API_URL if server_url == DEFAULT_SERVER_URL else server_url + ENTERPRISE_API_PATH
    return OAuthConfig(
        client_id=client_id,
        client_secret=client_secret,
        scopes=parse_scopes(optional("GITHUB_SCOPES", DEFAULT_SCOPES)),
        redirect=parse_redirect_uri(optional("GITHUB_REDIRECT_URI", DEFAULT_REDIRECT_URI)),
        server_url=server_url,
        api_url=parse_endpoint_url("GITHUB_API_URL", optional("GITHUB_API_URL", default_api)),
        env_file=str(env_file) if env_file else None,
    )


def required(env: dict[str, str], name: str, fix: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise config_error(name, "is not set", fix)
    if value == PLACEHOLDERS.get(name):
        raise placeholder_error(name)
    return value


def placeholder_error(variable: str) -> AuthError:
    return config_error(variable, f"still holds the placeholder from .env.example ({PLACEHOLDERS[variable]})",
                        f"fill in your OAuth app's value; {SETTINGS_HINT}")
