"""Step 2 of the chapter: catch GitHub's redirect on a loopback address and trade the code for a token.

Run:  python 2_callback_exchange.py [--timeout SECONDS] [--no-browser]
Needs: GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (see .env.example), or `python local_github.py`.
Watch for: the server listens before the browser opens; only a callback that carries our `state`
ends the wait, and `state` is checked before the code is even looked at; a callback that names
another server as its issuer (`iss`) is refused; the code is exchanged once, with the PKCE
verifier, while the browser waits, so the page it shows tells the real outcome.
How HTTP is spoken on 127.0.0.1, and the browser's own thread, are in support/loopback.py.
"""

from __future__ import annotations

import argparse
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from chapter import step1  # 1_authorization_url.py, loaded by name in chapter.py
from support import narration
from support.cli import DEFAULT_TIMEOUT_SECONDS, parse_arguments, run_step_script, seconds_above_zero
from support.errors import STEP_CALLBACK, STEP_EXCHANGE, AuthError, safe_text
from support.loopback import (ALREADY_USED, NOT_OURS, REPEATED, LoopbackServer, Respond, no_callback_within,
                              open_browser_in_background, open_in_browser, print_now, signed_in_page)
from support.metadata import discover, issuer_required, wrong_issuer
from support.revocation import revoke_github_token
from support.settings import LoopbackRedirect, OAuthConfig, load_config
from support.token import Token
from support.token_endpoint import CALLBACK_ERROR_FIXES, post_to_token_endpoint, server_name, token_from_fields
from support.token_store import save_new_login


@dataclass(frozen=True)
class CallbackResult:
    """What the genuine callback (the one with our `state`) carried."""

    code: str | None = field(repr=False)  # a secret until exchanged: never in a log or a traceback
    error: str | None = None
    error_description: str | None = None
    issuer: str | None = None  # RFC 9207 `iss`: which authorization server sent the browser back


class CallbackServer(LoopbackServer):
    """Waits on this machine's loopback address for the one genuine callback, then finishes sign-in.

    sign_in_with_browser calls `expect`; the browser's request reaches `handle_callback` (on the
    server's thread), which finishes the sign-in while the browser waits; `wait` hands the token,
    or the failure, to the main thread. It binds 127.0.0.1 or ::1 only (RFC 8252 §7.3)."""

    def __init__(self, redirect: LoopbackRedirect) -> None:
        super().__init__(redirect)
        self._expected_state = b""
        self._finish: Callable[[CallbackResult], Token] | None = None
        self.result: CallbackResult | None = None  # what the genuine callback carried

    def expect(self, state: str, finish: Callable[[CallbackResult], Token]) -> None:
        self._expected_state = state.encode("utf-8")
        self._finish = finish

    def handle_callback(self, query: str, respond: Respond) -> None:
        params = parse_qs(query, keep_blank_values=True)
        if not self.state_matches(params.get("state", [])):
            respond(NOT_OURS)  # forged (CSRF, RFC 6749 §10.12) or stale: keep waiting for ours
            return
        if any(len(values) > 1 for values in params.values()):
            respond(REPEATED)  # RFC 6749 §3.1: no parameter may appear twice
            return
        if not self.claim():
            respond(ALREADY_USED)  # a replayed callback: the code is exchanged once, by the first
            return
        self.result = CallbackResult(code=params.get("code", [None])[0], error=params.get("error", [None])[0],
                                     error_description=params.get("error_description", [None])[0],
                                     issuer=params.get("iss", [None])[0])
        # Exchanged while the browser waits, so the page it shows tells the real outcome.
        self.finish_while_the_browser_waits(respond, lambda: self._finish(self.result),
                                            lambda token: signed_in_page(token.account))

    def state_matches(self, values: list[str]) -> bool:
        if len(values) != 1 or not self._expected_state:
            return False
        # Compared in constant time, so response times cannot reveal how much of a guess was right.
        return hmac.compare_digest(values[0].encode("utf-8", "replace"), self._expected_state)

    def wait(self, timeout: float) -> Token:
        if not self.wait_for_outcome(timeout):
            raise no_callback_within(timeout)  # a closed tab, or GitHub's page "redirect_uri is not associated"
        assert isinstance(self.outcome, Token)
        return self.outcome


