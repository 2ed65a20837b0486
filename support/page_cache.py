"""Each API page's ETag, Link header and body, so that asking again costs no rate limit.

GitHub answers `If-None-Match: <etag>` with 304 Not Modified when nothing changed, and a 304 to
an authorized request does not count against the rate limit ("Use conditional requests if
appropriate", https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api).
One private folder per host and account (every level 0700, files 0600) under the config folder;
it holds only what the API answered, never a token, and only the signed-in account's pages. A
folder's name is built from the host and the account, so it can never be `..` or hold a slash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from support.api_http import Page, TokenSource, links_of

if TYPE_CHECKING:
    import requests

log = logging.getLogger("dev_github_tool")

CACHE_FOLDER_NAME = "cache"  # beside the token file
PRIVATE_DIR_MODE = 0o700


class CachedPage(NamedTuple):
    etag: str
    link: str  # the page's Link header: a 304 need not repeat it
    body: str
    payload: object = None  # the body, read: an entry whose body cannot be read is no entry

    def as_page(self, url: str) -> Page:
        """The page kept from last time, for a 304 Not Modified answer to `url`."""
        log.debug("%s: 304 Not Modified, the cached page was used (no rate limit spent)", urlsplit(url).path)
        return Page(self.payload, links_of(self.link))


class PageCache:
    """A private folder of pages, each kept under the full URL (query included) it was fetched from."""

    def __init__(self, folder: Path, levels: int = 1) -> None:
        self.folder = folder
        self.levels = levels  # how many folders, from the last up, are the cache's own to create

    @classmethod
    def for_login(cls, config_folder: Path, host: str, account: str) -> PageCache:
        return cls(host_folder(config_folder, host) / file_name_for(account), levels=3)

    @classmethod
    def for_source(cls, config_folder: Path, host: str, source: TokenSource) -> PageCache | None:
        """A saved login's cache, by host and account. None for a token from a variable: its account is not
        known, and the variable may hold another account's token next time, which would be served these pages."""
        account = None if source.variable else source.token.account
        return cls.for_login(config_folder, host, account) if account else None

    @staticmethod
    def forget_host(config_folder: Path, host: str) -> None:
        shutil.rmtree(host_folder(config_folder, host), ignore_errors=True)

    @staticmethod
    def keep_only(config_folder: Path, host: str, account: str | None) -> None:
        """Forget every other account's pages on this host: after signing in as someone else, the
        pages the previous account could see are not kept for the next one to be shown."""
        folder = host_folder(config_folder, host)
        keep = file_name_for(account) if account else None
        for entry in folder.iterdir() if folder.is_dir() else ():
            if entry.name != keep:
                shutil.rmtree(entry, ignore_errors=True)

    def _file(self, url: str) -> Path:
        return self.folder / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.json"

    def get(self, url: str) -> CachedPage | None:
        """The page kept for `url`, or None: no entry, one kept for another URL, or a damaged one (deleted)."""
        file = self._file(url)
        try:
            entry = json.loads(file.read_text(encoding="utf-8"))
            if entry.get("url") != url:
                return None
            return CachedPage(str(entry["etag"]), str(entry["link"]), entry["body"], json.loads(entry["body"]))
        except OSError:
            return None  # no entry: ask without If-None-Match
        except (ValueError, KeyError, TypeError, AttributeError):
            with contextlib.suppress(OSError):
                file.unlink()  # damaged: a miss, so the page is fetched and kept afresh
            return None

    def first_time(self, what: str) -> bool:
        """True the first time this login is told `what`: a note said once, remembered beside the pages."""
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(self.folder / f"{file_name_for(what)}.said", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            return False
        except OSError:
            log.debug("%s cannot remember a note, so says it again", self.folder, exc_info=True)
        return True

    def keep(self, response: requests.Response) -> None:
        """Keep a page that has an ETag, under the URL it was asked for (query included)."""
        if response.headers.get("ETag") and response.request.url:
            self.put(response.request.url, CachedPage(response.headers["ETag"], response.headers.get("Link", ""),
                                                      response.text))

    def put(self, url: str, page: CachedPage) -> None:
        """Best effort: a cache that cannot be written only costs a request next time."""
        temporary = None
        try:
            make_private_folders(self.folder, self.levels)
            fd, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")  # 0600 from the start
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump({"url": url, **page._asdict()}, file)
            os.replace(temporary, self._file(url))
        except OSError:
            log.debug("the page cache in %s could not be written", self.folder, exc_info=True)
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)


def host_folder(config_folder: Path, host: str) -> Path:
    return config_folder / CACHE_FOLDER_NAME / file_name_for(host)


def make_private_folders(folder: Path, levels: int) -> None:
    """Create `folder` and the `levels - 1` folders above it, each 0700: mkdir(parents=True) would
    give the upper ones the umask's mode, often 0755, readable by every local user. One that an
    older version left readable by others is made private again."""
    for level in reversed([folder, *folder.parents][:levels]):
        level.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        if os.name != "nt" and stat.S_IMODE(level.stat().st_mode) & 0o077:
            level.chmod(PRIVATE_DIR_MODE)


def file_name_for(name: str) -> str:
    """A folder name for a host or an account that stays in its folder: only letters, digits and
    `._-`, and never `.`, `..` or a name starting with a dot."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return cleaned if cleaned and not cleaned.startswith(".") else f"_{cleaned}"
