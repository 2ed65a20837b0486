"""The command line: the tool's parser and validators, output helpers, and how a script ends.

Every entry point ends the way the chapter promises: 0 when it worked; one line on stderr that
names the step and the fix when it did not (exit 1, no traceback unless --debug); 130 on Ctrl-C;
and silence when the reader's pipe (`| head`) closed early.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from support.errors import AuthError, as_told_by_a_step_script, mask, safe_text
from support.token import Token

if TYPE_CHECKING:
    from support.api_http import TokenSource  # not at run time: it needs requests, which --help does not

TOOL_VERSION = "1.0.0"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# Long enough to sign in and approve with two-factor authentication, short enough that a closed
# tab or GitHub's "redirect_uri is not associated" page does not leave the tool waiting forever.
DEFAULT_TIMEOUT_SECONDS = 300
DEFAULT_LIMIT = 30
NAME_COLUMN_MIN = 12
SETTINGS_EPILOG = "Settings come from the environment and ./.env (see .env.example)."


# -- how a script ends -------------------------------------------------------------------------

def run_step_script(script: str, work: Callable[[], int | None]) -> int:
    """Run a step script's work (its exit code, or None for 0); a failure is one line in the words
    of the chapter so far."""
    try:
        code = work()
        sys.stdout.flush()  # a closed pipe shows here, not in a traceback at exit
    except AuthError as error:
        print(as_told_by_a_step_script(error, script), file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("Cancelled.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        stop_writing_to_a_closed_pipe()
        return EXIT_FAILURE
    except Exception as error:  # a bug, not bad input: one line, never a traceback that may hold a secret
        print(f"{script} failed: an unexpected {type(error).__name__} — please report it", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK if code is None else code


def run_command(command: str, work: Callable[[], int], debug: bool) -> int:
    """Run one of the tool's commands: a failure is one line, with a traceback only under --debug."""
    if debug:
        import logging

        # urllib3 logs one line per request (method, path, status): never headers or bodies.
        logging.basicConfig(level=logging.DEBUG, format="debug: %(name)s: %(message)s")
    try:
        code = work()
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print(f"\n{command} cancelled.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        stop_writing_to_a_closed_pipe()
        return EXIT_FAILURE
    except Exception as error:
        if debug:
            raise
        if isinstance(error, AuthError):
            print(f"{command} failed at {error}", file=sys.stderr)
        else:
            print(f"{command} failed: an unexpected {type(error).__name__} — run again with --debug "
                  "to see where, and report it", file=sys.stderr)
        return EXIT_FAILURE


def parse_arguments(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """parser.parse_args, with `--help | head` ending as quietly as every other output."""
    try:
        return parser.parse_args(argv)
    except SystemExit:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            stop_writing_to_a_closed_pipe()
        raise


def stop_writing_to_a_closed_pipe() -> None:
    # Piped into `head`, which has read enough: send the rest nowhere, so that Python's flush at
    # exit does not print a BrokenPipeError of its own (the recipe in Python's signal docs).
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


# -- validators for argparse -------------------------------------------------------------------

def seconds_above_zero(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError("must be more than 0")
    return seconds


def positive_whole_number(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)


def positive(kind: type, allow_all: bool = False) -> Callable[[str], object]:
    """An argparse type: a number above 0 (a whole one for int), or "all" (None) where allowed."""
    def parse(text: str):
        if allow_all and text == "all":
            return None
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}{' or all' if allow_all else ''}") from None
        if not value > 0:  # also refuses nan
            raise argparse.ArgumentTypeError("must be more than 0")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


# -- the tool's parser ---------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks and HTTP request lines (never tokens)")
    common.add_argument("--hostname", default=argparse.SUPPRESS, metavar="HOST",
                        help="the GitHub host to use, e.g. ghe.example.com (default: GITHUB_SERVER_URL)")
    parser = argparse.ArgumentParser(
        prog="dev_github_tool.py", parents=[common],
        description="Sign in to GitHub with OAuth (browser, loopback callback, PKCE) and use the REST API.",
        epilog="Start with: python dev_github_tool.py demo")
    parser.add_argument("--version", action="version", version=f"%(prog)s {TOOL_VERSION}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    login = commands.add_parser(
        "login", parents=[common], help="sign in through the browser",
        description="Sign in through your browser: a loopback callback, state and PKCE (steps 1 and 2). "
                    "The token is saved to a file only you can read.")
    login.add_argument("--scope", help='scopes to ask for, e.g. "read:user repo" (default: GITHUB_SCOPES)')
    login.add_argument("--no-browser", action="store_true", help="only print the URL (e.g. over SSH)")
    login.add_argument("--timeout", type=positive(float), default=DEFAULT_TIMEOUT_SECONDS,
                       help=f"seconds to wait for the browser (default {DEFAULT_TIMEOUT_SECONDS})")
    login.add_argument("--force", action="store_true", help="sign in again even if already logged in")
    login.add_argument("--device", action="store_true",
                       help="the device flow: type a code on any device (SSH, WSL, no browser here)")
    login.add_argument("--short-lived", action="store_true",
                       help="ask for an 8-hour token with a refresh token (GitHub's offline_access)")
    login.add_argument("--explain", action="store_true", help="narrate each OAuth step as it happens")

    status = commands.add_parser(
        "status", parents=[common], help="who you are and what the token can do",
        description="Ask GitHub who the token belongs to, and show its scopes, expiry and where it came from.")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument("--no-cache", action="store_true", help="ask GitHub afresh, without If-None-Match")

    repos = commands.add_parser(
        "repos", parents=[common], help="list your repositories",
        description="List the repositories the token can see, page by page (step 3).")
    repos.add_argument("--limit", type=positive(int, allow_all=True), default=DEFAULT_LIMIT,
                       help=f"at most N, or all (default {DEFAULT_LIMIT})")
    repos.add_argument("--visibility", choices=("all", "public", "private"),
                       help="which repositories (default all; private ones need the repo scope)")
    repos.add_argument("--sort", choices=("created", "updated", "pushed", "full_name"),
                       help="the order (default full_name)")
    repos.add_argument("--json", action="store_true", help="print a JSON array")
    repos.add_argument("--no-cache", action="store_true", help="ask GitHub afresh, without If-None-Match")

    commands.add_parser("logout", parents=[common], help="revoke the token and delete it",
                        description="Revoke the token at the server that issued it, then delete the token file.")

    demo = commands.add_parser(
        "demo", parents=[common], help="the whole flow offline, against a local stand-in",
        description="Log in, read, refresh and log out against a local stand-in of GitHub: no account, no "
                    "network, and a temporary token file.")
    demo.add_argument("--interactive", action="store_true", help="click the consent page in your own browser")
    demo.add_argument("--explain", action="store_true", help="narrate each OAuth step as it happens")
    demo.add_argument("--device", action="store_true", help="sign in with the device flow instead")
    demo.add_argument("--timeout", type=positive(float), default=DEFAULT_TIMEOUT_SECONDS,
                      help=f"with --interactive: seconds to wait for the browser (default {DEFAULT_TIMEOUT_SECONDS})")
    return parser


# -- output --------------------------------------------------------------------------------------

def say(text: str) -> None:
    # Flush at once: the URL must be on screen while login waits, even when the output is a pipe.
    print(text, flush=True)


def print_json(value: object) -> None:
    """Indented for a person at a terminal, one compact line for a pipe (as gh does): a program
    needs no indentation, and Python's encoder is much slower when it indents."""
    print(json.dumps(value, indent=2 if sys.stdout.isatty() else None))


def print_status(host: str, login: str, source: TokenSource, scopes: tuple[str, ...], env_file: str | None,
                 others: list[Token], as_json: bool) -> None:
    """`status`: who the token belongs to, its scopes and expiry, and the other hosts' logins."""
    token = source.token
    if as_json:
        expires_at = None if token.expires_at is None else \
            datetime.fromtimestamp(token.expires_at, timezone.utc).isoformat(timespec="seconds")
        print_json({
            "logged_in": True, "host": host, "user": login, "scopes": list(scopes),
            "token": mask(token.access_token), "expires_at": expires_at,
            "refreshable": token.can_refresh(), "source": source.description, "settings": env_file,
            "other_hosts": [{"host": host_of(other.issuer), "user": other.account} for other in others],
        })
        return
    if token.expires_at is None:
        expiry = "does not expire"
    else:
        expiry = f"expires in {format_duration(max(token.expires_at - time.time(), 0))}"
        expiry += " (refreshable)" if token.can_refresh() else " (not refreshable: log in again then)"
    print(f"{host} (active)" if others else host)
    print(f"  ✓ Logged in as {login} (token from {source.description})")
    print(f"  - Token: {mask(token.access_token)}, {expiry}")
    print(f"  - Scopes: {', '.join(scopes) or '(none: public data only)'}")
    print(f"  - Settings: {settings_source(env_file)}")
    for other in others:  # from the file alone: no request goes to a host you did not pick
        print(host_of(other.issuer))
        print(f"  - Logged in as {other.account or 'an account not yet checked'}, token "
              f"{mask(other.access_token)}; use it with --hostname {host_of(other.issuer)}")


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def settings_source(env_file: str | None) -> str:
    return f"{env_file} and the environment" if env_file else "the environment (no .env in this folder)"


def format_repo_table(repos: list[dict], width: int) -> list[str]:
    rows = [(safe_text(r.get("full_name"), 200), "private" if r.get("private") else "public",
             str(r.get("stargazers_count", 0)), str(r.get("updated_at") or "")[:10]) for r in repos]
    header = ("NAME", "VISIBILITY", "STARS", "UPDATED")
    rest = [max(len(row[i]) for row in [header, *rows]) for i in (1, 2, 3)]
    name_width = max(NAME_COLUMN_MIN, min(max(len(row[0]) for row in [header, *rows]), width - sum(rest) - 6))

    def line(row: tuple[str, ...]) -> str:
        name = row[0] if len(row[0]) <= name_width else row[0][: name_width - 1] + "…"
        return f"{name:<{name_width}}  {row[1]:<{rest[0]}}  {row[2]:>{rest[1]}}  {row[3]}".rstrip()

    return [line(header), *(line(row) for row in rows)]


def repositories_heading(count: int, more: bool) -> str:
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
        return ("Not refreshed: this token has no refresh token (it does not expire, or was issued without one; "
                "the stand-in issues expiring tokens when started with --expiring).")
    if not after.refresh_token:
        return ("Not refreshed: the provider refused the refresh token. The access token still works until it "
                "expires; run login again before then.")
    return "Not refreshed: the refresh did not go through, and the access token still works; try again later."
