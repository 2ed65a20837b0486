"""The token record: what a token endpoint answered, checked, with its expiry made absolute.

`issuer` is the authorization server that issued a token and `resource` the only API it may be
sent to; both travel with the token into the token file, so that a token for one host is never
offered to another. So do the app it was issued to (client ID and secret) and its server's
endpoints, so that refreshing or revoking it needs no settings from the folder you are in. Its
repr masks both tokens and never shows the client secret.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from typing import NamedTuple

from support.endpoints import ServerEndpoints
from support.errors import mask, safe_text

# What a token may hold: visible ASCII, RFC 6749 Appendix A.12's VSCHAR without the space, which
# also fits RFC 6750 §2.1's Authorization header. A line break or a letter outside ASCII is refused
# wherever a token is read (a variable, the file, a server's answer), before anything is sent.
TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")
SCOPES_TEXT_LIMIT = 2000


def is_token_text(value: object) -> bool:
    return isinstance(value, str) and TOKEN_TEXT.fullmatch(value) is not None


def parse_scope_list(value: object) -> tuple[str, ...]:
    # RFC 6749 §3.3 separates scopes with spaces; some providers answer with commas instead. The
    # server's text is made safe first: a scope is printed, and no escape sequence may come with it.
    if not isinstance(value, str):
        return ()
    return tuple(scope for scope in re.split(r"[,\s]+", safe_text(value, SCOPES_TEXT_LIMIT)) if scope)


def _seconds_or_none(name: str, value: object) -> float | None:
    # Lifetimes arrive as numbers or as numeric strings, depending on the provider and its age.
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} is not a number")
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not a number") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name} is not a positive number")
    return seconds


# The records that `status` and `repos` use (here, in settings.py and step 3) are NamedTuples:
# typed and immutable like a frozen dataclass, but `import dataclasses` loads `inspect` and its
# kin, which would cost every `status` and `repos` about 8 ms (benchmarks/cli_speed.py).
# `token._replace(...)` is the NamedTuple spelling of `dataclasses.replace(token, ...)`.
class Token(NamedTuple):
    """An access token and everything needed to use, refresh and bind it.

    `issuer` is the authorization server that issued it and `resource` the only API it may be
    sent to (RFC 8707's word): a token for one host is never offered to another. Its repr masks
    both secrets.
    """

    access_token: str
    token_type: str = "bearer"
    scopes: tuple[str, ...] = ()
    expires_at: float | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: float | None = None
    issuer: str = ""  # the server's URL (its login's key); not its RFC 9207 issuer, which settings.py knows
    resource: str = ""  # the API it may be sent to
    account: str | None = None
    # The app that signed in and where its server's endpoints are: a refresh and a revocation use them,
    # and the secret goes only to the server it was used with. None: a token from before they were kept.
    client_id: str | None = None
    client_secret: str | None = None
    endpoints: ServerEndpoints | None = None

    def __repr__(self) -> str:
        return (
            f"Token(access_token={mask(self.access_token)!r}, scopes={self.scopes!r}, "
            f"expires_at={self.expires_at!r}, refresh_token={mask(self.refresh_token)!r}, "
            f"issuer={self.issuer!r}, resource={self.resource!r}, account={self.account!r}, "
            f"client_id={self.client_id!r})"
        )

    __str__ = __repr__

    @classmethod
    def from_token_response(
        cls, fields: Mapping[str, object], *, issuer: str, resource: str, now: float | None = None
    ) -> Token:
        """Build a token from a token endpoint's answer (RFC 6749 §5.1).

        `expires_in` is relative, so it becomes an absolute deadline at the moment of receipt.
        Raises ValueError when a field is missing or unusable; the caller names the step.
        """
        now = time.time() if now is None else now
        access_token = fields.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ValueError("the answer has no access_token")
        for name in ("access_token", "refresh_token"):
            if isinstance(fields.get(name), str) and fields[name] and not is_token_text(fields[name]):
                raise ValueError(f"its {name} holds characters no token has")
        expires_in = _seconds_or_none("expires_in", fields.get("expires_in"))
        refresh_expires_in = _seconds_or_none(
            "refresh_token_expires_in", fields.get("refresh_token_expires_in")
        )
        refresh_token = fields.get("refresh_token")
        token_type = fields.get("token_type")
        return cls(
            access_token=access_token,
            token_type=token_type if isinstance(token_type, str) and token_type else "bearer",
            scopes=parse_scope_list(fields.get("scope")),
            expires_at=None if expires_in is None else now + expires_in,
            refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
            refresh_token_expires_at=None if refresh_expires_in is None else now + refresh_expires_in,
            issuer=issuer,
            resource=resource,
        )

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at - seconds <= (time.time() if now is None else now)

    def is_expired(self, now: float | None = None) -> bool:
        return self.expires_within(0, now)

    def can_refresh(self, now: float | None = None) -> bool:
        if not self.refresh_token:
            return False
        if self.refresh_token_expires_at is None:
            return True
        return self.refresh_token_expires_at > (time.time() if now is None else now)

    def to_json(self) -> dict[str, object]:
        endpoints = self.endpoints.to_json() if self.endpoints else None
        return {**self._asdict(), "scopes": list(self.scopes), "endpoints": endpoints}

    @classmethod
    def from_json(cls, data: object) -> Token:
        """Read a token back from the store, checking every field's type (the file may be edited)."""
        if not isinstance(data, dict):
            raise ValueError("it does not hold a JSON object")
        if not isinstance(data.get("access_token"), str) or not data["access_token"]:
            raise ValueError("access_token is missing or not text")
        for name in ("token_type", "issuer", "resource"):
            if not isinstance(data.get(name), str):
                raise ValueError(f"{name} is missing or not text")
        for name in ("refresh_token", "account", "client_id", "client_secret"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ValueError(f"{name} is not text")
        for name in ("access_token", "refresh_token"):
            if data.get(name) and not is_token_text(data[name]):
                raise ValueError(f"{name} holds characters no token has")
        for name in ("expires_at", "refresh_token_expires_at"):
            value = data.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ValueError(f"{name} is not a number")
        scopes = data.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("scopes is not a list of text")
        endpoints = None if data.get("endpoints") is None else ServerEndpoints.from_json(data["endpoints"])
        known = {name: data.get(name) for name in cls._fields if name not in ("scopes", "endpoints")}
        return cls(**known, scopes=tuple(scopes), endpoints=endpoints)  # type: ignore[arg-type]
