"""`doctor`: the chapter's failure points, checked in the chapter's order, with no browser and no new token.

Run:  python dev_github_tool.py doctor [--hostname HOST] [--json]
Each check is one line: ✔ fine, ✘ failing (its fix under it), ! worth knowing, - skipped because an
earlier check failed. The fixes are FIXES below, word for word the ones in docs/TROUBLESHOOTING.md's
doctor table (tests/test_doctor.py keeps the two the same).

Watch for how the app's registration is checked without a user: a code exchange with a made-up code,
the real client ID and secret, and a loopback redirect URI. github.com looks up the app by its client
ID, then checks the secret, then the redirect URI against the app's callback URL, and only then the
code; so its error names the first thing that is wrong ("Not Found", incorrect_client_credentials,
redirect_uri_mismatch), and bad_verification_code means all of the app's registration is right. A
server that follows RFC 6749 answers invalid_client, then invalid_grant, in the same order. No token
is created; a device code it hands out just expires unused.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import NamedTuple

import requests

from support.api_http import api_headers, token_from_variable, token_variable_in_use
from support.errors import (STEP_API, STEP_AUTHORIZE, STEP_CONFIG, STEP_DEVICE, STEP_EXCHANGE, STEP_STORE,
                            AuthError, mask, safe_text)
from support.metadata import discover
from support.output import format_duration, print_json, settings_source
from support.settings import OAuthConfig, host_of, load_config, server_url_for
from support.token import Token
from support.token_endpoint import HTTP_TIMEOUT_SECONDS, TokenEndpointError, post_to_token_endpoint
from support.token_store import OTHERS_MAY_ACCESS, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, TokenStore, current_user

MARKS = {"ok": "✔", "fail": "✘", "warning": "!", "skipped": "-"}
SETTINGS = ("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "GITHUB_SCOPES", "GITHUB_REDIRECT_URI", "GITHUB_SERVER_URL",
            "GITHUB_API_URL")
# Expiry times are computed from this machine's clock: a minute off already makes them misleading.
CLOCK_SKEW_LIMIT_SECONDS = 60
# Any port serves: GitHub accepts every port for a loopback callback URL (RFC 8252 §7.3).
PROBE_PORT = 53682

# What to do about each failure: the one source of these words, shared with docs/TROUBLESHOOTING.md.
FIXES = {
    "settings": "Copy .env.example to .env and fill it in from your OAuth app's page "
                "(https://github.com/settings/developers).",
    "no_secret": "Generate a client secret on your OAuth app's page and put it in .env as GITHUB_CLIENT_SECRET "
                 "(login --device needs none).",
    "fixed_port": "Leave the port out of GITHUB_REDIRECT_URI (http://127.0.0.1/callback): a free port is chosen "
                  "each time, and GitHub accepts any port on a loopback callback URL.",
    "unknown_client_id": "Copy the Client ID again from your OAuth app's page into GITHUB_CLIENT_ID.",
    "wrong_secret": "Generate a new client secret on your OAuth app's page and put it in .env as "
                    "GITHUB_CLIENT_SECRET.",
    "wrong_client": "Copy the Client ID and a new client secret from your OAuth app's page into .env.",
    "callback_url": "Set the app's Authorization callback URL to http://127.0.0.1/callback: 127.0.0.1, not "
                    "localhost, and no port.",
    "device_flow_off": "Tick \"Enable Device Flow\" on your OAuth app's page (needed for login --device only).",
    "unreachable": "Check your network and GITHUB_SERVER_URL; for a server on this machine, start it (the stand-in: "
                   "python local_github.py).",
    "metadata": "Check GITHUB_SERVER_URL and GITHUB_ISSUER: the server's metadata must name exactly that issuer.",
    "server_answer": "Check GITHUB_SERVER_URL; if it is right, see the server's message above.",
    "private_folder": "Make the folder yours alone: chmod 700 on it (and chown it to yourself).",
    "private_file": "Make the token file yours alone: chmod 600 on it (and chown it to yourself).",
    "unwritable": "Make the token folder writable for you, or free some disk space.",
    "damaged_entry": "Run logout (with --hostname for that host) to remove the damaged login, then log in again.",
    "token_variable": "Unset the variable to use the saved login, or keep it on purpose.",
    "unusable_variable": "Set the token variable to the token alone: a line break or a space often comes along "
                         "when it is copied.",
    "not_logged_in": "Run: python dev_github_tool.py login",
    "token_refused": "The token was revoked or has expired: run login again.",
    "missing_scope": "Log in again asking for the scope: login --scope \"SCOPES\".",
    "tls": "Something between you and the server presents a certificate Python does not trust (a proxy or "
           "antivirus): make the system trust it; never turn TLS verification off.",
    "rate_limit": "Wait until the rate limit resets (the time is above).",
    "clock": "Set this machine's clock (turn on automatic time): expiry times are computed from it.",
}


class Check(NamedTuple):
    step: str
    status: str  # ok, fail, warning or skipped
    detail: str
    fix: str = ""  # for fail and warning: what to do, from FIXES


def fails(step: str, detail: str, fix: str) -> Check:
    return Check(step, "fail", detail, FIXES[fix])


def warns(step: str, detail: str, fix: str = "") -> Check:
    return Check(step, "warning", detail, FIXES[fix] if fix else "")


# -- the checks, in the chapter's order ------------------------------------------------------------

def check_settings(load: Callable[[], OAuthConfig], environ: Mapping[str, str]) -> tuple[OAuthConfig | None,
                                                                                           list[Check]]:
    """Where each setting came from, placeholders, the redirect URI and the scopes."""
    before = dict(environ)
    try:
        config = load()
    except AuthError as error:
        problem, _, _ = error.message.partition(" — ")
        return None, [fails(STEP_CONFIG, safe_text(error.message, 300) or problem, "settings")]
    sources = []
    for name in SETTINGS:
        if name in before:
            sources.append(f"{name} from the environment")
        elif name in environ:
            sources.append(f"{name} from {config.env_file or '.env'}")
    checks = [Check(STEP_CONFIG, "ok", f"settings read from {settings_source(config.env_file)}: "
                    f"{'; '.join(sources) or 'the defaults'}")]
    if not config.client_secret:
        checks.append(warns(STEP_CONFIG, "GITHUB_CLIENT_SECRET is not set: the browser login needs it", "no_secret"))
    if config.redirect.port is None:
        checks.append(Check(STEP_CONFIG, "ok", f"redirect URI {config.redirect}: a loopback address, any free port"))
    else:
        checks.append(warns(STEP_CONFIG, f"redirect URI {config.redirect}: a fixed port fails when another "
                            "program holds it", "fixed_port"))
    scopes = " ".join(config.scopes) or "(none: public data only)"
    checks.append(Check(STEP_CONFIG, "ok", f"scopes asked for: {scopes}"))
    return config, checks


def check_metadata(config: OAuthConfig) -> tuple[OAuthConfig | None, Check]:
    """The server's endpoints: from its metadata (RFC 8414) when it publishes some, else GitHub's paths."""
    try:
        found = discover(config)
    except AuthError as error:
        return None, fails(STEP_CONFIG, safe_text(error.message, 300), "metadata")
    if found.server.published:
        return found, Check(STEP_CONFIG, "ok", f"the server publishes its endpoints (metadata) for the issuer "
                            f"{found.issuer}")
    return found, Check(STEP_CONFIG, "ok", f"no metadata published: GitHub's fixed paths under {found.server_url}")


def check_registration(config: OAuthConfig) -> Check:
    """One code exchange with a made-up code: the error says which part of the app's registration is wrong."""
    if not config.client_secret:
        return Check(STEP_EXCHANGE, "skipped", "the app's registration needs GITHUB_CLIENT_SECRET to be checked")
    redirect_uri = config.redirect.with_port(config.redirect.port or PROBE_PORT)
    made_up_code = f"doctor-{secrets.token_hex(10)}"
    try:
        post_to_token_endpoint(config, {"grant_type": "authorization_code", "code": made_up_code,
                                        "redirect_uri": redirect_uri}, STEP_EXCHANGE)
    except TokenEndpointError as error:
        return registration_verdict(error.code, error.message)
    except AuthError as error:
        return fails(STEP_EXCHANGE, error.message, "unreachable")
    return warns(STEP_EXCHANGE, "the server issued a token for a made-up code: it is not checking codes")


