"""The OAuth app's settings, read once from the environment and `.env`, and checked.

Every step reads its settings here: step 1 builds its URL from them, step 2 exchanges the code
with them, step 3 calls the API with them. Every bad value stops with one line that names the
variable, the fix, and where the settings came from; the redirect must be a loopback address,
and plain http goes only to this machine. A server URL is kept in one normal form (`normal_url`),
so that one server is never taken for two; the API that receives the token must be on the
server's own host; the client secret goes only to the server it was set for.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from support.endpoints import ISSUER_PATH, ServerEndpoints, github_endpoints
from support.errors import STEP_CONFIG, AuthError, safe_text

if TYPE_CHECKING:
    from support.token import Token

DEFAULT_SCOPES = "read:user"  # the narrowest scope that still shows who you are
DEFAULT_REDIRECT_URI = "http://127.0.0.1/callback"
DEFAULT_SERVER_URL = "https://github.com"
GITHUB_COM_API_URL = "https://api.github.com"
# GitHub Enterprise Server serves its REST API under the server's own host.
ENTERPRISE_API_PATH = "/api/v3"
ENV_FILE_NAME = ".env"
# Values copied unchanged from .env.example: refused, so that a forgotten one is named at once
# instead of failing later as "incorrect_client_credentials" at GitHub.
PLACEHOLDERS = {"GITHUB_CLIENT_ID": "your-client-id", "GITHUB_CLIENT_SECRET": "your-client-secret"}
SETTINGS_HINT = "see .env.example and your OAuth app's page at https://github.com/settings/developers"
CLIENT_ID_FIX = (f"copy .env.example to .env and fill it in; {SETTINGS_HINT} (or, to try it offline, paste the "
                 "export lines that python local_github.py prints)")

# RFC 6749 §3.3: a scope is printable ASCII except space, double quote and backslash.
SCOPE_PATTERN = re.compile(r'[\x21\x23-\x5b\x5d-\x7e]+')
LOOPBACK_HOSTS = ("127.0.0.1", "::1")
# A host name is dot-separated labels of letters, digits and inner hyphens (RFC 1123 §2.1), at most
# 253 characters: never `..`, a slash or nothing, which would turn a folder name built from it into
# its parent. An IP literal is the only other host.
HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_NAME_PATTERN = re.compile(rf"{HOST_LABEL}(?:\.{HOST_LABEL})*")
DEFAULT_PORTS = {"https": 443, "http": 80}
# Where a person types the device flow's code on GitHub, when the server names no page of its own.
DEVICE_PAGE_PATH = "/login/device"
# A URL we show or open: visible ASCII only, so no control character or look-alike letter hides in it.
VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


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
    # The host whose app GITHUB_CLIENT_SECRET belongs to, when --hostname named another: the secret
    # is then withheld (client_secret is empty), and messages say which settings that host needs.
    secret_belongs_to: str | None = None
    # The server's issuer and endpoints: GitHub's paths from the settings, then what the server publishes
    # (support/metadata.py) or what a saved login kept. None: GitHub's paths under server_url.
    endpoints: ServerEndpoints | None = None

    @property
    def server(self) -> ServerEndpoints:
        return self.endpoints or github_endpoints(self.server_url)

    @property
    def issuer(self) -> str:
        return self.server.issuer

    @property
    def authorize_url(self) -> str:
        return self.server.authorization_endpoint

    @property
    def token_url(self) -> str:
        return self.server.token_endpoint

    @property
    def device_authorization_url(self) -> str:
        return self.server.device_authorization_endpoint

    @property
    def revocation_url(self) -> str | None:
        return self.server.revocation_endpoint

    def for_login(self, token: Token) -> OAuthConfig:
        """The settings a saved login was made with: its app (client ID and secret) and its server's endpoints,
        whatever the current folder's .env says, so that each host's secret goes to that host only. A login
        saved before logins kept their app uses today's settings, as it always did."""
        if not token.client_id:
            return self
        same_app = token.client_id == self.client_id  # a secret set since (after the device flow) is this app's
        return self._replace(client_id=token.client_id, endpoints=token.endpoints or self.endpoints,
                             client_secret=token.client_secret or (self.client_secret if same_app else ""))

    def __repr__(self) -> str:
        # The client secret stays out of logs and tracebacks.
        return (f"OAuthConfig(client_id={self.client_id!r}, client_secret='…', scopes={self.scopes!r}, "
                f"redirect={str(self.redirect)!r}, server_url={self.server_url!r}, api_url={self.api_url!r}, "
                f"issuer={self.issuer!r}, env_file={self.env_file!r}, secret_belongs_to={self.secret_belongs_to!r})")


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
    """A server or API URL, checked, in its normal form (`normal_url`)."""
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise config_error(variable, f"is not a URL like https://github.com (got {value!r})", "fix it in .env")
    if not is_host_name(host):
        raise config_error(variable, f"names no valid host (got {value!r})", "write it like https://github.com")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise config_error(variable, "uses http:// to a remote host, which would send tokens in clear text",
                           "use https://")
    _port_of(variable, parts)
    if parts.username or parts.password or parts.query or parts.fragment:
        raise config_error(variable, "must not carry a user, query or fragment", "use a plain https:// URL")
    return normal_url(value)


