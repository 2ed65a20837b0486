"""What the commands print: status lines, the repository table, JSON, token descriptions.

Nothing here is OAuth; it is the shape of the output, kept apart so that the chapter's files show
what they print in one call. Everything a server says goes through `safe_text` before it reaches
the terminal (a hostile server could otherwise set the window title or clear the screen), numbers
are printed only when they are numbers, and JSON leaves the escaping to `json` (ASCII only, so
that no control character survives); tokens go through `mask`.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from support.errors import AuthError, NotLoggedIn, TokenRefused, mask, safe_text
from support.settings import host_of, hostname_of
from support.token import Token

if TYPE_CHECKING:
    from support.api_http import TokenSource, Total

NAME_COLUMN_MIN = 12
LOGIN_LIMIT = 100  # GitHub's logins have at most 39 characters; anything longer is no login
# What `repos --json` gives for each repository, with the JSON type each field must have.
REPO_JSON_FIELDS = {"full_name": str, "private": bool, "html_url": str, "description": str, "stargazers_count": int,
                    "updated_at": str}

PUBLIC_ONLY_NOTE = ("Note: public repositories only; the token has no repo scope "
                    "(login --scope \"read:user repo\" to see private ones).")


class HostCheck(NamedTuple):
    """Another host's login as `status` found it: `works` is True, False (a dead token) or None (not checked)."""

    host: str  # as --hostname names it
    token: Token
    account: str | None
    works: bool | None
    problem: str = ""


def check_logins(tokens: list[Token], account_of: Callable[[Token], str]) -> list[HostCheck]:
    """Ask each login's own API who its token belongs to (GET /user), as `gh auth status` checks every host.
    An expired token is not sent: it is dead, or refreshed when it is next used there."""
    checks = []
    for token in tokens:
        host = hostname_of(token.issuer)
        if token.is_expired():
            refreshable = token.can_refresh()
            checks.append(HostCheck(host, token, token.account, None if refreshable else False,
                                    "its token expired, and is refreshed when next used" if refreshable
                                    else "its token has expired"))
            continue
        try:
            checks.append(HostCheck(host, token, account_of(token), True))
        except TokenRefused:
            checks.append(HostCheck(host, token, token.account, False, "its token was revoked or has expired"))
        except AuthError as error:
            checks.append(HostCheck(host, token, token.account, None, f"not checked: {error.message}"))
    return checks


def hosts_json(checks: list[HostCheck]) -> list[dict[str, object]]:
    return [{"host": check.host, "user": check.account, "logged_in": check.works, "error": check.problem or None}
            for check in checks]


def status_failure(host: str | None, error: AuthError, others: list[HostCheck] | None) -> dict[str, object]:
    """What `status --json` prints when it fails: the reason, and the other hosts when they could be read."""
    answer: dict[str, object] = {"logged_in": False, "host": host, "error": str(error)}
    if others is not None:
        answer["other_hosts"] = hosts_json(others)
    return answer


def logged_in_elsewhere(error: NotLoggedIn, server_url: str, others: list[Token]) -> NotLoggedIn:
    """`you are not logged in`, naming this host and those you are logged in to, each as --hostname takes
    it; a login to this very host over the other scheme (http, https) is the one to name."""
    if not others:
        return error
    hosts = [hostname_of(token.issuer) for token in others]
    same = [name for token, name in zip(others, hosts) if host_of(token.issuer) == host_of(server_url)]
    hint = f"add --hostname {(same or hosts)[0]}" if same or len(hosts) == 1 else "add --hostname with one of them"
    message = error.message.replace("not logged in", f"not logged in to {hostname_of(server_url)}", 1)
    return NotLoggedIn(error.step, f"{message} (logged in to {', '.join(hosts)}: {hint})")


def variable_note(variable: str, after_logout: bool = False) -> str:
    if after_logout:  # as gh auth logout warns: the variable keeps applying
        return f"Note: {variable} is still set, and status and repos keep using its token until you unset it."
    return f"Note: {variable} is set, and status and repos use it instead of this login until you unset it."


def more_repositories_note(shown: int, total: Total) -> str:
    """As `gh repo list` says it: "Showing 30 of 167 repositories"."""
    in_all = str(total.count) if total.exact else f"at least {total.count}"
    return f"Showing {shown} of {in_all} repositories; use --limit N, or --limit all."


def print_json(value: object) -> None:
    """Indented for a person at a terminal, one compact line for a pipe (as gh does): a program
    needs no indentation, and Python's encoder is much slower when it indents."""
    print(json.dumps(value, indent=2 if sys.stdout.isatty() else None, ensure_ascii=True))


def shown(text: object) -> str:
    """A login or an account name from a server (or a file it once filled), fit for the terminal."""
    return safe_text(text, LOGIN_LIMIT)


def who_you_are(user: dict) -> str:
    name = safe_text(user.get("name"), 80)
    return f"You are {shown(user.get('login'))}" + (f" ({name})" if name else "") + "."


def whole_number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def repo_as_json(repo: dict) -> dict[str, object]:
    """A repository's fields for `repos --json`, each of its own JSON type or null: a field of any
    other type from the server is dropped, never passed on to a script that trusts its type."""
    fields = {}
    for name, kind in REPO_JSON_FIELDS.items():
        value = repo.get(name)
        fields[name] = value if type(value) is kind else None  # `is`: True is no star count
    return fields


