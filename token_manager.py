"""The token lifecycle, for any OAuth 2.0 provider: hand out a valid token, refresh it, revoke it.

Run:  python token_manager.py            every saved login's status, masked
      python token_manager.py --refresh  refresh this server's token now (start the stand-in
                                         with --expiring: only expiring tokens have a refresh token)
Watch for: an access token that expires within a minute is refreshed before it is used; the
refresh happens under a lock shared by every process, with a fresh read of the token file, so that
each refresh token is spent exactly once (providers that rotate them treat a reuse as theft), and
only after a write check says the new pair can be kept. TokenManager knows nothing of GitHub: the
provider's refresh and revocation requests come in as plain functions, GitHub's at the end (the
revocation request, RFC 7009's or GitHub's own, is in support/revocation.py, where the step scripts
use it too, to revoke the token a new sign-in replaces).
Saving the file (atomic, private, locked) is plumbing: support/token_store.py.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import NamedTuple

from support.cli import parse_arguments, run_step_script
from support.errors import STEP_REFRESH, STEP_STORE, AuthError, NotLoggedIn, RefreshRejected
from support.output import describe_token, refresh_outcome
from support.revocation import revoke_github_token
from support.settings import OAuthConfig, load_config, missing_secret
from support.token import Token
from support.token_endpoint import TokenEndpointError, post_to_token_endpoint, token_from_fields
from support.token_store import LockUnavailable, TokenStore

# Refresh a little before the deadline: a token that expires while a request is in flight fails.
REFRESH_MARGIN_SECONDS = 60


RefreshFunction = Callable[[Token], Token]
RevokeFunction = Callable[[Token], None]


class LogoutResult(NamedTuple):
    had_token: bool
    revoked: bool
    problem: str | None = None  # why it was not revoked
    token: Token | None = None  # the token that was logged out, to say where to revoke it by hand


class TokenManager:
    """Hands out a valid access token, refreshing it when it is about to expire.

    `refresh(old_token)` asks the provider for a new token and raises RefreshRejected when the
    refresh token is no good; `revoke(token)` asks the provider to forget a token.
    """

    def __init__(
        self,
        store: TokenStore,
        refresh: RefreshFunction | None = None,
        revoke: RevokeFunction | None = None,
        margin: float = REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._refresh = refresh
        self._revoke = revoke
        self.margin = margin
        self.clock = clock

    def _require(self, token: Token | None) -> Token:
        if token is None:
            raise NotLoggedIn(STEP_STORE, "you are not logged in — run login first")
        return token

    def save(self, token: Token) -> None:
        with self.store.lock():
            self.store.save(token)

    def valid_token(self) -> Token:
        """The saved token, refreshed first if it expires within the margin."""
        token = self._require(self.store.load())
        if not token.expires_within(self.margin, self.clock()):
            return token
        try:
            return self.refresh(only_if_expiring=True)
        except LockUnavailable:
            if token.is_expired(self.clock()):
                raise
            return token  # a read-only folder: use it while it lasts, as when the write check fails below

    def refresh(self, only_if_expiring: bool = False) -> Token:
        with self.store.lock():
            # Read again under the lock: another process may have refreshed while we waited,
            # and its refresh token has replaced the one we read (rotation spends the old one).
            token = self._require(self.store.load())
            if only_if_expiring and not token.expires_within(self.margin, self.clock()):
                return token
            return self._refresh_locked(token)

    def _refresh_locked(self, token: Token) -> Token:
        now = self.clock()
        still_valid = not token.is_expired(now)
        if self._refresh is None or not token.can_refresh(now):
            if still_valid:
                return token
            raise AuthError(STEP_REFRESH, "the access token has expired and cannot be refreshed — run login again")
        try:
            # Rotation spends the old refresh token: make sure the new pair can be kept first.
            self.store.check_writable()
        except AuthError:
            if still_valid:
                return token  # use it while it lasts; the refresh waits until the folder is fixed
            raise
        try:
            fresh = self._refresh(token)
        except RefreshRejected as error:
            if still_valid:
                # Keep the working access token, but drop the dead refresh token so that it is
                # never sent again: some providers revoke the whole grant when they see one reused.
                kept = token._replace(refresh_token=None, refresh_token_expires_at=None)
                self.store.save(kept)
                return kept
            self.store.delete()
            raise RefreshRejected(STEP_REFRESH,
                                  f"{error.message}; the saved token was removed — run login again") from error
        except AuthError:
            if still_valid:
                return token  # a network hiccup: the token still works for a little while
            raise  # the file stays as it was, so a later try can still refresh
        fresh = fresh._replace(
            # RFC 6749 §6: a provider may keep the old refresh token (no rotation) or the old scopes.
            refresh_token=fresh.refresh_token or token.refresh_token,
            refresh_token_expires_at=fresh.refresh_token_expires_at
            if fresh.refresh_token else token.refresh_token_expires_at,
            scopes=fresh.scopes or token.scopes,
            account=fresh.account or token.account,
        )
        # Save before anyone uses the new pair: the old refresh token is already spent.
        self.store.save(fresh)
        return fresh

    def logout(self) -> LogoutResult:
        """Revoke the token at the provider, then delete it here whatever the provider said."""
        with self.store.lock():
            try:
                token = self.store.load()
            except AuthError:
                # A damaged file holds nothing we could revoke; remove it anyway.
                had_file = self.store.delete()
                return LogoutResult(had_token=had_file, revoked=False, problem="the token file was damaged")
            if token is None:
                return LogoutResult(had_token=False, revoked=False)
            problem = None
            if self._revoke is not None:
                try:
                    self._revoke(token)
                except AuthError as error:
                    problem = error.message
            else:
                problem = "this provider has no revocation endpoint"
            self.store.delete(revoked=problem is None)  # a failed delete then says the file holds a dead token
            return LogoutResult(had_token=True, revoked=problem is None, problem=problem, token=token)


# -- GitHub's side: the provider functions TokenManager is given ---------------------------------

def refresh_github_token(config: OAuthConfig) -> RefreshFunction:
    """grant_type=refresh_token at the token endpoint (RFC 6749 §6)."""

    def refresh(old: Token) -> Token:
        # A refresh token goes only to the server that issued it, whatever the settings say now.
        if old.issuer != config.server_url:
            raise AuthError(STEP_REFRESH, f"the token was issued by {old.issuer}, not {config.server_url}; "
                            "its refresh token is not sent elsewhere — run login again")
        app = config.for_login(old)  # the app and endpoints it signed in with, whatever this folder's .env says
        # GitHub wants the client secret "unless the token was generated using the device flow":
        # without one in the settings, try without it, and say what to do if the server insists.
        with_secret = bool(app.client_secret)
        try:
            fields = post_to_token_endpoint(
                app, {"grant_type": "refresh_token", "refresh_token": old.refresh_token or ""}, STEP_REFRESH,
                with_secret=with_secret)
        except TokenEndpointError as error:
            if error.code in ("bad_refresh_token", "invalid_grant"):
                raise RefreshRejected(STEP_REFRESH, f"{error.server} says {error.code}: the refresh token expired, "
                                      "was revoked or was already used") from error
            if not with_secret and error.code in ("incorrect_client_credentials", "invalid_client"):
                why, fix = missing_secret(config)
                raise AuthError(STEP_REFRESH, f"{why}, and the server needs it to refresh this token (it came from "
                                f"the browser flow) — {fix}") from error
            raise
        return token_from_fields(app, fields, STEP_REFRESH)

    return refresh


def github_token_manager(config: OAuthConfig, store: TokenStore | None = None) -> TokenManager:
    # Revocation (support/revocation.py): RFC 7009 where the server publishes an endpoint, else GitHub's
    # DELETE /applications/{client_id}/token; the step scripts use it too, for the token a sign-in replaces.
    return TokenManager(store or TokenStore(issuer=config.server_url), refresh=refresh_github_token(config),
                        revoke=revoke_github_token(config))


def show_or_refresh(refresh: bool) -> int:
    if refresh:
        config = load_config(require_secret=False)  # a device-flow token refreshes without the secret
        store = TokenStore(issuer=config.server_url)
        config = store.settings_of_the_login(config)  # the app this login was made with, from any folder
        before = store.load()
        token = github_token_manager(config, store).refresh()
        print(refresh_outcome(before, token))
        print("\n".join(describe_token(token, store.path)))
        return 0
    store = TokenStore()
    saved = store.load_all()
    if not saved:
        print(f"No token saved at {store.path}. Run: python 2_callback_exchange.py")
        return 1
    print("\n\n".join("\n".join(describe_token(token, store.path)) for token in saved.values()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Show (or refresh) the saved token, masked.")
    parser.add_argument("--refresh", action="store_true", help="refresh the token now")
    args = parse_arguments(parser, argv)
    return run_step_script("token_manager.py", lambda: show_or_refresh(args.refresh))


if __name__ == "__main__":
    raise SystemExit(main())
