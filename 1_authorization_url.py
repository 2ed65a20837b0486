"""Step 1 of the chapter: build the URL that asks GitHub for permission, with `state` and PKCE.

Run:  python 1_authorization_url.py
Needs: GITHUB_CLIENT_ID (see .env.example); try it against `python local_github.py` too.
The settings themselves are read by oauth_config.py, which every step shares.
Watch for: two fresh random values on every run. `state` travels in the URL and comes back to
us; the PKCE `code_verifier` never leaves this program until the token exchange in step 2,
and only its SHA-256 hash (the `code_challenge`) goes into the URL.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import secrets
import sys
from dataclasses import dataclass, field
from urllib.parse import urlencode

from oauth_config import OAuthConfig, load_config
from token_manager import AuthError, as_told_by_a_step_script

STEP_AUTHORIZE = "step 1 (authorization URL)"

# 32 random bytes = 256 bits. RFC 6749 §10.10 asks that guessing `state` be infeasible, and
# RFC 7636 §7.1 recommends 32 octets for the verifier, base64url-encoded into 43 characters.
STATE_BYTES = 32
CODE_VERIFIER_BYTES = 32
# RFC 7636 §4.1: 43 to 128 characters of [A-Z] [a-z] [0-9] "-" "." "_" "~".
CODE_VERIFIER_PATTERN = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# RFC 7636 §4.2: S256 is the only method that keeps the verifier out of the URL; GitHub refuses "plain".
CODE_CHALLENGE_METHOD = "S256"


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
        f"  code_challenge={request.code_challenge}: SHA-256 of a secret code_verifier (never shown)",
        "    that only this program knows and sends in step 2, so a stolen code is useless to anyone",
        "    else (PKCE, RFC 7636).",
        f"  code_challenge_method={CODE_CHALLENGE_METHOD}: the hash method; GitHub accepts no other.",
        "  response_type=code: the authorization code flow (GitHub ignores it, RFC 6749 asks for it).",
    ]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description="Step 1: print a fresh authorization URL and what each part is for.",
                            epilog="Settings come from the environment and ./.env (see .env.example).").parse_args(argv)
    try:
        config = load_config(require_secret=False)
    except AuthError as error:
        print(as_told_by_a_step_script(error, "1_authorization_url.py"), file=sys.stderr)
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
