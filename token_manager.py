"""The token lifecycle, for any OAuth 2.0 provider: keep, refresh, hand out and revoke tokens.

Part of the chapter: step 2 saves the token it gets through this file, step 3 and the complete
tool ask it for a valid token. The classes here know nothing about GitHub: the provider's
refresh and revocation requests come in as plain functions (step 3 supplies GitHub's).

Run:  python token_manager.py            every saved login's status, masked
      python token_manager.py --refresh  refresh this server's token now (step 3's GitHub wiring)
Watch for: the token file is private from the moment it exists, every write is all or nothing,
it keeps one login per server (issuer), and a refresh happens under a lock so that each refresh
token is spent exactly once, and only after a write check says the new pair can be kept.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

APP_DIR_NAME = "dev-github-tool"
TOKEN_FILE_NAME = "token.json"
# Refresh a little before the deadline: a token that expires while a request is in flight fails.
REFRESH_MARGIN_SECONDS = 60
# Bumped when the file's layout changes, so an old tool can refuse a file it cannot read.
# Version 1 held one token; version 2 holds one per issuer, as gh's hosts.yml keeps one per host.
TOKEN_FILE_VERSION = 2
SINGLE_TOKEN_VERSION = 1  # still read, and rewritten as version 2 at the next save
# Only the owner may read the directory and the file: the token is as good as a password.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# Enough of a secret to tell two tokens apart, never enough to use one.
MASK_VISIBLE_TAIL = 4
TOKEN_TYPE_TAG = re.compile(r"[a-z]{2,6}_")  # gho_, ghr_, github_ ... never more of the token

STEP_STORE = "token store"
STEP_REFRESH = "token refresh"
STEP_REVOKE = "revocation"


class AuthError(Exception):
    """A failure a person can act on: which step failed, what happened, what to do.

    Every step of the chapter raises this one type; `main()` prints it as one line.
    The message never contains a secret: pass masked values only.
    """

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


# The step scripts come before the complete tool in the chapter: their reader signs in with step
# 2's script and has not met `login` yet, so their errors give the advice in those words.
STEP_SCRIPT_WORDING = (
    ("run: python dev_github_tool.py login", "run: python 2_callback_exchange.py"),
    ("run login --device again", "run python device_flow.py again"),
    ("run login again", "sign in again with python 2_callback_exchange.py"),
    ("run login first", "sign in first with python 2_callback_exchange.py"),
    ("(login --scope \"read:user repo\")", "(GITHUB_SCOPES=\"read:user repo\", then python 2_callback_exchange.py)"),
)


def as_told_by_a_step_script(error: AuthError, script: str) -> str:
    """The one line a step script prints for `error`: the script's name, the step, and advice in
    the words of the chapter so far."""
    text = f"{script} failed at {error}"
    for tool_words, script_words in STEP_SCRIPT_WORDING:
        text = text.replace(tool_words, script_words)
    return text


class NotLoggedIn(AuthError):
    """No token is saved for this server: the one failure whose fix is simply to log in."""


class RefreshRejected(AuthError):
    """The provider refused the refresh token (expired, revoked or already used).

    A provider's refresh function raises this, rather than AuthError, for an invalid grant, so
    that the manager knows the refresh token is dead and must never be sent again.
    """


def mask(secret: str | None, show_prefix: bool = True) -> str:
    """Show a secret as its type prefix and last characters, like `gho_…a1b2`, or `(none)`.

    Many providers start tokens with a short lowercase type tag ending in "_" (gho_, ghr_);
    that tag says what the token is without helping anyone use it.
    """
    if not secret:
        return "(none)"
    tag = TOKEN_TYPE_TAG.match(secret) if show_prefix else None
    prefix = tag.group(0) if tag else ""
    if len(secret) < len(prefix) + 2 * MASK_VISIBLE_TAIL:
        return f"{prefix}…"
    return f"{prefix}…{secret[-MASK_VISIBLE_TAIL:]}"


def safe_text(value: object, limit: int) -> str:
    """Text from another party, made fit for a terminal: printable, one line, bounded."""
    if not isinstance(value, str):
        return ""
    # Drops escape sequences too: a hostile server must not be able to repaint your terminal.
    printable = "".join(char if char.isprintable() else " " for char in value)
    return printable[:limit].strip()


def parse_scope_list(value: object) -> tuple[str, ...]:
    # RFC 6749 §3.3 separates scopes with spaces; some providers answer with commas instead.
    if not isinstance(value, str):
        return ()
    return tuple(scope for scope in re.split(r"[,\s]+", value) if scope)


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


# The records that `status` and `repos` use (here, in oauth_config.py and step 3) are NamedTuples:
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
    issuer: str = ""
    resource: str = ""
    account: str | None = None

    def __repr__(self) -> str:
        return (
            f"Token(access_token={mask(self.access_token)!r}, scopes={self.scopes!r}, "
            f"expires_at={self.expires_at!r}, refresh_token={mask(self.refresh_token)!r}, "
            f"issuer={self.issuer!r}, resource={self.resource!r}, account={self.account!r})"
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
        return {**self._asdict(), "scopes": list(self.scopes)}

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
        for name in ("refresh_token", "account"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ValueError(f"{name} is not text")
        for name in ("expires_at", "refresh_token_expires_at"):
            value = data.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ValueError(f"{name} is not a number")
        scopes = data.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("scopes is not a list of text")
        known = {name: data.get(name) for name in cls._fields if name != "scopes"}
        return cls(**known, scopes=tuple(scopes))  # type: ignore[arg-type]


def default_token_path() -> Path:
    # The XDG base directory spec: $XDG_CONFIG_HOME, else ~/.config. The same place `gh` uses.
    # The spec says a relative path is invalid and must be ignored: it would move with the folder you run from.
    config_home = os.environ.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(config_home):
        config_home = str(Path.home() / ".config")
    return Path(config_home) / APP_DIR_NAME / TOKEN_FILE_NAME


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` across processes (released even if the holder crashes)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        if os.name == "nt":
            import msvcrt

            # LK_LOCK gives up after ten tries a second apart, but the holder may be refreshing over a
            # slow network: wait as long as flock would.
            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError as error:
                    if error.errno != errno.EDEADLOCK:
                        raise
            try:
                yield
            finally:
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # Windows asks for this before the file is closed
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            yield  # closing the descriptor below releases the lock, even if this process crashes
    finally:
        os.close(fd)


class TokenStore:
    """The saved logins: one private JSON file, written atomically, with one token per issuer.

    A store object reads and writes the entry of one `issuer` (the authorization server's URL),
    so that logging in to a second server keeps the first login. `issuer=None` means the only
    login saved, for scripts that handle a single one.
    """

    def __init__(self, path: Path | None = None, issuer: str | None = None) -> None:
        self.path = path or default_token_path()
        self.issuer = issuer
        # Lock a separate file: the token file itself is replaced on every save.
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def _fail(self, what: str, fix: str = "run login again") -> AuthError:
        return AuthError(STEP_STORE, f"the token file {self.path} {what} — {fix}")

    def _make_private_dir(self) -> None:
        try:
            self.path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        except OSError as error:
            raise self._fail(f"cannot be created ({error.strerror})", "check the folder's permissions") from error

    def load(self) -> Token | None:
        """This issuer's token, or None when there is none. A damaged file is an AuthError."""
        entries = self.load_all()
        if self.issuer is not None:
            return entries.get(self.issuer)
        if len(entries) > 1:
            raise self._fail(f"holds logins to {len(entries)} servers", "say which one (--hostname)")
        return next(iter(entries.values()), None)

    def load_all(self) -> dict[str, Token]:
        """Every saved token, by issuer."""
        text = self._read_text()
        if text is None:
            return {}
        try:
            return {issuer: Token.from_json(entry) for issuer, entry in self._entries(json.loads(text)).items()}
        except ValueError as error:  # json.JSONDecodeError is a ValueError too
            raise self._fail(f"is damaged ({str(error).split(':')[0]})") from error

    @staticmethod
    def _entries(data: object) -> dict[str, object]:
        if not isinstance(data, dict):
            raise ValueError("it does not hold a JSON object")
        if data.get("version") == SINGLE_TOKEN_VERSION:  # the layout before one login per server
            return {str(data.get("issuer", "")): {k: v for k, v in data.items() if k != "version"}}
        if data.get("version") != TOKEN_FILE_VERSION:
            raise ValueError(f"its version is {data.get('version')!r}, not {TOKEN_FILE_VERSION}")
        if not isinstance(data.get("tokens"), dict):
            raise ValueError("tokens is not an object")
        return data["tokens"]

    def _read_text(self) -> str | None:
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._fail(f"cannot be read ({error.strerror})", "check its permissions") from error
        if stat.S_ISLNK(info.st_mode):
            # Another local user could point the link at a file they control and feed us a token.
            raise self._fail("is a symbolic link, which is never followed", "delete it and run login again")
        if not stat.S_ISREG(info.st_mode):
            raise self._fail("is not a regular file", "remove it and run login again")
        try:
            # O_NOFOLLOW closes the gap between the check above and the open.
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, encoding="utf-8") as file:
                return file.read()
        except OSError as error:
            raise self._fail(f"cannot be read ({error.strerror})",
                             "check its permissions or run login again") from error
        except UnicodeDecodeError as error:
            raise self._fail("is not text") from error

    def _others(self, issuer: str) -> dict[str, Token]:
        """The other issuers' tokens, kept when this one changes; none if the file is damaged
        (a damaged file is replaced, as before, rather than blocking every login)."""
        try:
            return {key: token for key, token in self.load_all().items() if key != issuer}
        except AuthError:
            return {}

    def _write_entries(self, tokens: dict[str, Token]) -> None:
        data = {"version": TOKEN_FILE_VERSION, "tokens": {key: token.to_json() for key, token in tokens.items()}}
        self._write(json.dumps(data, indent=2), replace_file=True)

    def save(self, token: Token) -> None:
        """Write the token so that the file is either the old one or the new one, never half of each."""
        issuer = token.issuer if self.issuer is None else self.issuer
        self._write_entries({**self._others(issuer), issuer: token})

    def check_writable(self) -> None:
        """Prove that a save would work, by writing and removing a file beside the token file.

        Called before anything that cannot be undone: spending a rotating refresh token, or
        sending the user through the browser. A token the provider has issued but we cannot
        keep is a login lost.
        """
        self._write("", replace_file=False)

    def _write(self, text: str, replace_file: bool) -> None:
        self._make_private_dir()
        temporary = None
        try:
            if self.path.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            # mkstemp creates the file with mode 0600: there is no moment when others can read it.
            fd, temporary = tempfile.mkstemp(prefix=".token-", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            if replace_file:
                os.replace(temporary, self.path)
                temporary = None
        except OSError as error:
            raise self._fail(f"could not be written ({error.strerror}); the previous file is unchanged",
                             self._write_fix(error)) from error
        finally:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def _write_fix(self, error: OSError) -> str:
        """The advice that fits the cause: "free some disk space" does not fix a permission."""
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return "free some disk space, then try again"
        if error.errno == errno.EISDIR:
            return f"a folder is in the way: remove {self.path}, then try again"
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"make {self.path.parent} writable for you (or check that its disk is not read-only), then try again"
        return f"check {self.path.parent}, then try again"

    def delete(self) -> bool:
        """Forget this issuer's token; the file goes with the last one. True if there was one."""
        try:
            entries = self.load_all()
        except AuthError:
            return self._remove_file()  # a damaged file holds nothing worth keeping
        issuer = self.issuer if self.issuer is not None else next(iter(entries), None)
        if issuer not in entries:
            return False
        others = {key: token for key, token in entries.items() if key != issuer}
        if not others:
            return self._remove_file()
        self._write_entries(others)
        return True

    def _remove_file(self) -> bool:
        try:
            os.unlink(self.path)  # a symlink itself, never its target
        except FileNotFoundError:
            return False
        except OSError as error:
            raise self._fail(f"cannot be removed ({error.strerror})", "remove it by hand") from error
        return True

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise refresh, login and logout across every process that shares this file."""
        self._make_private_dir()
        with _exclusive_lock(self.lock_path):
            yield


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
        return self.refresh(only_if_expiring=True)

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
            raise AuthError(STEP_REFRESH,
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
            self.store.delete()
            return LogoutResult(had_token=True, revoked=problem is None, problem=problem, token=token)


def save_new_login(token: Token) -> str:
    """A step script's last act: save a fresh token (under its issuer, under the lock) and say so, masked."""
    store = TokenStore(issuer=token.issuer)
    TokenManager(store).save(token)
    return (f"Signed in. Access token {mask(token.access_token)}, scopes: {', '.join(token.scopes) or '(none)'}.\n"
            f"Saved to {store.path} (readable by you only).")


def describe_token(token: Token, path: Path, now: float | None = None) -> list[str]:
    """Human lines about a token: masked value, scopes, expiry, refreshability, location."""
    now = time.time() if now is None else now
    if token.expires_at is None:
        expiry = "does not expire"
    elif token.expires_at <= now:
        expiry = "expired"
    else:
        expiry = f"expires in {format_duration(token.expires_at - now)}"
    refresh = "yes" if token.can_refresh(now) else "no"
    return [
        f"token:        {mask(token.access_token)} ({expiry})",
        f"scopes:       {', '.join(token.scopes) or '(none)'}",
        f"refreshable:  {refresh}",
        f"issued by:    {token.issuer}",
        f"stored in:    {path}",
    ]


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 86400:
        return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds}s"


