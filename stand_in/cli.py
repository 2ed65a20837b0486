"""The stand-in's command line: what `python local_github.py` runs.

Run:  python local_github.py [--port 8765] [--auto-approve] [--expiring] [--strict] [--repos N]
It serves in the foreground until Ctrl-C, after telling the reader what to do next (next_steps):
the variables to export, the chapter's scripts in order, how to approve the device flow, and
what `token_manager.py --refresh` needs.
Watch for: it leaves quietly, with no traceback, on Ctrl-C and when nobody reads its output any
more (`python local_github.py | head -1`); a port already in use is one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys

from stand_in.device import DEVICE_PAGE_PATH
from stand_in.server import LocalGitHub
from stand_in.settings import DEFAULT_PORT, Settings

EXIT_OK = 0
EXIT_FAILED = 1  # cannot listen, or cannot print (as Python itself exits on EPIPE)
PROGRAM = "local_github"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="local_github.py",
                                     description="Run a local stand-in of GitHub's OAuth and REST API.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--auto-approve", action="store_true", help="approve without showing the consent page")
    parser.add_argument("--expiring", action="store_true", help="issue 8-hour tokens with refresh tokens")
    parser.add_argument("--repos", type=int, default=Settings.repo_count, metavar="N",
                        help=f"how many repositories octocat has (default {Settings.repo_count}; 250 shows paging)")
    parser.add_argument("--strict", action="store_true",
                        help="hold clients to RFC 6749/7636 (grant_type, exact redirect_uri, no repeated "
                             "parameters) and answer errors with HTTP 400, as Gitea does")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(approval="auto" if args.auto_approve else "ask", expiring=args.expiring,
                    strict=args.strict, repo_count=max(args.repos, 0))


def next_steps(github: LocalGitHub) -> str:
    """What a reader does next, in the chapter's order. Short: it is read in a terminal."""
    lines = [f"Local GitHub stand-in on {github.url} (Ctrl-C to stop).",
             "In another terminal, point the chapter's scripts at it (these values are fake):", ""]
    lines += [f"  export {name}={value}" for name, value in github.environment().items()]
    lines += ["", "Then run the steps in order:",
              "  python 1_authorization_url.py   the URL that asks for permission",
              "  python 2_callback_exchange.py   sign in with the browser; the token is saved",
              "  python 3_github_request.py      call the API with that token"]
    if github.settings.approval == "auto":
        lines.append("python device_flow.py: --auto-approve approves its code at the second poll.")
    else:
        lines.append(f"python device_flow.py: open {github.url}{DEVICE_PAGE_PATH} and type the code it shows.")
    if github.settings.expiring:
        lines.append("python token_manager.py --refresh: tokens expire here (--expiring), so it has one to refresh.")
    else:
        lines.append("python token_manager.py --refresh needs tokens that expire: start the stand-in with --expiring.")
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    try:
        github = LocalGitHub(settings_from(args), port=args.port)
    except OSError as error:
        print(f"{PROGRAM}: cannot listen on 127.0.0.1:{args.port} ({error.strerror}) — try --port 0", file=sys.stderr)
        return EXIT_FAILED
    try:
        print(next_steps(github), flush=True)  # show it now, even when the output goes to a pipe
        github.server.serve_forever()
    finally:
        github.server.server_close()
    return EXIT_OK


def let_go_of_stdout() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit cannot fail on the closed pipe
    and print a warning (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is no file (a test captured it): nothing will be flushed to a pipe


def say_stopped() -> None:
    try:
        print("\nStopped.", flush=True)
    except BrokenPipeError:
        let_go_of_stdout()  # `| head -1` ended long ago: stopping is all there is to do


def main(argv: list[str] | None = None) -> int:
    try:
        return serve(parser().parse_args(argv))
    except KeyboardInterrupt:
        say_stopped()
        return EXIT_OK
    except BrokenPipeError:
        let_go_of_stdout()  # nobody can read what we would say: stop serving, without a word
        return EXIT_FAILED
