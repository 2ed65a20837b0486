"""The complete tool: sign in to GitHub through the browser, then use the API. It chains steps 1-3.

Run:  python dev_github_tool.py demo      the whole flow, offline, against the built-in stand-in
      python dev_github_tool.py login     sign in (browser, loopback callback, state and PKCE)
      python dev_github_tool.py status    who you are, which scopes, when the token expires
      python dev_github_tool.py repos     your repositories, as a table or --json
      python dev_github_tool.py logout    revoke the token at GitHub and delete it here
Watch for: no OAuth logic lives in this file; it imports the numbered steps and token_manager.py.
`--help` stays fast because they (and `requests`) are imported only when a command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

VERSION = "1.0.0"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
REPO_JSON_FIELDS = ("full_name", "private", "html_url", "description", "stargazers_count", "updated_at")
DEFAULT_LIMIT = 30
# The same as step 2's: time to sign in with two-factor authentication (importing step 2 here
# would slow down --help, which imports nothing it does not need).
DEFAULT_TIMEOUT_SECONDS = 300
OFFLINE_ACCESS = "offline_access"  # GitHub's scope for an expiring token with a refresh token
NAME_COLUMN_MIN = 12


def step(module_name: str):
    """Import a step only when a command needs it (the numbered files cannot be imported by name).

    Each command loads only what it uses: `status` and `repos` need the settings, the token
    manager and step 3, never step 1's URL machinery or step 2's callback server and browser.
    """
    return importlib.import_module(module_name)


def say(text: str) -> None:
    # Flush at once: the URL must be on screen while login waits, even when the output is a pipe.
    print(text, flush=True)


class Context:
    """What every command works with: the settings, the token store and how to reach a browser."""

    def __init__(self, config, store, open_browser, environ, use_cache: bool = True) -> None:
        self.config = config
        self.store = store
        self.open_browser = open_browser  # None: only print the URL
        self.environ = environ  # where GH_TOKEN / GITHUB_TOKEN are looked up
        self.use_cache = use_cache  # conditional requests from the page cache (step 3's PageCache)
        self.say = say

    @property
    def host(self) -> str:
        return host_of(self.config.server_url)

    def manager(self):
        return step("3_github_request").github_token_manager(self.config, self.store)

    def client_and_source(self):
        step3 = step("3_github_request")
        source = step3.load_token(self.config, self.manager(), self.environ)
        # The page cache is tied to a host and an account; a token from a variable has no known account.
        cache = None
        if self.use_cache and source.token.account and source.variable is None:
            cache = step3.PageCache.for_login(self.store.path.parent, self.host, source.token.account)
        return step3.GitHubClient(self.config, source.token, variable=source.variable, cache=cache), source


def context_from_environment(args: argparse.Namespace, require_secret: bool = True,
                             require_client_id: bool = True) -> Context:
    import os

    settings = step("oauth_config")
    hostname = getattr(args, "hostname", None)
    config = settings.load_config(require_secret=require_secret, require_client_id=require_client_id,
                                  server_url=settings.server_url_for(hostname) if hostname else None)
    open_browser = None
    if args.command == "login" and not args.no_browser:
        open_browser = step("2_callback_exchange").open_in_browser
    # One file, one login per server (gh's hosts model): this store reads and writes this server's.
    return Context(config, step("token_manager").TokenStore(issuer=config.server_url), open_browser, os.environ,
                   use_cache=not getattr(args, "no_cache", False))


# -- the commands, each written once and used by both the CLI and the demo ----------------------

def do_login(ctx: Context, scope: str | None, timeout: float, force: bool, explain: bool,
             short_lived: bool = False, device: bool = False) -> int:
    settings, step2, step3 = step("oauth_config"), step("2_callback_exchange"), step("3_github_request")
    tm = step("token_manager")
    scopes = settings.parse_scopes(scope, "--scope") if scope else None
    if short_lived:
        # GitHub's offline_access: an 8-hour token and a rotating refresh token, even from an app that
        # is not set up for expiring tokens, so a leaked token dies within hours (facts §4.1).
        scopes = tuple(dict.fromkeys((*(scopes or ctx.config.scopes), OFFLINE_ACCESS)))
    previous = saved_login(ctx)
    if previous is not None and not force:
        lacking = sorted(set(scopes or ()) - set(previous.scopes) - {OFFLINE_ACCESS})
        if short_lived and previous.expires_at is None:
            ctx.say("The saved token does not expire; signing in again for a short-lived one.")
        elif lacking:
            # Scopes are fixed when a token is issued: more access means signing in again (gh auth refresh).
            ctx.say(f"The saved token lacks {', '.join(lacking)}; signing in again to ask for it.")
        else:
            who = f" as {previous.account}" if previous.account else ""
            ctx.say(f"Already logged in to {ctx.host}{who}. Use login --force to sign in again.")
            return EXIT_OK
    say_if_a_variable_overrides_the_login(ctx)
    # Before the browser: a sign-in whose token cannot be saved would be lost at the very end.
    ctx.store.check_writable()

    def confirm_identity(token):
        # GitHub's advice: ask who signed in with the new token before trusting it.
        client = step3.GitHubClient(ctx.config, token)
        try:
            return token._replace(account=client.get_user()["login"])
        finally:
            client.close()

    if explain:
        ctx.say(f"Settings: read from {settings_source(ctx.config)}.")
    if device:  # the device flow: a code to type on any device, no loopback server, no client secret
        token = step("device_flow").sign_in_with_device(ctx.config, scopes=scopes, say=ctx.say, explain=explain,
                                                        open_browser=ctx.open_browser, confirm=confirm_identity)
    else:
        token = step2.sign_in_with_browser(ctx.config, scopes=scopes, timeout=timeout,
                                           open_browser=ctx.open_browser, say=ctx.say, explain=explain,
                                           confirm=confirm_identity)
    try:
        ctx.manager().save(token)
    except tm.AuthError as error:
        # Nothing may stay valid that nobody holds: take the new token back.
        problem = revoke_quietly(ctx, token)
        fate = "the new token was revoked" if problem is None else \
            f"the new token could not be revoked ({problem}): revoke it at {step3.revocation_page(token)}"
        raise tm.AuthError(error.step, f"{error.message}; {fate}") from error
    ctx.say(f"Logged in to {ctx.host} as {token.account}. Token {tm.mask(token.access_token)} "
            f"saved to {ctx.store.path}.")
    if previous is not None and previous.access_token != token.access_token:
        # The token this login replaced would otherwise stay valid, unused, for a year (gh revokes it too).
        problem = revoke_quietly(ctx, previous)
        ctx.say("Revoked the token this login replaced." if problem is None else
                f"Note: the token this login replaced was not revoked ({problem}); "
                f"revoke it at {step3.revocation_page(previous)}.")
    if short_lived and token.expires_at is None:
        ctx.say(f"Note: {ctx.host} ignored offline_access (older GitHub Enterprise Server does), so this token "
                "does not expire; revoke it with logout when you are done.")
    asked = set(scopes if scopes is not None else ctx.config.scopes) - {OFFLINE_ACCESS}
    missing = asked - set(token.scopes)
    if missing:
        ctx.say(f"Note: you granted less than asked; missing scopes: {', '.join(sorted(missing))}.")
    return EXIT_OK


def saved_login(ctx: Context):
    """The saved token for this server if it still works or can be refreshed; otherwise None."""
    tm = step("token_manager")
    try:
        saved = ctx.store.load()
    except tm.AuthError as error:
        ctx.say(f"Ignoring the saved token ({error.message}); signing in again.")
        return None
    if saved is None or (saved.issuer, saved.resource) != (ctx.config.server_url, ctx.config.api_url):
        return None
    return saved if not saved.is_expired() or saved.can_refresh() else None


def revoke_quietly(ctx: Context, token) -> str | None:
    """Revoke `token`; None if that worked, else why not (a failure here is a note, not an error)."""
    try:
        step("3_github_request").revoke_github_token(ctx.config)(token)
    except step("token_manager").AuthError as error:
        return error.message
    return None


def say_if_a_variable_overrides_the_login(ctx: Context) -> None:
    variable = step("3_github_request").token_variable_in_use(ctx.environ, ctx.config.server_url)
    if variable:
        ctx.say(f"Note: {variable} is set, and status and repos use it instead of this login until you unset it.")


def do_status(ctx: Context, as_json: bool) -> int:
    import time

    from datetime import datetime, timezone

    tm = step("token_manager")
    try:
        client, source = ctx.client_and_source()
        try:
            user = client.get_user()
        finally:
            client.close()
    except tm.AuthError as error:
        elsewhere = other_logins(ctx) if isinstance(error, tm.NotLoggedIn) else []
        if elsewhere:
            hosts = ", ".join(host_of(token.issuer) for token in elsewhere)
            error = tm.AuthError(error.step, f"{error.message} (logged in to {hosts}: add --hostname HOST)")
        if not as_json:
            raise error
        # A script reading --json gets JSON whatever happened, and the exit code says it failed.
        print_json({"logged_in": False, "host": ctx.host, "error": str(error)})
        return EXIT_FAILURE
    token = source.token
    scopes = client.granted_scopes if client.granted_scopes is not None else token.scopes
    if as_json:
        expires_at = None if token.expires_at is None else \
            datetime.fromtimestamp(token.expires_at, timezone.utc).isoformat(timespec="seconds")
        print_json({
            "logged_in": True, "host": ctx.host, "user": user["login"], "scopes": list(scopes),
            "token": tm.mask(token.access_token), "expires_at": expires_at,
            "refreshable": token.can_refresh(), "source": source.description, "settings": ctx.config.env_file,
            "other_hosts": [{"host": host_of(other.issuer), "user": other.account} for other in other_logins(ctx)],
        })
        return EXIT_OK
    if token.expires_at is None:
        expiry = "does not expire"
    else:
        expiry = f"expires in {tm.format_duration(max(token.expires_at - time.time(), 0))}"
        expiry += " (refreshable)" if token.can_refresh() else " (not refreshable: log in again then)"
    others = other_logins(ctx)
    print(f"{ctx.host} (active)" if others else ctx.host)
    print(f"  ✓ Logged in as {user['login']} (token from {source.description})")
    print(f"  - Token: {tm.mask(token.access_token)}, {expiry}")
    print(f"  - Scopes: {', '.join(scopes) or '(none: public data only)'}")
    print(f"  - Settings: {settings_source(ctx.config)}")
    for other in others:  # from the file alone: no request goes to a host you did not pick
        print(host_of(other.issuer))
        print(f"  - Logged in as {other.account or 'an account not yet checked'}, token "
              f"{tm.mask(other.access_token)}; use it with --hostname {host_of(other.issuer)}")
    return EXIT_OK


def other_logins(ctx: Context) -> list:
    """The saved logins to other servers than this one (gh's hosts)."""
    try:
        saved = ctx.store.load_all()
    except step("token_manager").AuthError:
        return []
    return [token for issuer, token in sorted(saved.items()) if issuer != ctx.config.server_url]


def host_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def print_json(value: object) -> None:
    """Indented for a person at a terminal, one compact line for a pipe (as gh does): a program
    needs no indentation, and Python's encoder is much slower when it indents."""
    import json

    print(json.dumps(value, indent=2 if sys.stdout.isatty() else None))


def settings_source(config) -> str:
    return f"{config.env_file} and the environment" if config.env_file else "the environment (no .env in this folder)"


def format_repo_table(repos: list[dict], width: int) -> list[str]:
    tm = step("token_manager")
    rows = [(tm.safe_text(r.get("full_name"), 200), "private" if r.get("private") else "public",
             str(r.get("stargazers_count", 0)), str(r.get("updated_at") or "")[:10]) for r in repos]
    header = ("NAME", "VISIBILITY", "STARS", "UPDATED")
    rest = [max(len(row[i]) for row in [header, *rows]) for i in (1, 2, 3)]
    name_width = max(NAME_COLUMN_MIN, min(max(len(row[0]) for row in [header, *rows]), width - sum(rest) - 6))

    def line(row: tuple[str, ...]) -> str:
        name = row[0] if len(row[0]) <= name_width else row[0][: name_width - 1] + "…"
        return f"{name:<{name_width}}  {row[1]:<{rest[0]}}  {row[2]:>{rest[1]}}  {row[3]}".rstrip()

    return [line(header), *(line(row) for row in rows)]


def do_repos(ctx: Context, limit: int, visibility: str | None, sort: str | None, as_json: bool) -> int:
    import shutil

    client, _ = ctx.client_and_source()
    try:
        repos = list(client.list_repositories(limit=limit, visibility=visibility, sort=sort))
    finally:
        client.close()
    if as_json:
        print_json([{name: repo.get(name) for name in REPO_JSON_FIELDS} for repo in repos])
    elif not repos:
        print("No repositories.")
    else:
        print("\n".join(format_repo_table(repos, shutil.get_terminal_size().columns)))
    if client.more_repositories:
        print(f"Showing the first {limit} {'repository' if limit == 1 else 'repositories'}; "
              "use --limit N, or --limit all.", file=sys.stderr)
    if visibility in (None, "all") and client.lacks_private_scope():
        print("Note: public repositories only; the token has no repo scope "
              "(login --scope \"read:user repo\" to see private ones).", file=sys.stderr)
    return EXIT_OK


def do_logout(ctx: Context) -> int:
    tm, step3 = step("token_manager"), step("3_github_request")
    result = ctx.manager().logout()
    step3.PageCache.forget_host(ctx.store.path.parent, ctx.host)  # this host's cached pages go too
    if not result.had_token:
        ctx.say(f"Not logged in to {ctx.host}; nothing to do.")
        return EXIT_OK
    if result.revoked:
        ctx.say(f"Revoked the token at {ctx.host} and removed it from {ctx.store.path}.")
        return EXIT_OK
    where = f" at {step3.revocation_page(result.token)}" if result.token else ""
    raise tm.AuthError(tm.STEP_REVOKE, f"{result.problem}, so the token was not revoked. It was removed from "
                       f"{ctx.store.path}, but stays valid until you revoke it{where}")


# -- the command line ------------------------------------------------------------------------

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
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
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


def positive(kind: type, allow_all: bool = False):
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


def run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        # The demo lives in demo.py: the commands used every day need not compile it at each start.
        return step("demo").run_demo(args.interactive, args.explain, args.timeout, device=args.device)
    if args.command == "login":
        # The device flow needs no client secret (RFC 8628, and GitHub's docs).
        return do_login(context_from_environment(args, require_secret=not args.device), args.scope, args.timeout,
                        args.force, args.explain, short_lived=args.short_lived, device=args.device)
    # Reading and revoking need no client secret unless a refresh or revocation happens, and
    # GH_TOKEN alone is enough to read the API, as with gh: no OAuth app is involved then.
    ctx = context_from_environment(args, require_secret=False, require_client_id=False)
    token_variable = step("3_github_request").token_variable_in_use(ctx.environ, ctx.config.server_url)
    if args.command == "logout" or token_variable is None:
        step("oauth_config").check_client_id(ctx.config)
    if args.command == "status":
        return do_status(ctx, args.json)
    if args.command == "repos":
        return do_repos(ctx, args.limit, args.visibility, args.sort, args.json)
    return do_logout(ctx)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo" and getattr(args, "hostname", None):
        # Said rather than ignored: the demo always signs in to a stand-in of its own.
        parser.error("demo runs against its own local stand-in; --hostname does not apply to it")
    debug = getattr(args, "debug", False)
    if debug:
        import logging

        # urllib3 logs one line per request (method, path, status): never headers or bodies.
        logging.basicConfig(level=logging.DEBUG, format="debug: %(name)s: %(message)s")
    try:
        return run(args)
    except KeyboardInterrupt:
        print(f"\n{args.command} cancelled.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader piped us into `head`, which has seen enough; stop quietly (Python's docs recipe).
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except Exception as error:
        if debug:
            raise
        if isinstance(error, step("token_manager").AuthError):
            print(f"{args.command} failed at {error}", file=sys.stderr)
        else:
            print(f"{args.command} failed: an unexpected {type(error).__name__} — run again with --debug "
                  "to see where, and report it", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