def check_issuer(config: OAuthConfig, result: CallbackResult) -> None:
    """Refuse a callback that names another authorization server as its issuer (RFC 9207 §2.4).

    In a mix-up attack (RFC 9700 §4.4) a server we did not ask answers in the browser, hoping we
    send its code, and with it our verifier and client secret, to the server we meant. github.com,
    and servers whose metadata says so, name themselves in every callback; others may send no `iss`.
    """
    # Compared as plain strings (§2.4); a missing `iss` is refused where the server always sends one.
    if result.issuer != config.issuer and (result.issuer is not None or issuer_required(config)):
        raise wrong_issuer(config, result.issuer)


def exchange_code_for_token(config: OAuthConfig, code: str, request: step1.AuthorizationRequest) -> Token:
    """Trade the single-use code for a token (RFC 6749 §4.1.3). Never retried: a code works once."""
    # support adds client_id and client_secret. GitHub wants the secret even with PKCE, though a
    # program on your machine cannot keep one secret (RFC 8252 §8.5): the verifier is the real proof.
    fields = post_to_token_endpoint(config, {
        # Required by RFC 6749 §4.1.3. GitHub does without, but Gitea, Forgejo and every server
        # that follows the RFC refuse an exchange without it (unsupported_grant_type).
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": request.redirect_uri,  # the same as in the authorization request (§4.1.3)
        "code_verifier": request.code_verifier,  # PKCE's secret half: we started this sign-in
    }, STEP_EXCHANGE)
    return token_from_fields(config, fields, STEP_EXCHANGE)


def finish_sign_in(config: OAuthConfig, request: step1.AuthorizationRequest, result: CallbackResult) -> Token:
    check_issuer(config, result)  # first, before an error or a code from the wrong server is read
    if result.error:
        code = safe_text(result.error, 60)
        fix = CALLBACK_ERROR_FIXES.get(code) or safe_text(result.error_description, 160) or "run login again"
        raise AuthError(STEP_CALLBACK, f"{server_name(config.server_url)} says {code}: {fix}")
    if not result.code:
        raise AuthError(STEP_CALLBACK, f"{server_name(config.server_url)} sent no code — run login again")
    return exchange_code_for_token(config, result.code, request)


def sign_in_with_browser(config: OAuthConfig, *, scopes: tuple[str, ...] | None = None,
                         timeout: float = DEFAULT_TIMEOUT_SECONDS,
                         open_browser: Callable[[str], bool] | None = open_in_browser,
                         say: Callable[[str], None] = print_now, explain: bool = False,
                         confirm: Callable[[Token], Token] | None = None) -> Token:
    """Steps 1 and 2 together: listen, open the URL, wait for the callback, exchange the code.
    `confirm(token)`, if given, runs before the browser gets its answer (the complete tool asks who
    signed in), so the page tells the whole outcome."""
    with CallbackServer(config.redirect) as server:
        request = step1.prepare_authorization_request(config, server.redirect_uri, scopes)

        def finish(result: CallbackResult) -> Token:
            token = finish_sign_in(config, request, result)
            return confirm(token) if confirm else token

        server.expect(request.state, finish)
        server.start()  # listening before the browser opens, so no callback can arrive too early
        if explain:
            narration.before_the_browser(say, config.server_url, narration.describe_authorization_request(
                request, config.client_id), server.redirect_uri)
        say(f"Open this URL to sign in (it is safe to copy; it holds no secret):\n{request.url}")
        say(f"Waiting up to {timeout:g} s for the browser to come back…")
        if open_browser is not None:
            open_browser_in_background(open_browser, request.url, say)
        token = server.wait(timeout)
    if explain:
        narration.after_the_callback(say, config.issuer, server.result.issuer if server.result else None,
                                     request.scopes, token.scopes)
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Steps 1-2: sign in through the browser and save the token.")
    parser.add_argument("--timeout", type=seconds_above_zero, default=DEFAULT_TIMEOUT_SECONDS,
                        help=f"seconds to wait for the browser (default {DEFAULT_TIMEOUT_SECONDS})")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    args = parse_arguments(parser, argv)

    def sign_in_and_save() -> None:
        config = discover(load_config())
        token = sign_in_with_browser(config, timeout=args.timeout,
                                     open_browser=None if args.no_browser else open_in_browser)
        print(save_new_login(token, revoke=revoke_github_token(config)))  # it revokes the token it replaces

    return run_step_script("2_callback_exchange.py", sign_in_and_save)


if __name__ == "__main__":
    raise SystemExit(main())
