"""The command line: the tool's parser and validators, and how a script ends.

Kept light (argparse and little else), so that `--help` and usage errors answer at once; what the
commands print is in output.py. Every entry point ends the way the chapter promises: 0 when it
worked; one line on stderr that names the step and the fix when it did not (exit 1, no traceback
unless --debug); 130 on Ctrl-C;
and silence when the reader's pipe (`| head`) closed early.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from support.errors import AuthError, as_told_by_a_step_script

TOOL_VERSION = "1.0.0"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# Long enough to sign in and approve with two-factor authentication, short enough that a closed
# tab or GitHub's "redirect_uri is not associated" page does not leave the tool waiting forever.
DEFAULT_TIMEOUT_SECONDS = 300
DEFAULT_LIMIT = 30
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
    debug = argparse.ArgumentParser(add_help=False)  # every command's; the demo takes no --hostname
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks and HTTP request lines (never tokens)")
    common = argparse.ArgumentParser(add_help=False, parents=[debug])
    common.add_argument("--hostname", default=argparse.SUPPRESS, metavar="HOST",
                        help="the GitHub host to use, e.g. ghe.example.com (default: GH_HOST, else GITHUB_SERVER_URL)")
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
    login.add_argument("--timeout", type=positive(float),
                       help=f"seconds to wait for the browser (default {DEFAULT_TIMEOUT_SECONDS}), or with --device "
                            "for your approval (default: until the code expires)")
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
    repos.add_argument("--verbose", action="store_true", help="say every note, even one said before for this login")
    repos.add_argument("--no-cache", action="store_true", help="ask GitHub afresh, without If-None-Match")

    doctor = commands.add_parser(
        "doctor", parents=[common], help="find the step that fails, with its fix",
        description="Check each of the chapter's failure points in order: settings, the app's registration "
                    "(asked of the server, with no user), the authorization URL, the token file, the saved token "
                    "and the API. No browser opens and no token is created.")
    doctor.add_argument("--json", action="store_true", help="print a JSON list of {step, status, detail, fix}")

    commands.add_parser("logout", parents=[common], help="revoke the token and delete it",
                        description="Revoke the token at the server that issued it, then delete the token file.")

    demo = commands.add_parser(
        "demo", parents=[debug], help="the whole flow offline, against a local stand-in",
        description="Log in, read, refresh and log out against a local stand-in of GitHub: no account, no "
                    "network, and a temporary token file.")
    # Not listed in its help: the demo signs in to a stand-in of its own, and refuses --hostname in one line.
    demo.add_argument("--hostname", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    demo.add_argument("--interactive", action="store_true", help="click the consent page in your own browser")
    demo.add_argument("--explain", action="store_true", help="narrate each OAuth step as it happens")
    demo.add_argument("--device", action="store_true", help="sign in with the device flow instead")
    demo.add_argument("--timeout", type=positive(float),
                      help=f"with --interactive: seconds to wait for the browser (default {DEFAULT_TIMEOUT_SECONDS})")
    return parser


def say(text: str) -> None:
    # Flush at once: the URL must be on screen while login waits, even when the output is a pipe.
    print(text, flush=True)
