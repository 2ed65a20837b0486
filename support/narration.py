"""What `--explain` and step 1 say about each part of the flow, in the chapter's words.

The code that does each act is in the chapter's files, with the standard it follows cited in a
comment; these lines tell a person at the terminal what just happened and why, with no RFC
numbers (the comments and docs/ have those).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

Say = Callable[[str], None]


class AuthorizationRequestLike(Protocol):
    """The parts of step 1's AuthorizationRequest that are described (never the code_verifier)."""

    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    code_challenge: str


def describe_authorization_request(request: AuthorizationRequestLike, client_id: str) -> list[str]:
    """What each parameter of the authorization URL is for, in a line or two each."""
    return [
        f"  client_id={client_id}: which app is asking (public, not a secret).",
        f"  redirect_uri={request.redirect_uri}: where the server sends the browser back; a loopback",
        "    address on this machine, so the code never crosses the network.",
        f"  scope={' '.join(request.scopes) or '(none)'}: the access asked for, kept narrow; you may grant less.",
        f"  state={request.state}: a random value that must come back unchanged; it proves",
        "    the callback answers our request and not one forged by another web page (cross-site request forgery).",
        f"  code_challenge={request.code_challenge}: SHA-256 of a secret code_verifier (never shown)",
        "    that only this program knows and sends in step 2, so a stolen code is useless to anyone",
        "    else (PKCE, Proof Key for Code Exchange).",
        "  code_challenge_method=S256: the hash method; GitHub accepts no other.",
        "  response_type=code: the authorization code flow (GitHub ignores it; the standard asks for it).",
    ]


def before_the_browser(say: Say, server_url: str, description: Sequence[str], redirect_uri: str) -> None:
    say(f"Step 1: a fresh state and PKCE pair, and the URL that asks {server_url} for access:")
    for line in description:
        say(line)
    say(f"Step 2: listening on {redirect_uri} (loopback only) before the browser opens.")


def after_the_callback(say: Say, expected_issuer: str, issuer: str | None, asked: Sequence[str],
                       granted: Sequence[str]) -> None:
    say("Step 2: the callback carried our state (compared in constant time), so it answers our own request.")
    if issuer is None:
        say("  It named no issuer (older servers do not); had it named one other than")
        say(f"  {expected_issuer}, it would have been refused.")
    else:
        say(f"  It named {issuer} as its issuer, the server we asked; a callback naming")
        say("  any other server is refused, which stops mix-up attacks (another server's code sent to ours).")
    say("  The code was exchanged (grant_type=authorization_code) with client_id, client_secret,")
    say("  redirect_uri and the PKCE code_verifier (never shown) that hashes to the code_challenge above.")
    say(f"  Scopes asked: {' '.join(asked) or '(none)'}; granted: {' '.join(granted) or '(none)'}.")


def device_flow_started(say: Say, device_code_url: str, grant_type: str, interval: float) -> None:
    say(f"Device flow: POST {device_code_url} with client_id and scope (no secret)")
    say("  gave a secret device_code to poll with and a user_code for you; the token is asked for with")
    say(f"  grant_type={grant_type} every {interval:g} s.")
