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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from support.endpoints import applications_page
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

# On Windows, os.replace fails (a sharing violation) while another process has the file open, and
# readers open it without the lock, for a few milliseconds each: a save waits for them this long, at
# most, rather than lose a refresh token rotation has already spent.
WINDOWS_REPLACE_PAUSES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8)


class LockUnavailable(AuthError):
    """The lock beside the token file cannot be taken (a read-only folder): nothing can be saved."""


class NewerTokenFile(AuthError):
    """The token file was written by a newer version of this tool: it is read by that version only, and
    never overwritten or removed here."""


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


def _replace(source: str, destination: Path) -> None:
    """os.replace, waiting out a Windows reader that holds the destination open."""
    for pause in (*WINDOWS_REPLACE_PAUSES, None):
        try:
            os.replace(source, destination)
            return
        except PermissionError:
            if os.name != "nt" or pause is None:
                raise
            time.sleep(pause)


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
        self._keep_private(info, (f"is in {folder}, a folder another user owns (uid {info.st_uid}), who could swap it",
                                  f"remove that folder, or make it yours: sudo chown -R \"$USER\" {folder}"),
                           lambda: os.chmod(folder, PRIVATE_DIR_MODE), folder, "chmod 700")

    def _check_file(self, fd: int) -> None:
        """Refuse a token file another user owns (they could have written any token into it);
        make ours private if others could read it."""
        info = os.fstat(fd)
        self._keep_private(info, (f"belongs to another user (uid {info.st_uid}), who could have written any token "
                                  "into it", f"delete it and run login again (or, if it is yours, sudo chown "
                                  f"\"$USER\" {self.path})"),
                           lambda: os.fchmod(fd, PRIVATE_FILE_MODE), self.path, "chmod 600")

    def _keep_private(self, info: os.stat_result, foreign: tuple[str, str], tighten: Callable[[], None], path: Path,
                      command: str) -> None:
        """As ssh treats its keys: refuse what another user owns (`foreign`: why, and the fix); make ours
        private (`tighten`) if others may use it. Windows has no uid to compare, and is left as it is."""
        user = current_user()
        if user is None:
            return
        if info.st_uid != user:
            raise self._fail(*foreign)
        if not stat.S_IMODE(info.st_mode) & OTHERS_MAY_ACCESS:
            return
        try:
            tighten()
        except OSError as error:
            raise self._fail(f"is in reach of other users, and {path} cannot be made private ({error.strerror})",
                             f"run: {command} {path}") from error

    def load(self) -> Token | None:
        """This issuer's token, or None when there is none. A damaged file or entry is an AuthError."""
        entries = self._read_entries()
        issuer = self.issuer
        if issuer is None:
            if len(entries) > 1:
                raise self._fail(f"holds logins to {len(entries)} servers", "say which one (--hostname)")
            issuer = next(iter(entries), "")
        return self._token(entries[issuer]) if issuer in entries else None

    def load_all(self) -> dict[str, Token]:
        """Every saved token that can be read, by issuer. An entry that cannot be read is left out here,
        and left as it is in the file."""
        readable = {}
        for issuer, entry in self._read_entries().items():
            try:
                readable[issuer] = self._token(entry)
            except AuthError:
                continue
        return readable

    def other_logins(self) -> list[Token]:
        """The readable logins to other servers than this store's issuer (gh's other hosts), by issuer."""
        try:
            saved = self.load_all()
        except AuthError:
            return []
        return [token for issuer, token in sorted(saved.items()) if issuer != self.issuer]

    def _token(self, entry: object) -> Token:
        try:
            token = Token.from_json(entry)
        except ValueError as error:
            raise self._fail(f"is damaged ({error})") from error
        # Its server named in the normal form, however an older version wrote it.
        return token._replace(issuer=normal_url(token.issuer), resource=normal_url(token.resource))

    def _read_entries(self) -> dict[str, object]:
        """The file's entries by issuer, each as written: they are read one at a time, so that one damaged
        entry (or one this version cannot read) costs no other login."""
        text = self._read_text()
        if text is None:
            return {}
        try:
            data = json.loads(text)
        except ValueError as error:  # json.JSONDecodeError is a ValueError too
            raise self._fail(f"is damaged ({str(error).split(':')[0]})") from error
        if not isinstance(data, dict):
            raise self._fail("is damaged (it does not hold a JSON object)")
        version = data.get("version")
        if version == SINGLE_TOKEN_VERSION:  # the layout before one login per server: one token, whole or not
            entry = {key: value for key, value in data.items() if key != "version"}
            return {self._token(entry).issuer: entry}  # keyed in the normal form
        if isinstance(version, int) and not isinstance(version, bool) and version > TOKEN_FILE_VERSION:
            raise NewerTokenFile(STEP_STORE, f"the token file {self.path} was written by a newer version of this "
                                 f"tool (its version is {version}, this one reads {TOKEN_FILE_VERSION}), so it is left "
                                 "as it is — update this tool, or use the newer one")
        if version != TOKEN_FILE_VERSION:
            raise self._fail(f"is damaged (its version is {version!r}, not {TOKEN_FILE_VERSION})")
        if not isinstance(data.get("tokens"), dict):
            raise self._fail("is damaged (tokens is not an object)")
        return normal_keys(data["tokens"])

    def _entries_to_keep(self) -> dict[str, object]:
        """The entries a change carries over, each as it was, readable or not. A file damaged as a whole
        holds none and is replaced, rather than blocking every login; a newer version's file is kept."""
        try:
            return self._read_entries()
        except NewerTokenFile:
            raise
        except AuthError:
            return {}

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

    def _write_entries(self, entries: dict[str, object], kept: str = "the previous file is unchanged") -> None:
        self._write(json.dumps({"version": TOKEN_FILE_VERSION, "tokens": entries}, indent=2), True, kept)

    def save(self, token: Token) -> None:
        """Write the token so that the file is either the old one or the new one, never half of each."""
        issuer = normal_url(token.issuer) if self.issuer is None else self.issuer
        self._write_entries({**self._entries_to_keep(), issuer: token.to_json()})

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

    def _write(self, text: str, replace_file: bool, kept: str = "the previous file is unchanged") -> None:
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
                _replace(temporary, self.path)
                temporary = None
        except OSError as error:
            raise self._fail(f"could not be written ({error.strerror}); {kept}", self._write_fix(error)) from error
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

    def delete(self, revoked: bool = False) -> bool:
        """Forget this issuer's token; the file goes with the last one. True if there was one.
        `revoked`: the token was revoked first, so a failure here leaves only a dead token behind."""
        kept = "it still holds the token, which was revoked and no longer works" if revoked else \
            "the previous file is unchanged"
        try:
            entries = self._read_entries()
        except NewerTokenFile:
            raise
        except AuthError:
            return self._remove_file(kept)  # a file damaged as a whole holds nothing worth keeping
        issuer = self.issuer if self.issuer is not None else next(iter(entries), None)
        if issuer not in entries:
            return False
        others = {key: entry for key, entry in entries.items() if key != issuer}
        if not others:
            return self._remove_file(kept)
        self._write_entries(others, kept)
        return True

    def _remove_file(self, kept: str) -> bool:
        try:
            os.unlink(self.path)  # a symlink itself, never its target
        except FileNotFoundError:
            return False
        except OSError as error:
            raise self._fail(f"cannot be removed ({error.strerror}); {kept}", self._write_fix(error)) from error
        return True

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise refresh, login and logout across every process that shares this file."""
        self._make_private_dir()
        with _exclusive_lock(self.lock_path, self._lock_failure):
            yield

    def _lock_failure(self, error: OSError) -> AuthError:
        """The lock cannot be taken: nothing can be saved. The same advice whether or not the lock file exists."""
        if error.errno == errno.ELOOP:
            return LockUnavailable(STEP_STORE, f"the token file {self.path} cannot be locked: "
                                   f"{self.lock_path.name} is a symbolic link, which is never followed — "
                                   f"delete {self.lock_path}, then try again")
        return LockUnavailable(STEP_STORE, f"the token file {self.path} cannot be changed: its lock "
                               f"{self.lock_path.name} cannot be opened ({error.strerror}) — "
                               f"{self._write_fix(error)}")

    def settings_of_the_login(self, config: OAuthConfig) -> OAuthConfig:
        """`config` with the app (client ID and secret) and endpoints this issuer's login was made with, so
        that reading, refreshing and revoking need no .env in the current folder (OAuthConfig.for_login).
        Unchanged when there is no login, or the file is damaged (the command itself then says so)."""
        try:
            saved = self.load()
        except AuthError:
            return config
        return config if saved is None else config.for_login(saved)


def normal_keys(entries: dict[str, object]) -> dict[str, object]:
    """The entries keyed by their server in the normal form: a login saved as `https://GitHub.com/` by
    an older version is still github.com's (and is saved so at the next write). Where two spellings of
    one server were saved, the one already normal wins."""
    normal: dict[str, object] = {}
    for issuer, entry in sorted(entries.items(), key=lambda item: item[0] == normal_url(item[0])):
        normal[normal_url(issuer)] = entry
    return normal



def save_replacing(store: TokenStore, token: Token, revoke: Callable[[Token], None]) -> str | None:
    """Save a new login's token under the lock, then revoke the token it replaced, which would otherwise
    stay valid, unused, for a year (gh revokes it too). Returns what to say about that one, or None.

    A token that cannot be saved is revoked at once: nothing may stay valid that nobody holds.
    """
    try:
        with store.lock():
            try:
                replaced = store.load()
            except AuthError:
                replaced = None  # an entry that cannot be read holds nothing to revoke
            store.save(token)
    except AuthError as error:  # no lock or no save: the new token would be held by nobody
        problem = revoke_or_say_why(revoke, token)
        fate = "the new token was revoked" if problem is None else \
            f"the new token could not be revoked ({problem}): revoke it at {revocation_page(token)}"
        raise AuthError(error.step, f"{error.message}; {fate}") from error
    if replaced is None or replaced.access_token == token.access_token:
        return None
    problem = revoke_or_say_why(revoke, replaced)
    return "Revoked the token this sign-in replaced." if problem is None else \
        f"Note: the token this sign-in replaced was not revoked ({problem}); revoke it at {revocation_page(replaced)}."


def revoke_or_say_why(revoke: Callable[[Token], None], token: Token) -> str | None:
    """Revoke `token`; None if that worked, else why not (here a failure is a note, not an error)."""
    try:
        revoke(token)
    except AuthError as error:
        return error.message
    return None


def revocation_page(token: Token) -> str:
    """Where a person revokes a token by hand: the applications page of the server that issued it."""
    return applications_page(token.issuer, token.endpoints)


def save_new_login(token: Token, revoke: Callable[[Token], None]) -> str:
    """A step script's last act: save a fresh token (under its issuer, under the lock), revoke the one it
    replaced, and say so, masked."""
    store = TokenStore(issuer=token.issuer)
    replaced = save_replacing(store, token, revoke)
    said = [f"Signed in. Access token {mask(token.access_token)}, scopes: {', '.join(token.scopes) or '(none)'}.",
            f"Saved to {store.path} (readable by you only)."]
    return "\n".join(said + ([replaced] if replaced else []))