def registration_verdict(code: str, message: str) -> Check:
    if code in ("bad_verification_code", "invalid_grant"):
        return Check(STEP_EXCHANGE, "ok", "the app's client ID, client secret and callback URL are accepted "
                     "(a made-up code was refused, as it should be)")
    verdicts = {
        "Not Found": ("the server knows no OAuth app with this client ID", "unknown_client_id"),
        "incorrect_client_credentials": ("the server refused the client secret", "wrong_secret"),
        "invalid_client": ("the server refused the client ID or secret", "wrong_client"),
        "redirect_uri_mismatch": ("the app's Authorization callback URL does not allow a loopback redirect URI",
                                  "callback_url"),
    }
    detail, fix = verdicts.get(code, (message, "server_answer"))
    return fails(STEP_EXCHANGE, f"{detail} ({safe_text(code, 60)})", fix)


def check_device_flow(config: OAuthConfig, request_device_code: Callable[[OAuthConfig], object]) -> Check:
    """Whether the app may use the device flow: asking for a device code tells (it expires unused)."""
    try:
        request_device_code(config)
    except AuthError as error:
        code = getattr(error.__cause__, "code", None)
        if code in ("device_flow_disabled", "unauthorized_client"):
            return fails(STEP_DEVICE, f"the device flow is off for this app ({code})", "device_flow_off")
        return warns(STEP_DEVICE, f"the server offers no device flow here: {safe_text(error.message, 200)}")
    return Check(STEP_DEVICE, "ok", "the device flow is enabled for this app (login --device)")