def refresh_outcome(before: Token | None, after: Token) -> str:
    """What `--refresh` did, said truthfully: the manager keeps a still-valid token when it cannot refresh."""
    if before is None or after.access_token != before.access_token:
        return "Refreshed: a new access token (and refresh token, if the provider rotates them) was saved."
    if not before.refresh_token:
        return "Not refreshed: this token has no refresh token (it does not expire, or was issued without one)."
    if not after.refresh_token:
        return ("Not refreshed: the provider refused the refresh token. The access token still works until it "
                "expires; run login again before then.")
    return "Not refreshed: the refresh did not go through, and the access token still works; try again later."


def main(argv: list[str] | None = None) -> int:
    import argparse
    import importlib

    parser = argparse.ArgumentParser(description="Show (or refresh) the saved token, masked.")
    parser.add_argument("--refresh", action="store_true", help="refresh the token now")
    args = parser.parse_args(argv)
    try:
        if args.refresh:
            # The classes above are provider-general; step 3 plugs in GitHub's refresh request.
            step3 = importlib.import_module("3_github_request")
            config = step3.load_config()
            store = TokenStore(issuer=config.server_url)
            before = store.load()
            token = step3.github_token_manager(config, store).refresh()
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
    except AuthError as error:
        print(as_told_by_a_step_script(error, "token_manager.py"), file=sys.stderr)
        return 1


if __name__ == "__main__":
    # Run as a script this file is `__main__`; register it under its own name as well, so that
    # step 3 (which imports token_manager) shares these classes instead of loading a second copy.
    sys.modules.setdefault("token_manager", sys.modules[__name__])
    sys.exit(main())