def print_status(host: str, login: str, source: TokenSource, scopes: tuple[str, ...], env_file: str | None,
                 others: list[HostCheck], as_json: bool) -> None:
    """`status`: who the token belongs to, its scopes and expiry, and how the other hosts' logins stand."""
    token = source.token
    if as_json:
        expires_at = None if token.expires_at is None else \
            datetime.fromtimestamp(token.expires_at, timezone.utc).isoformat(timespec="seconds")
        print_json({
            "logged_in": True, "host": host, "user": login, "scopes": list(scopes),
            "token": mask(token.access_token), "expires_at": expires_at,
            "refreshable": token.can_refresh(), "source": source.description, "settings": settings_source(env_file),
            "other_hosts": hosts_json(others),
        })
        return
    if token.expires_at is None:
        expiry = "does not expire"
    else:
        expiry = f"expires in {format_duration(max(token.expires_at - time.time(), 0))}"
        expiry += " (refreshable)" if token.can_refresh() else " (not refreshable: log in again then)"
    print(f"{host} (active)" if others else host)
    print(f"  ✓ Logged in as {shown(login)} (token from {source.description})")
    print(f"  - Token: {mask(token.access_token)}, {expiry}")
    print(f"  - Scopes: {', '.join(scopes) or '(none: public data only)'}")
    print(f"  - Settings: {settings_source(env_file)}")
    for other in others:
        who = shown(other.account) or "an account not yet checked"
        print(other.host)
        if other.works is False:
            print(f"  ✗ Logged in as {who}, but {other.problem} — run login --hostname {other.host}")
        else:
            mark, problem = ("✓", "") if other.works else ("!", f"; {other.problem}")
            print(f"  {mark} Logged in as {who} (token {mask(other.token.access_token)}{problem}); "
                  f"use it with --hostname {other.host}")


def settings_source(env_file: str | None) -> str:
    return f"{env_file} and the environment" if env_file else "the environment (no .env in this folder)"


def terminal_width() -> int:
    return shutil.get_terminal_size().columns


def print_repositories(repos: list[dict], as_json: bool) -> None:
    """`repos`: a table for a person, a JSON array for a program (each field of its own JSON type)."""
    if as_json:
        print_json([repo_as_json(repo) for repo in repos])
    elif not repos:
        print("No repositories.")
    else:
        print("\n".join(format_repo_table(repos, terminal_width())))


def login_notes(host: str, token: Token, asked: tuple[str, ...], short_lived: bool) -> list[str]:
    """What a person should know after a login: GitHub's offline_access (an expiring token) was ignored,
    or the token has fewer scopes than asked (a person may grant less on the consent page)."""
    notes = []
    if short_lived and token.expires_at is None:
        notes.append(f"Note: {host} ignored offline_access (older GitHub Enterprise Server does), so this token "
                     "does not expire; revoke it with logout when you are done.")
    missing = set(asked) - {"offline_access"} - set(token.scopes)
    if missing:
        notes.append(f"Note: you granted less than asked; missing scopes: {', '.join(sorted(missing))}.")
    return notes


def format_repo_table(repos: list[dict], width: int) -> list[str]:
    rows = [(safe_text(r.get("full_name"), 200), "private" if r.get("private") is True else "public",
             str(stars) if (stars := whole_number(r.get("stargazers_count"))) is not None else "?",
             safe_text(r.get("updated_at"), 10)) for r in repos]
    header = ("NAME", "VISIBILITY", "STARS", "UPDATED")
    rest = [max(len(row[i]) for row in [header, *rows]) for i in (1, 2, 3)]
    name_width = max(NAME_COLUMN_MIN, min(max(len(row[0]) for row in [header, *rows]), width - sum(rest) - 6))

    def line(row: tuple[str, ...]) -> str:
        name = row[0] if len(row[0]) <= name_width else row[0][: name_width - 1] + "…"
        return f"{name:<{name_width}}  {row[1]:<{rest[0]}}  {row[2]:>{rest[1]}}  {row[3]}".rstrip()

    return [line(header), *(line(row) for row in rows)]


def repositories_heading(count: int, more: Total | None) -> str:
    if count == 0:
        return "You have no repositories this token can see."
    noun = "repository" if count == 1 else "repositories"
    return f"Your first {count} {noun} (--limit shows more):" if more else f"Your {noun} ({count}):"


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 86400:
        return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds}s"


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


def refresh_outcome(before: Token | None, after: Token) -> str:
    """What `--refresh` did, said truthfully: the manager keeps a still-valid token when it cannot refresh."""
    if before is None or after.access_token != before.access_token:
        return "Refreshed: a new access token (and refresh token, if the provider rotates them) was saved."
    if not before.refresh_token:
        return ("Not refreshed: this token has no refresh token (it does not expire, was issued without one, or "
                "its refresh token was refused before; the stand-in issues expiring tokens when started with "
                "--expiring).")
    if not after.refresh_token:
        return ("Not refreshed: the provider refused the refresh token, so it was dropped. The access token is kept "
                "until it expires, for as long as the server still accepts it; run login again before then.")
    return "Not refreshed: the refresh did not go through, and the access token still works; try again later."