def check_authorization_url(config: OAuthConfig, build_url: Callable[[OAuthConfig], str]) -> Check:
    url = build_url(config)
    endpoint, _, query = url.partition("?")
    names = "&".join(pair.partition("=")[0] for pair in query.split("&"))
    return Check(STEP_AUTHORIZE, "ok", f"{endpoint}?{names} (issuer {config.issuer})")


def check_token_store(store: TokenStore, environ: Mapping[str, str], config: OAuthConfig) -> list[Check]:
    """The folder and file are yours alone and writable, and every host's login in it is readable."""
    checks = []
    for path, mode, fix in ((store.path.parent, PRIVATE_DIR_MODE, "private_folder"),
                            (store.path, PRIVATE_FILE_MODE, "private_file")):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            checks.append(Check(STEP_STORE, "ok", f"{path} does not exist yet (created private at the first login)"))
            break
        if current_user() not in (None, info.st_uid):
            checks.append(fails(STEP_STORE, f"{path} belongs to another user (uid {info.st_uid})", fix))
        elif stat.S_IMODE(info.st_mode) & OTHERS_MAY_ACCESS:
            checks.append(fails(STEP_STORE, f"{path} can be read by others (mode {stat.S_IMODE(info.st_mode):o}, "
                                f"not {mode:o})", fix))
        else:
            checks.append(Check(STEP_STORE, "ok", f"{path}: yours alone (mode {stat.S_IMODE(info.st_mode):o})"))
    try:
        store.check_writable()
        checks.append(Check(STEP_STORE, "ok", "a new token can be saved there (write check)"))
    except AuthError as error:
        checks.append(fails(STEP_STORE, error.message, "unwritable"))
    try:
        logins = store.load_all()
        checks.append(Check(STEP_STORE, "ok", f"{len(logins)} saved login(s) readable"))
    except AuthError as error:
        checks.append(fails(STEP_STORE, error.message, "damaged_entry"))
    variable = token_variable_in_use(environ, config.server_url)
    if variable:
        checks.append(warns(STEP_STORE, f"{variable} is set: status and repos use it instead of the saved login",
                            "token_variable"))
    return checks


def check_token_and_api(config: OAuthConfig, token: Token | None) -> list[Check]:
    """The saved token against the API (GET /rate_limit costs no rate limit), the API itself, and the clock."""
    checks = []
    headers = {**api_headers(), **({"Authorization": f"Bearer {token.access_token}"} if token else {})}
    try:
        response = requests.get(f"{config.api_url}/rate_limit", headers=headers, timeout=HTTP_TIMEOUT_SECONDS)
    except requests.exceptions.SSLError:
        return [fails(STEP_API, f"{host_of(config.api_url)}'s certificate could not be verified", "tls")]
    except requests.RequestException:
        return [fails(STEP_API, f"cannot reach {host_of(config.api_url)}", "unreachable")]
    if token is not None:
        checks += token_verdict(config, token, response)
    checks += rate_limit_verdict(response)
    checks.append(clock_verdict(response))
    return checks


def token_verdict(config: OAuthConfig, token: Token, response: requests.Response) -> list[Check]:
    if response.status_code == 401:
        return [fails(STEP_API, f"the API refused the token {mask(token.access_token)} (Bad credentials)",
                      "token_refused")]
    if not response.ok:
        return [fails(STEP_API, f"{host_of(config.api_url)} answered HTTP {response.status_code}", "server_answer")]
    checks = [Check(STEP_API, "ok", f"the token {mask(token.access_token)} is accepted"
                    + (f" (account {safe_text(token.account, 60)})" if token.account else ""))]
    granted = response.headers.get("X-OAuth-Scopes")
    if granted is not None:
        have = {scope.strip() for scope in granted.split(",") if scope.strip()}
        missing = sorted(set(config.scopes) - have - {"offline_access"})
        if missing:
            checks.append(fails(STEP_API, f"the token lacks {', '.join(missing)}; it has "
                                f"{safe_text(granted, 200) or 'no scopes'}", "missing_scope"))
    if token.expires_at is not None:
        left = token.expires_at - time.time()
        refreshable = "refreshable" if token.can_refresh() else "not refreshable: log in again then"
        when = f"expired, {refreshable}" if left <= 0 else f"expires in {format_duration(left)}, {refreshable}"
        checks.append(Check(STEP_API, "ok" if left > 0 or token.can_refresh() else "warning", f"the token {when}"))
    return checks


