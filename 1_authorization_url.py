"""Step 1 of the chapter: build the URL that asks GitHub for permission, with `state` and PKCE.

Run:  python 1_authorization_url.py
Needs: GITHUB_CLIENT_ID (see .env.example), or the stand-in: `python local_github.py`.
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
from dataclasses import dataclass, field
from urllib.parse import urlencode

from support.cli import SETTINGS_EPILOG, parse_arguments, run_step_script
from support.narration import describe_authorization_request
from support.settings import OAuthConfig, load_config

# 32 random bytes = 256 bits. RFC 6749 §10.12 asks for a `state` that cannot be guessed (§10.10:
# at most a 2^-128 chance), and RFC 7636 §7.1 recommends 32 octets for the verifier (43 characters).
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
    redirect_uri: str  # the token exchange repeats it (RFC 6749 §4.1.3)
    scopes: tuple[str, ...]
    state: str
    code_challenge: str
    code_verifier: str = field(repr=False)  # a secret until step 2 sends it: never in a log or a traceback


def build_authorization_url(config: OAuthConfig, redirect_uri: str, state: str, code_challenge: str,
                            scopes: tuple[str, ...]) -> str:
    query = {
        "response_type": "code",  # RFC 6749 §4.1.1 requires it; GitHub ignores it
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),  # RFC 6749 §3.3: space-separated
        "state": state,  # must come back unchanged: it stops a forged callback (CSRF, RFC 6749 §10.12)
        "code_challenge": code_challenge,  # a stolen code is useless without its verifier (PKCE, RFC 7636 §1)
        "code_challenge_method": CODE_CHALLENGE_METHOD,
    }
    return f"{config.authorize_url}?{urlencode(query)}"


def prepare_authorization_request(config: OAuthConfig, redirect_uri: str | None = None,
                                  scopes: tuple[str, ...] | None = None) -> AuthorizationRequest:
    """Fresh `state` and PKCE pair for one attempt: never reuse them (RFC 9700 §2.1 and §2.1.1)."""
    redirect_uri = redirect_uri or str(config.redirect)
    scopes = config.scopes if scopes is None else scopes
    state = generate_state()
    code_verifier = generate_code_verifier()
    code_challenge = code_challenge_for(code_verifier)
    url = build_authorization_url(config, redirect_uri, state, code_challenge, scopes)
    return AuthorizationRequest(url=url, redirect_uri=redirect_uri, scopes=scopes, state=state,
                                code_challenge=code_challenge, code_verifier=code_verifier)


def print_authorization_request() -> None:
    config = load_config(require_secret=False)
    request = prepare_authorization_request(config)
    print("The URL that asks GitHub for permission (step 2 opens it, with a server waiting for the answer):\n")
    print(request.url)
    print("\nWhat each parameter is for:")
    print("\n".join(describe_authorization_request(request, config.client_id)))
    if config.redirect.port is None:
        print("\nThe redirect_uri has no port: step 2 adds the port of the server it starts.")
    print("Run it again: state and code_challenge change every time.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Step 1: print a fresh authorization URL and what each part is for.",
                                     epilog=SETTINGS_EPILOG)
    parse_arguments(parser, argv)
    return run_step_script("1_authorization_url.py", print_authorization_request)


if __name__ == "__main__":
    raise SystemExit(main())