def is_host_name(host: str) -> bool:
    """A DNS host name or an IP address; nothing that could step out of a folder named after it."""
    if len(host) <= 253 and HOST_NAME_PATTERN.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def normal_url(url: str) -> str:
    """One spelling per server, used for every comparison and every key: lower-case scheme and host,
    no default port, no trailing slash (the equivalences of RFC 3986 §6.2.2 and §6.2.3), so that
    `https://GitHub.com:443/` is github.com. A value that is no URL comes back as it was."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        return url
    if not parts.scheme or not parts.hostname:
        return url
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if port in (None, DEFAULT_PORTS.get(parts.scheme)) else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, parts.fragment))


def host_of(url: str) -> str:
    """The host (and port) of a server URL, as messages and `--hostname` name it."""
    return urlsplit(normal_url(url)).netloc or url


def is_github_com(server_url: str) -> bool:
    return normal_url(server_url) == DEFAULT_SERVER_URL


def trusted_verification_uri(given: object, server_url: str) -> tuple[str, str | None]:
    """The page where the device flow's code is typed, and a warning if the server's own was set aside.

    RFC 8628 §5.4 (remote phishing): a hostile or spoofed server can name any page, even a file or
    a look-alike site that collects the code. Only an https page (plain http on this machine) on
    the configured server's own host is shown and opened; otherwise its usual page on that host.
    """
    fallback = server_url + DEVICE_PAGE_PATH
    if given is None or given == "":
        return fallback, None
    if isinstance(given, str) and VISIBLE_ASCII.fullmatch(given):
        parts = urlsplit(given)
        secure = parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname or ""))
        if secure and not (parts.username or parts.password) and host_of(given) == host_of(server_url):
            return given, None
    return fallback, (f"Warning: the server named a page for the code that is not an https page on "
                      f"{host_of(server_url)}, so it is not shown or opened; use the address below.")


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
    if hostname is not None:  # even an empty one, which is refused rather than quietly ignored
        return hostname
    return environ.get("GH_HOST", "").strip() or None


def server_url_for(hostname: str) -> str:
    """`--hostname` as a server URL: https, except on this machine (the stand-in), where http is safe.

    Only a host name with an optional port (or a whole URL) is taken: `..` or a path would name no
    server, and the host becomes the name of a folder of cached pages.
    """
    parts = urlsplit(hostname if "://" in hostname else f"//{hostname}")
    try:
        parts.port
        valid = is_host_name(parts.hostname or "") and parts.path in ("", "/") and not (
            parts.username or parts.password or parts.query or parts.fragment)
    except ValueError:
        valid = False
    if not valid:
        raise AuthError(STEP_CONFIG, f"--hostname {safe_text(hostname, 100)!r} is not a host name with an optional "
                        "port — write it like github.com or ghe.example.com:8443")
    if "://" in hostname:
        return hostname
    return f"{'http' if is_loopback_host(parts.hostname or '') else 'https'}://{hostname}"


def load_config(env: dict[str, str] | None = None, require_secret: bool = True,
                require_client_id: bool = True, server_url: str | None = None) -> OAuthConfig:
    """Read the settings from the environment, after loading `.env` from the current folder.

    A variable already set in the environment wins over `.env`; `server_url` (from --hostname)
    wins over both, and then the API URL and the issuer follow it. Every problem is an AuthError that names
    the variable, the fix, and the `.env` the settings came from. Reading the API with a token
    from GH_TOKEN needs no OAuth app at all: then `require_client_id=False`, and the caller
    decides with `check_app_settings`.
    """
    env_file, from_env_file = None, frozenset()
    if env is None:
        env_file = find_env_file()
        if env_file is not None:  # python-dotenv is imported only when there is a file to read
            try:
                from dotenv import load_dotenv
            except ModuleNotFoundError:
                raise AuthError(STEP_CONFIG, f"python-dotenv is not installed, so {env_file} cannot be read — "
                                "run: pip install -r requirements.txt") from None
            before = set(os.environ)
            load_dotenv(env_file, override=False)
            from_env_file = frozenset(set(os.environ) - before)  # what .env set, for messages
        env = dict(os.environ)
    secret_belongs_to = None
    if server_url is not None:  # another host: its own API and issuer, never those set for GITHUB_SERVER_URL
        configured = env.get("GITHUB_SERVER_URL", "").strip() or DEFAULT_SERVER_URL
        if normal_url(configured) != normal_url(server_url) and env.get("GITHUB_CLIENT_SECRET", "").strip():
            # The secret is the app's on the configured server: never posted to another host.
            secret_belongs_to = host_of(configured)
        env = {**env, "GITHUB_SERVER_URL": server_url, "GITHUB_API_URL": "", "GITHUB_ISSUER": "",
               **({"GITHUB_CLIENT_SECRET": ""} if secret_belongs_to else {})}
    try:
        return read_settings(env, require_secret, require_client_id, env_file, from_env_file, secret_belongs_to)
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


def read_settings(env: dict[str, str], require_secret: bool, require_client_id: bool, env_file: Path | None,
                  from_env_file: Collection[str] = (), secret_belongs_to: str | None = None) -> OAuthConfig:
    def optional(name: str, default: str) -> str:
        return env.get(name, "").strip() or default

    client_id = required(env, "GITHUB_CLIENT_ID", CLIENT_ID_FIX) if require_client_id \
        else env.get("GITHUB_CLIENT_ID", "").strip()
    client_secret = env.get("GITHUB_CLIENT_SECRET", "").strip()
    server_url = parse_endpoint_url("GITHUB_SERVER_URL", optional("GITHUB_SERVER_URL", DEFAULT_SERVER_URL))
    if require_secret and not client_secret:
        if secret_belongs_to:
            raise config_error("GITHUB_CLIENT_SECRET", *withheld_secret(secret_belongs_to, server_url))
        raise config_error("GITHUB_CLIENT_SECRET", "is not set",
                           "GitHub needs it for the token exchange even with PKCE; "
                           "generate one on your OAuth app's page and put it in .env")
    # Without require_client_id (a token variable may stand in for the app), check_app_settings checks it.
    if require_client_id and client_secret == PLACEHOLDERS["GITHUB_CLIENT_SECRET"]:
        raise placeholder_error("GITHUB_CLIENT_SECRET")
    default_api = GITHUB_COM_API_URL if is_github_com(server_url) else server_url + ENTERPRISE_API_PATH
    api_url = parse_endpoint_url("GITHUB_API_URL", optional("GITHUB_API_URL", default_api))
    where = f"from {env_file}" if env_file and "GITHUB_API_URL" in from_env_file else "from the environment"
    check_api_on_server(api_url, server_url, where)
    # Another server names itself differently (django-oauth-toolkit: <server>/o). Checked like a URL, but
    # kept exactly as written: a callback's `iss` is compared with it character for character (RFC 9207 §2.4).
    issuer = optional("GITHUB_ISSUER", server_url + ISSUER_PATH)
    parse_endpoint_url("GITHUB_ISSUER", issuer)
    return OAuthConfig(
        client_id=client_id,
        client_secret=client_secret,
        scopes=parse_scopes(optional("GITHUB_SCOPES", DEFAULT_SCOPES)),
        redirect=parse_redirect_uri(optional("GITHUB_REDIRECT_URI", DEFAULT_REDIRECT_URI)),
        server_url=server_url,
        api_url=api_url,
        env_file=str(env_file) if env_file else None,
        secret_belongs_to=secret_belongs_to,
        endpoints=github_endpoints(server_url, issuer),
    )


def check_api_on_server(api_url: str, server_url: str, where: str) -> None:
    """The API that receives the token must be the server's own: https://api.github.com for
    github.com, a path under the server's own origin otherwise (GitHub Enterprise Server's /api/v3).
    A `.env` in a folder you `cd` into could otherwise send your token to any host it names."""
    if is_github_com(server_url):
        if api_url == GITHUB_COM_API_URL:
            return
        expected = f"github.com's API is {GITHUB_COM_API_URL}"
    else:
        if urlsplit(api_url)[:2] == urlsplit(server_url)[:2]:  # the same scheme, host and port (both normal)
            return
        expected = f"the API of {host_of(server_url)} must be on that host (such as {server_url}{ENTERPRISE_API_PATH})"
    raise config_error("GITHUB_API_URL", f"({where}) is {safe_text(api_url, 200)}, but {expected}, and a token is only "
                       "ever sent to its own server's API", "remove GITHUB_API_URL (the API then follows "
                       "GITHUB_SERVER_URL), or set GITHUB_SERVER_URL to the server that API belongs to")


def withheld_secret(owner: str, server_url: str) -> tuple[str, str]:
    """Why no client secret goes to `server_url`, and which settings it needs instead."""
    return (f"belongs to your OAuth app on {owner}, so it is not sent to {host_of(server_url)}",
            f"for {host_of(server_url)}, set GITHUB_SERVER_URL={server_url} with the GITHUB_CLIENT_ID and "
            "GITHUB_CLIENT_SECRET of an app registered there")


def missing_secret(config: OAuthConfig) -> tuple[str, str]:
    """Why there is no client secret to send, and what to do, for messages that say what needs it."""
    if config.secret_belongs_to:
        why, fix = withheld_secret(config.secret_belongs_to, config.server_url)
        return f"GITHUB_CLIENT_SECRET {why}", fix
    return "GITHUB_CLIENT_SECRET is not set", "put it in .env"


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