def rate_limit_verdict(response: requests.Response) -> list[Check]:
    try:
        core = response.json()["resources"]["core"]
        remaining, limit = int(core["remaining"]), int(core["limit"])
    except (ValueError, KeyError, TypeError):
        return []
    if remaining <= 0:
        reset = time.strftime("%H:%M:%S", time.localtime(int(core.get("reset", 0))))
        return [fails(STEP_API, f"the API rate limit is used up until {reset}", "rate_limit")]
    return [Check(STEP_API, "ok", f"the API answers; {remaining} of {limit} requests left this hour")]


def clock_verdict(response: requests.Response) -> Check:
    try:
        server_time = parsedate_to_datetime(response.headers["Date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return Check(STEP_API, "skipped", "the server sent no Date header, so the clock was not compared")
    skew = server_time - time.time()
    if abs(skew) > CLOCK_SKEW_LIMIT_SECONDS:
        side = "behind" if skew > 0 else "ahead of"
        return fails(STEP_API, f"this machine's clock is {format_duration(abs(skew))} {side} the server's", "clock")
    return Check(STEP_API, "ok", "this machine's clock agrees with the server's")


# -- all of them -------------------------------------------------------------------------------------

def run_doctor(hostname: str | None, as_json: bool, environ: Mapping[str, str], *,
               build_url: Callable[[OAuthConfig], str], request_device_code: Callable[[OAuthConfig], object],
               load: Callable[[], OAuthConfig] | None = None,
               store_for: Callable[[str], TokenStore] = lambda issuer: TokenStore(issuer=issuer)) -> int:
    """Run every check in the chapter's order and print them; 0 when none failed, 1 otherwise.

    The chapter's own functions come in as parameters (step 1's URL, the device flow's first
    request), so that this module imports no chapter file; `load` and `store_for` let the demo
    point it at its own stand-in and token file.
    """
    if load is None:
        def load() -> OAuthConfig:
            return load_config(require_secret=False, server_url=server_url_for(hostname) if hostname else None)
    config, checks = check_settings(load, environ)
    if config is not None:
        config, found = check_metadata(config)
        checks.append(found)
    if config is None:
        checks.append(Check(STEP_EXCHANGE, "skipped", "every later check needs the settings"))
    else:
        store = store_for(config.server_url)
        checks.append(check_registration(config))
        checks.append(check_device_flow(config, request_device_code))
        checks.append(check_authorization_url(config, build_url))
        checks += check_token_store(store, environ, config)
        try:
            token = saved_or_variable_token(store, environ, config)
        except AuthError as error:  # a token variable that holds what no token has
            checks.append(fails(STEP_CONFIG, error.message, "unusable_variable"))
            token = None
        else:
            if token is None:
                checks.append(warns(STEP_API, f"not logged in to {host_of(config.server_url)}", "not_logged_in"))
        checks += check_token_and_api(config, token)
    report(checks, config, as_json)
    return 1 if any(check.status == "fail" for check in checks) else 0


def saved_or_variable_token(store: TokenStore, environ: Mapping[str, str], config: OAuthConfig) -> Token | None:
    variable = token_variable_in_use(environ, config.server_url)
    if variable:  # refused (AuthError) if it holds what no token has: no header could carry it
        return token_from_variable(environ, variable, config.server_url, config.api_url).token
    try:
        return store.load()
    except AuthError:
        return None  # the store check above has said why


def report(checks: list[Check], config: OAuthConfig | None, as_json: bool) -> None:
    if as_json:
        print_json([check._asdict() for check in checks])
        return
    where = host_of(config.server_url) if config else "the settings"
    print(f"Checking {where} the way the chapter goes (no browser, no new token):")
    for check in checks:
        print(f"{MARKS[check.status]} {check.step}: {check.detail}")
        if check.fix and check.status == "fail":
            print(f"    fix: {check.fix}")
        elif check.fix:
            print(f"    {check.fix}")
    failed = sum(check.status == "fail" for check in checks)
    print("Nothing failed." if not failed else
          f"{failed} check{'s' if failed > 1 else ''} failed: fix the first one first, then run doctor again.")
