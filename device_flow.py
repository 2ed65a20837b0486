"""Step 2, the other way: sign in by typing a short code on any device (the device flow, RFC 8628).

Run:  python device_flow.py            (or: python dev_github_tool.py login --device)
Needs: GITHUB_CLIENT_ID, and "Enable Device Flow" ticked on your OAuth app's page. No client
secret and no loopback server: this is the login for an SSH session, WSL, or any machine whose
browser cannot reach 127.0.0.1 here. On the stand-in (`python local_github.py`), open its
/login/device page and type the code shown.
Watch for: the tool never sees your password, nor even the page where you type the code, and it
shows or opens that page only on the server's own host. It shows the code, then asks GitHub at the
pace GitHub sets (`interval`, longer after `slow_down`, within bounds whatever a server says)
whether you have approved, until the code expires. The `device_code` it polls with is a secret too.
No `state` and no PKCE: nothing comes back through a browser to be forged or intercepted; and no
client secret, which a program on someone else's machine cannot keep (RFC 8628 §5.6).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import NamedTuple

from support import narration
from support.cli import SETTINGS_EPILOG, parse_arguments, run_step_script
from support.errors import STEP_DEVICE, AuthError, safe_text
from support.loopback import open_browser_in_background, print_now, sleep_in_slices
from support.metadata import discover
from support.output import format_duration
from support.revocation import revoke_github_token
from support.settings import OAuthConfig, load_config, trusted_verification_uri
from support.token import Token
from support.token_endpoint import (DevicePace, NoAnswer, TokenEndpointError, code_lifetime, poll_interval, post_form,
                                    post_to_token_endpoint, server_name, token_from_fields)
from support.token_store import save_new_login

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
EXPIRED = "the code expired before it was entered — run login --device again"
DEVICE_ERROR_FIXES = {
    "device_flow_disabled": "the device flow is off for this app — tick \"Enable Device Flow\" on the OAuth "
                            "app's page (Settings → Developer settings → OAuth Apps), then try again",
    "expired_token": EXPIRED,
    "token_expired": EXPIRED,  # the word GitHub's prose uses for the same thing
    "access_denied": "you declined the request — run login --device again and choose Authorize",
    "incorrect_client_credentials": "GITHUB_CLIENT_ID is wrong — copy it again from the OAuth app's page",
    "invalid_client": "GITHUB_CLIENT_ID is wrong — copy it again from the OAuth app's page",
    "incorrect_device_code": "the server does not know this device code — run login --device again",
    "unsupported_grant_type": "this server does not offer the device flow — check GITHUB_SERVER_URL, or "
                              "use login without --device",
    "unauthorized_client": "this app may not use the device flow — tick \"Enable Device Flow\" on its page",
}

# The pause between polls (in slices, so that Ctrl-C works) and the clock: names the tests
# replace, so that no test sleeps through an interval.
pause = sleep_in_slices
monotonic = time.monotonic


class DeviceCode(NamedTuple):
    """What the server hands out to start: a secret to poll with, and a code for you to type."""

    device_code: str  # secret: whoever holds it collects the token once you approve
    user_code: str
    verification_uri: str
    expires_in: float
    interval: float
    warning: str | None = None  # why the server's own verification_uri was set aside

    def __repr__(self) -> str:
        return f"DeviceCode(user_code={self.user_code!r}, verification_uri={self.verification_uri!r}, ...)"


def device_flow_error(error: TokenEndpointError) -> AuthError:
    fix = DEVICE_ERROR_FIXES.get(error.code)
    return AuthError(STEP_DEVICE, f"{error.server} says {error.code}: {fix}") if fix else \
        AuthError(STEP_DEVICE, error.message)


def request_device_code(config: OAuthConfig, scopes: tuple[str, ...]) -> DeviceCode:
    """RFC 8628 §3.1: ask for a device code and a user code. No client secret: anyone may ask."""
    try:
        fields = post_form(config.device_authorization_url,
                           {"client_id": config.client_id, "scope": " ".join(scopes)}, STEP_DEVICE)
    except TokenEndpointError as error:
        raise device_flow_error(error) from error
    device_code, user_code = fields.get("device_code"), fields.get("user_code")
    if not isinstance(device_code, str) or not device_code or not isinstance(user_code, str) or not user_code:
        raise AuthError(STEP_DEVICE, f"{server_name(config.server_url)} answered without a device code — "
                        "check GITHUB_SERVER_URL")
    # RFC 8628 §5.4 (remote phishing): only an https page on the configured server is shown or opened.
    page, warning = trusted_verification_uri(fields.get("verification_uri"), config.server_url)
    return DeviceCode(
        device_code=device_code,
        user_code=safe_text(user_code, 20),
        verification_uri=page,
        expires_in=code_lifetime(fields.get("expires_in")),  # within bounds: no endless wait,
        interval=poll_interval(fields.get("interval")),  # and no busy loop, whatever the server says
        warning=warning,
    )


def poll_for_token(config: OAuthConfig, device: DeviceCode, wait: float | None = None) -> Token:
    """RFC 8628 §3.4-3.5: ask, at the server's pace, until you approve, decline, or the code expires
    (or `wait` seconds pass, when that is sooner: login's --timeout)."""
    timeout_is_sooner = wait is not None and wait < device.expires_in
    pace = DevicePace(device.interval, wait if timeout_is_sooner else device.expires_in, monotonic())
    while (pause_for := pace.next_wait(monotonic())) is not None:  # no wait runs past the expiry
        pause(pause_for)
        if pace.next_wait(monotonic()) is None:  # the pause reached the expiry: never poll with a dead code
            break
        try:
            fields = post_to_token_endpoint(config, {"grant_type": DEVICE_GRANT, "device_code": device.device_code},
                                            STEP_DEVICE, with_secret=False)  # "not needed for the device flow"
        except NoAnswer as error:  # RFC 8628 §3.5: no answer means poll less often, not give up
            pace.back_off(error)
            continue
        except TokenEndpointError as error:
            pace.answered()
            if error.code == "authorization_pending":
                continue
            if error.code == "slow_down":  # asked too often: at least 5 s longer, for this and every later poll
                pace.slow_down(error.fields.get("interval"))
                continue
            raise device_flow_error(error) from error
        return token_from_fields(config, fields, STEP_DEVICE)
    raise pace.expired(f"no approval within {format_duration(wait)} (--timeout) — run login --device again"
                       if timeout_is_sooner else EXPIRED)


def sign_in_with_device(
    config: OAuthConfig,
    *,
    scopes: tuple[str, ...] | None = None,
    say: Callable[[str], None] = print,
    open_browser: Callable[[str], bool] | None = None,
    explain: bool = False,
    confirm: Callable[[Token], Token] | None = None,
    timeout: float | None = None,
) -> Token:
    """The whole device flow: get the codes, show yours, wait for your approval (until the code expires,
    or `timeout` seconds if that is sooner), return the token."""
    scopes = config.scopes if scopes is None else scopes
    device = request_device_code(config, scopes)
    if explain:
        narration.device_flow_started(say, config.device_authorization_url, DEVICE_GRANT, device.interval)
    say(f"First copy your one-time code: {device.user_code}")
    if device.warning:
        say(device.warning)
    say(f"Then open {device.verification_uri} on any device, sign in, and enter the code.")
    if open_browser is not None and not device.warning:
        # Best effort, in a thread of its own as step 2 opens it. Over SSH there may be no browser,
        # and the code and the address are on screen anyway: a failure needs no word.
        open_browser_in_background(open_browser, device.verification_uri, say=lambda line: None)
    wait = min(device.expires_in, timeout or device.expires_in)  # --timeout, when it ends the wait sooner
    say(f"Waiting up to {format_duration(wait)} for you to approve it…")
    token = poll_for_token(config, device, wait)
    return confirm(token) if confirm else token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Step 2, the other way: sign in with the device flow and save the "
                                     "token.", epilog=SETTINGS_EPILOG)
    parse_arguments(parser, argv)

    def sign_in_and_save() -> None:
        config = discover(load_config(require_secret=False))
        token = sign_in_with_device(config, say=print_now)
        print(save_new_login(token, revoke=revoke_github_token(config)))  # it revokes the token it replaces

    return run_step_script("device_flow.py", sign_in_and_save)


if __name__ == "__main__":
    raise SystemExit(main())
