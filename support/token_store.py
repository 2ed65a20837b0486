"""The private token file: one login per server, written all or nothing, readable by you only.

One JSON file holds one token per issuer (the authorization server's URL, in its normal form), as
gh's hosts.yml keeps one login per host. Every write goes to a new 0600 file that replaces the old
one at once, so a crash leaves the old file or the new one, never half of each; a symbolic link is
never followed, not even to the lock beside the file that serialises refresh, login and logout
across processes. As ssh treats its keys, a file or folder another user owns is refused, and one
of ours that others may read is made private again.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from support.errors import STEP_STORE, AuthError, mask
from support.settings import normal_url
from support.token import Token

if TYPE_CHECKING:
    from support.settings import OAuthConfig

APP_DIR_NAME = "dev-github-tool"
TOKEN_FILE_NAME = "token.json"
# Bumped when the file's layout changes, so an old tool can refuse a file it cannot read.
# Version 1 held one token; version 2 holds one per issuer, as gh's hosts.yml keeps one per host.
TOKEN_FILE_VERSION = 2
SINGLE_TOKEN_VERSION = 1  # still read, and rewritten as version 2 at the next save
# Only the owner may read the directory and the file: the token is as good as a password.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
OTHERS_MAY_ACCESS = 0o077  # any permission for the group or for others
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)  # Windows has no symbolic links to refuse here


def default_token_path() -> Path:
    # The XDG base directory spec: $XDG_CONFIG_HOME, else ~/.config. The same place `gh` uses.
    # The spec says a relative path is invalid and must be ignored: it would move with the folder you run from.
    config_home = os.environ.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(config_home):
        config_home = str(Path.home() / ".config")
    return Path(config_home) / APP_DIR_NAME / TOKEN_FILE_NAME


def current_user() -> int | None:
    """Who we are, for ownership checks; None on Windows, where files have owners but no uid."""
    return os.getuid() if hasattr(os, "getuid") else None


def _open_lock_file(path: Path) -> int:
    # O_NOFOLLOW: a link planted at the lock's path must not make us create, or lock, its target.
    return os.open(path, os.O_RDWR | os.O_CREAT | NO_FOLLOW, PRIVATE_FILE_MODE)


@contextmanager
def _exclusive_lock(path: Path, cannot_open: Callable[[OSError], Exception] = lambda error: error) -> Iterator[None]:
    """Hold an exclusive lock on `path` across processes (released even if the holder crashes)."""
    try:
        fd = _open_lock_file(path)
    except OSError as error:
        raise cannot_open(error) from error
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
        self.issuer = None if issuer is None else normal_url(issuer)
        # Lock a separate file: the token file itself is replaced on every save.
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def _fail(self, what: str, fix: str = "run login again") -> AuthError:
        return AuthError(STEP_STORE, f"the token file {self.path} {what} — {fix}")

    def _make_private_dir(self) -> None:
        try:
            self.path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        except OSError as error:
            raise self._fail(f"cannot be created ({error.strerror})", "check the folder's permissions") from error
        self._check_folder()

    def _check_folder(self) -> None:
        """Refuse a folder another user owns (they could swap the token file); make ours private."""
        folder = self.path.parent
        try:
            info = os.stat(folder)
        except FileNotFoundError:
            return
        except OSError as error:
            raise self._fail(f"cannot be reached ({error.strerror})", f"check the permissions of {folder}") from error
        user = current_user()
        if user is None:
            return
        if info.st_uid != user:
            raise self._fail(f"is in {folder}, a folder another user owns (uid {info.st_uid}), who could swap it",
                             f"remove that folder, or make it yours: sudo chown -R \"$USER\" {folder}")
        if stat.S_IMODE(info.st_mode) & OTHERS_MAY_ACCESS:
            self._make_private(lambda: os.chmod(folder, PRIVATE_DIR_MODE), folder, "chmod 700")

    def _check_file(self, fd: int) -> None:
        """Refuse a token file another user owns (they could have written any token into it);
        make ours private if others could read it."""
        info = os.fstat(fd)
        user = current_user()
        if user is None:
            return
        if info.st_uid != user:
            raise self._fail(f"belongs to another user (uid {info.st_uid}), who could have written any token into it",
                             f"delete it and run login again (or, if it is yours, sudo chown \"$USER\" {self.path})")
        if stat.S_IMODE(info.st_mode) & OTHERS_MAY_ACCESS:
            self._make_private(lambda: os.fchmod(fd, PRIVATE_FILE_MODE), self.path, "chmod 600")

    def _make_private(self, tighten: Callable[[], None], path: Path, command: str) -> None:
        try:
            tighten()
        except OSError as error:
            raise self._fail(f"is in reach of other users, and {path} cannot be made private ({error.strerror})",
                             f"run: {command} {path}") from error

    def load(self) -> Token | None:
        """This issuer's token, or None when there is none. A damaged or foreign file is an AuthError."""
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
            entries = {issuer: Token.from_json(entry) for issuer, entry in self._entries(json.loads(text)).items()}
        except ValueError as error:  # json.JSONDecodeError is a ValueError too
            raise self._fail(f"is damaged ({str(error).split(':')[0]})") from error
        return normal_entries(entries)

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
        self._check_folder()
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
            fd = os.open(self.path, os.O_RDONLY | NO_FOLLOW)
            with os.fdopen(fd, encoding="utf-8") as file:
                self._check_file(fd)
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
        issuer = normal_url(token.issuer) if self.issuer is None else self.issuer
        self._write_entries({**self._others(issuer), issuer: token})

    def check_writable(self) -> None:
        """Prove that a save would work, by writing and removing a file beside the token file.

        Called before anything that cannot be undone: spending a rotating refresh token, or
        sending the user through the browser. A token the provider has issued but we cannot
        keep is a login lost. The lock must open too: the save will need it.
        """
        self._write("", replace_file=False)
        try:
            os.close(_open_lock_file(self.lock_path))
        except OSError as error:
            raise self._lock_failure(error) from error

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
        with _exclusive_lock(self.lock_path, self._lock_failure):
            yield

    def _lock_failure(self, error: OSError) -> AuthError:
        if error.errno == errno.ELOOP:
            return self._fail(f"cannot be locked: {self.lock_path.name} is a symbolic link, which is never followed",
                              f"delete {self.lock_path}, then try again")
        return self._fail(f"cannot be locked ({error.strerror})", f"check {self.lock_path}, then try again")

    def settings_of_the_login(self, config: OAuthConfig) -> OAuthConfig:
        """`config` with the app (client ID and secret) and endpoints this issuer's login was made with, so
        that reading, refreshing and revoking need no .env in the current folder (OAuthConfig.for_login).
        Unchanged when there is no login, or the file is damaged (the command itself then says so)."""
        try:
            saved = self.load()
        except AuthError:
            return config
        return config if saved is None else config.for_login(saved)


def normal_entries(entries: dict[str, Token]) -> dict[str, Token]:
    """The entries keyed, and their servers named, in the normal form: a login saved as
    `https://GitHub.com/` by an older version is still github.com's (and is saved so at the next
    write). Where two spellings of one server were saved, the one already normal wins."""
    normal: dict[str, Token] = {}
    for issuer, token in sorted(entries.items(), key=lambda item: item[0] == normal_url(item[0])):
        normal[normal_url(issuer)] = token._replace(issuer=normal_url(token.issuer),
                                                    resource=normal_url(token.resource))
    return normal


def save_new_login(token: Token) -> str:
    """A step script's last act: save a fresh token (under its issuer, under the lock) and say so, masked."""
    store = TokenStore(issuer=token.issuer)
    with store.lock():
        store.save(token)
    return (f"Signed in. Access token {mask(token.access_token)}, scopes: {', '.join(token.scopes) or '(none)'}.\n"
            f"Saved to {store.path} (readable by you only).")
