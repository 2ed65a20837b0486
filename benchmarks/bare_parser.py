"""The floor for `dev_github_tool.py --help`: a bare argparse parser of the same shape, and nothing else.

Same subcommands, options, choices and help texts of about the same length; no imports beyond
argparse. benchmarks/cli_speed.py compares the tool's --help against this.
"""

import argparse

common = argparse.ArgumentParser(add_help=False)
common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                    help="show tracebacks and HTTP request lines (never tokens)")
common.add_argument("--hostname", default=argparse.SUPPRESS, metavar="HOST",
                    help="the GitHub host to use, e.g. ghe.example.com (default: GITHUB_SERVER_URL)")
parser = argparse.ArgumentParser(prog="bare_parser.py", parents=[common],
                                 description="Sign in to GitHub with OAuth (browser, loopback callback, PKCE) "
                                             "and use the REST API.",
                                 epilog="Start with: python dev_github_tool.py demo")
parser.add_argument("--version", action="version", version="%(prog)s 1.0.0")
commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
login = commands.add_parser("login", parents=[common], help="sign in through the browser",
                            description="Sign in through your browser: a loopback callback, state and PKCE "
                                        "(steps 1 and 2). The token is saved to a file only you can read.")
login.add_argument("--scope", help='scopes to ask for, e.g. "read:user repo" (default: GITHUB_SCOPES)')
login.add_argument("--no-browser", action="store_true", help="only print the URL (e.g. over SSH)")
login.add_argument("--timeout", type=float, default=300, help="seconds to wait for the browser (default 300)")
login.add_argument("--force", action="store_true", help="sign in again even if already logged in")
login.add_argument("--device", action="store_true",
                   help="the device flow: type a code on any device (SSH, WSL, no browser here)")
login.add_argument("--short-lived", action="store_true",
                   help="ask for an 8-hour token with a refresh token (GitHub's offline_access)")
login.add_argument("--explain", action="store_true", help="narrate each OAuth step as it happens")
status = commands.add_parser("status", parents=[common], help="who you are and what the token can do",
                             description="Ask GitHub who the token belongs to, and show its scopes, expiry and "
                                         "where it came from.")
status.add_argument("--json", action="store_true", help="print JSON")
status.add_argument("--no-cache", action="store_true", help="ask GitHub afresh, without If-None-Match")
repos = commands.add_parser("repos", parents=[common], help="list your repositories",
                            description="List the repositories the token can see, page by page (step 3).")
repos.add_argument("--limit", type=int, default=30, help="at most N (default 30)")
repos.add_argument("--visibility", choices=("all", "public", "private"),
                   help="which repositories (default all; private ones need the repo scope)")
repos.add_argument("--sort", choices=("created", "updated", "pushed", "full_name"),
                   help="the order (default full_name)")
repos.add_argument("--json", action="store_true", help="print a JSON array")
repos.add_argument("--no-cache", action="store_true", help="ask GitHub afresh, without If-None-Match")
commands.add_parser("logout", parents=[common], help="revoke the token and delete it",
                    description="Revoke the token at the server that issued it, then delete the token file.")
demo = commands.add_parser("demo", parents=[common], help="the whole flow offline, against a local stand-in",
                           description="Log in, read, refresh and log out against a local stand-in of GitHub: "
                                       "no account, no network, and a temporary token file.")
demo.add_argument("--interactive", action="store_true", help="click the consent page in your own browser")
demo.add_argument("--explain", action="store_true", help="narrate each OAuth step as it happens")
demo.add_argument("--device", action="store_true", help="sign in with the device flow instead")
demo.add_argument("--timeout", type=float, default=300, help="with --interactive: seconds to wait (default 300)")
parser.parse_args()
