"""The stand-in's device flow (RFC 8628 as GitHub runs it): POST /login/device/code, the page where
a person types the code (/login/device), and the device grant at the token endpoint.

As on GitHub: no client secret anywhere; `device_flow_disabled` unless the app allows it; polls
that come faster than `interval` get `slow_down` and five more seconds; a code lasts 15 minutes.
Tests approve or deny a code with `approve_device(user_code)` / `deny_device(user_code)`, make
every code expire with `expire_device_codes()`, and set `Settings.device_interval` to 0 so that
nobody waits. With `Settings.approval="auto"` the first poll is pending and the second is approved.
GitHub's side of it: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#device-flow

DeviceAuthority extends stand_in/oauth.py's TokenAuthority with the device grant (the token
endpoint hands that grant to `device_token`); stand_in/server.py mixes it into LocalGitHub, and
DeviceEndpoints into the request handler.
"""

from __future__ import annotations

import html
import secrets
import string
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from stand_in.oauth import TokenAnswer, TokenAuthority, normalize_scopes

DEVICE_CODE_PATH = "/login/device/code"
DEVICE_PAGE_PATH = "/login/device"
DEVICE_CODE_LENGTH = 40  # GitHub's device codes are 40 hexadecimal characters
SLOW_DOWN_SECONDS = 5  # "5 extra seconds are added to the minimum interval"
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels (no words), none that look alike
DEVICE_ERRORS = {
    "authorization_pending": "The authorization request is still pending.",
    "slow_down": "Too many requests have been made in the same timeframe.",
    "expired_token": "The `device code` has expired.",
    "access_denied": "The authorization request was denied.",
    "incorrect_device_code": "The device_code provided is not valid.",
    "device_flow_disabled": "Device flow must be explicitly enabled for this App",
}


@dataclass
class PendingDevice:
    scopes: tuple[str, ...]
    user_code: str
    expires_at: float
    interval: float
    decision: str | None = None  # None while pending, then "approved" or "denied"
    polls: int = 0
    last_poll: float = 0.0


class DeviceAuthority(TokenAuthority):
    """Device codes and their approval. Mixed into LocalGitHub, which holds the state."""

    devices: dict[str, PendingDevice]  # by device_code

    def issue_device_code(self, params: dict[str, str]) -> TokenAnswer:
        if not self.settings.device_flow:
            return TokenAnswer(400, {"error": "device_flow_disabled",
                                     "error_description": DEVICE_ERRORS["device_flow_disabled"]})
        if params.get("client_id") != self.settings.client_id:
            return self.token_error("incorrect_client_credentials")
        marker = self.settings.secret_marker
        device_code = marker + secrets.token_hex(DEVICE_CODE_LENGTH // 2)[:DEVICE_CODE_LENGTH - len(marker)]
        letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
        user_code = f"{letters[:4]}-{letters[4:]}"
        self.devices[device_code] = PendingDevice(
            scopes=normalize_scopes(params.get("scope", "")), user_code=user_code,
            expires_at=time.time() + self.settings.device_expires_in, interval=self.settings.device_interval)
        self.counters.secrets_seen.add(device_code)
        return TokenAnswer(200, {"device_code": device_code, "user_code": user_code,
                                 "verification_uri": self.settings.verification_uri or f"{self.url}{DEVICE_PAGE_PATH}",
                                 "expires_in": self.settings.device_expires_in,
                                 "interval": self.settings.device_interval})

    def device_token(self, params: dict[str, str]) -> TokenAnswer:
        """The token endpoint's answer to grant_type=urn:ietf:params:oauth:grant-type:device_code."""
        if params.get("client_id") != self.settings.client_id:
            return self.token_error("incorrect_client_credentials")
        device = self.devices.get(params.get("device_code", ""))
        if device is None:
            return self.device_error("incorrect_device_code")
        now = time.time()
        if device.expires_at < now:
            return self.device_error("expired_token")
        device.polls += 1
        too_soon = now - device.last_poll < device.interval
        device.last_poll = now
        if too_soon:
            device.interval += SLOW_DOWN_SECONDS
            return self.device_error("slow_down", interval=device.interval)
        if device.decision is None and self.settings.approval != "ask" and device.polls >= 2:
            device.decision = "approved" if self.settings.approval == "auto" else "denied"
        if device.decision is None:
            return self.device_error("authorization_pending")
        del self.devices[params["device_code"]]  # a device code is spent by its answer either way
        if device.decision == "denied":
            return self.device_error("access_denied")
        return TokenAnswer(200, self.grant_tokens(device.scopes, from_device=True))

    def device_error(self, code: str, **extra: object) -> TokenAnswer:
        # GitHub answers these with HTTP 200 too; RFC 8628 servers (the strict mode) with 400.
        return TokenAnswer(400 if self.settings.strict else 200,
                           {"error": code, "error_description": DEVICE_ERRORS[code], **extra})

    def decide_device(self, user_code: str, decision: str) -> bool:
        with self.lock:
            for device in self.devices.values():
                if device.user_code == user_code.strip().upper() and device.decision is None:
                    device.decision = decision
                    return True
        return False

    def approve_device(self, user_code: str) -> bool:
        return self.decide_device(user_code, "approved")

    def deny_device(self, user_code: str) -> bool:
        return self.decide_device(user_code, "denied")

    def expire_device_codes(self) -> None:
        with self.lock:
            for device in self.devices.values():
                device.expires_at = 0


class DeviceEndpoints:
    """The handler's device pages, mixed into the stand-in's request handler."""

    github: DeviceAuthority  # the stand-in: LocalGitHub

    def device_code(self, query_pairs: list[tuple[str, str]]) -> None:
        params = dict(query_pairs + parse_qsl(self.read_body().decode("utf-8", "replace")))
        with self.github.lock:
            answer = self.github.issue_device_code(params)
        self.send_token_answer(answer)

    def device_page(self) -> None:
        self.send(200, DEVICE_PAGE, "text/html; charset=utf-8")

    def device_decision(self) -> None:
        form = dict(parse_qsl(self.read_body().decode("utf-8", "replace")))
        decision = "approved" if form.get("decision") == "authorize" else "denied"
        if self.github.decide_device(form.get("user_code", ""), decision):
            self.send_page(200, "Device connected" if decision == "approved" else "Request declined",
                           "You can go back to your device now.")
        else:
            self.send_page(400, "Code not valid", f"No request is waiting for {form.get('user_code', '')!r}.")


DEVICE_PAGE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Device activation</title></head>
<body style="font:16px system-ui,sans-serif;max-width:34em;margin:4em auto">
<h1>Device activation</h1><p>Enter the code shown on your device (this is the local stand-in of GitHub).</p>
<form method="post" action="{html.escape(DEVICE_PAGE_PATH)}">
<input name="user_code" placeholder="XXXX-XXXX" autocomplete="off" maxlength="9" pattern="[A-Za-z{string.digits}-]+">
<button name="decision" value="authorize">Authorize</button>
<button name="decision" value="cancel">Cancel</button>
</form></body></html>
"""
