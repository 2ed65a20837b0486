"""The complete tool: sign in to GitHub through the browser, then use the API. It chains the chapter.

Run:  python dev_github_tool.py demo      the whole flow, offline, against the built-in stand-in
      python dev_github_tool.py login     sign in (browser, loopback callback, state and PKCE)
      python dev_github_tool.py status    who you are, which scopes, when the token expires
      python dev_github_tool.py repos     your repositories, as a table or --json
      python dev_github_tool.py logout    revoke the token at the server and delete it here
      python dev_github_tool.py doctor    check each step of the chapter, in order, and name the fix
Watch for: no protocol step is written here, only the tool's policies on top of the chapter's:
`login` is steps 1 and 2 (chapter.step2, or chapter.device_flow), checks a saved token first, asks
who signed in, and revokes the token it replaces; `status` and `repos` are step 3 with
token_manager.py's refresh; `logout` is its revocation. Each command loads only what it uses.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

import chapter
from support.cli import DEFAULT_TIMEOUT_SECONDS, EXIT_FAILURE, EXIT_OK, build_parser, parse_arguments, run_command, say
from support.errors import STEP_REVOKE, AuthError, NotLoggedIn, RefreshRejected, TokenRefused, mask, repeating_hostname

TYPE_CHECKING = False  # type checkers read it as True; importing typing would slow --help by 5 ms
if TYPE_CHECKING:
    from support.settings import OAuthConfig
    from support.token import Token
    from support.token_store import TokenStore
# Settings, token store and output are imported by each command: --help loads none of them (nor requests).

OFFLINE_ACCESS = "offline_access"  # GitHub's scope for an expiring token with a refresh token


class Context:
    """What every command works with: the settings, the token store and how to reach a browser."""

    def __init__(self, config: OAuthConfig, store: TokenStore, open_browser: Callable[[str], bool] | None,
                 environ: Mapping[str, str], use_cache: bool = True, hostname: str | None = None) -> None:
        self.config = config
        self.store = store
        self.open_browser = open_browser  # None: only print the URL
        self.environ = environ  # where GH_TOKEN and the other token variables are looked up
        self.use_cache = use_cache  # conditional requests from the page cache (support/page_cache.py)
        self.hostname = hostname  # the --hostname the user gave: every command a message advises repeats it
        self.say = lambda text: say(repeating_hostname(text, hostname))

    @property
    def host(self) -> str:
        from support.settings import hostname_of

        return hostname_of(self.config.server_url)

    def manager(self):
        return chapter.token_manager.github_token_manager(self.config, self.store)

    def page_cache(self, source):
        from support.page_cache import PageCache

        return PageCache.for_source(self.store.path.parent, self.host, source)

    def client_and_source(self):
        """Step 3's client, with a token variable's token or the saved one, refreshed first if it expires soon."""
        from support.output import logged_in_elsewhere

        step3 = chapter.step3
        try:
            source = step3.load_token(self.config, self.store, self.environ)
        except NotLoggedIn as error:
            raise logged_in_elsewhere(error, self.config.server_url, self.store.other_logins()) from None
        if source.variable is None:
            source = source._replace(token=self.manager().valid_token())
        cache = self.page_cache(source) if self.use_cache else None  # a saved login's: host and account
        return step3.GitHubClient(self.config, source.token, variable=source.variable, cache=cache), source

    def account_of(self, token: Token) -> str:
        """Who `token` belongs to, asked of its own API (GET /user): GitHub's advice for a new token, and
        how a saved one is checked. A token the API refuses raises TokenRefused."""
        client = chapter.step3.GitHubClient(self.config._replace(api_url=token.resource or self.config.api_url), token)
        try:
            return client.get_user()["login"]
        finally:
            client.close()

    def other_hosts(self):
        """The other hosts' logins, each checked at its own API as `gh auth status` does (no request without one)."""
        from support.output import check_logins

        return check_logins(self.store.other_logins(), self.account_of)


def context_from_environment(args, require_secret: bool = True, require_client_id: bool = True) -> Context:
    from support.settings import chosen_hostname, load_config, server_url_for
    from support.token_store import TokenStore

    hostname = chosen_hostname(getattr(args, "hostname", None), os.environ)  # --hostname, else GH_HOST, as gh
    config = load_config(require_secret=require_secret, require_client_id=require_client_id,
                         server_url=server_url_for(hostname) if hostname is not None else None)
    open_browser = None
    if args.command == "login" and not args.no_browser:
        open_browser = chapter.step2.open_in_browser
    # One file, one login per server (gh's hosts model): this store reads and writes this server's.
    return Context(config, TokenStore(issuer=config.server_url), open_browser, os.environ,
                   use_cache=not getattr(args, "no_cache", False), hostname=getattr(args, "hostname", None))


# -- the commands, each written once and used by both the CLI and the demo ----------------------

def do_login(ctx: Context, scope: str | None, timeout: float | None, force: bool, explain: bool,
             short_lived: bool = False, device: bool = False) -> int:
    from support.metadata import discover
    from support.output import login_notes, settings_source, shown
    from support.settings import parse_scopes
    from support.token_store import save_replacing

    scopes = parse_scopes(scope, "--scope") if scope else None
    if short_lived:
        # GitHub's offline_access: an 8-hour token and a rotating refresh token, even from an app that
        # is not set up for expiring tokens, so a leaked token dies within hours ("Refreshing user access
        # tokens" in GitHub's docs on GitHub Apps).
        scopes = tuple(dict.fromkeys((*(scopes or ctx.config.scopes), OFFLINE_ACCESS)))
    previous = saved_login(ctx)
    if previous is not None and not force:
        lacking = sorted(set(scopes or ctx.config.scopes) - set(previous.scopes) - {OFFLINE_ACCESS})
        if short_lived and previous.expires_at is None:
            ctx.say("The saved token does not expire; signing in again for a short-lived one.")
        elif lacking:
            # Scopes are fixed when a token is issued: more access means signing in again (gh auth refresh).
            ctx.say(f"The saved token lacks {', '.join(lacking)}; signing in again to ask for it.")
        else:
            try:  # one GET /user: a token revoked at GitHub is no login, whatever the file says
                who = shown(ctx.account_of(ctx.manager().valid_token()))
            except (TokenRefused, RefreshRejected) as error:
                ctx.say(f"The saved token no longer works ({error.problem}); signing in again.")
                previous = None  # dead: its revocation below is not worth a word
            else:
                ctx.say(f"Already logged in to {ctx.host} as {who}. Use login --force to sign in again.")
                return EXIT_OK
    say_if_a_variable_overrides_the_login(ctx)
    # Before the browser: a sign-in whose token cannot be saved would be lost at the very end.
    ctx.store.check_writable()
    ctx.config = discover(ctx.config)  # RFC 8414: the endpoints and issuer the server publishes, if it does

    def confirm_identity(token: Token) -> Token:
        # GitHub's advice: ask who signed in with the new token before trusting it.
        return token._replace(account=ctx.account_of(token))

    if explain:
        ctx.say(f"Settings: read from {settings_source(ctx.config.env_file)}.")
    if device:  # the device flow: a code to type on any device, no loopback server, no client secret
        token = chapter.device_flow.sign_in_with_device(ctx.config, scopes=scopes, say=ctx.say, explain=explain,
                                                        open_browser=ctx.open_browser, confirm=confirm_identity,
                                                        timeout=timeout)
    else:
        token = chapter.step2.sign_in_with_browser(ctx.config, scopes=scopes, open_browser=ctx.open_browser,
                                                   timeout=timeout or DEFAULT_TIMEOUT_SECONDS, say=ctx.say,
                                                   explain=explain, confirm=confirm_identity)
    # Saved, or revoked if it cannot be; and the token it replaces is revoked, as gh does.
    replaced = save_replacing(ctx.store, token, chapter.token_manager.revoke_github_token(ctx.config))
    chapter.step3.PageCache.keep_only(ctx.store.path.parent, ctx.host, token.account)  # another account's pages go
    ctx.say(f"Logged in to {ctx.host} as {shown(token.account)}. Token {mask(token.access_token)} saved to "
            f"{ctx.store.path}.")
    if replaced and previous is not None:
        ctx.say(replaced)
    for note in login_notes(ctx.host, token, scopes if scopes is not None else ctx.config.scopes, short_lived):
        ctx.say(note)  # offline_access ignored, or fewer scopes granted than asked
    return EXIT_OK


def saved_login(ctx: Context) -> Token | None:
    """The saved token for this server if it still works or can be refreshed; otherwise None."""
    from support.token_store import NewerTokenFile

    try:
        saved = ctx.store.load()
    except NewerTokenFile:
        raise  # never overwritten: a new login could not be saved
    except AuthError as error:
        ctx.say(f"Ignoring the saved token ({error.message}); signing in again.")
        return None
    if saved is None or (saved.issuer, saved.resource) != (ctx.config.server_url, ctx.config.api_url):
        return None
    return saved if not saved.is_expired() or saved.can_refresh() else None


def say_if_a_variable_overrides_the_login(ctx: Context, after_logout: bool = False) -> None:
    from support.output import variable_note

    variable = chapter.step3.token_variable_in_use(ctx.environ, ctx.config.server_url)
    if variable:
        ctx.say(variable_note(variable, after_logout))


def do_status(ctx: Context, as_json: bool) -> int:
    from support.output import print_status

    client, source = ctx.client_and_source()
    try:
        user = client.get_user()
    finally:
        client.close()
    scopes = client.granted_scopes if client.granted_scopes is not None else source.token.scopes
    print_status(ctx.host, user["login"], source, scopes, ctx.config.env_file, ctx.other_hosts(), as_json)
    return EXIT_OK


def do_repos(ctx: Context, limit: int | None, visibility: str | None, sort: str | None, as_json: bool,
             verbose: bool = False) -> int:
    from support.output import PUBLIC_ONLY_NOTE, more_repositories_note, print_repositories

    client, source = ctx.client_and_source()
    try:
        repos = list(client.list_repositories(limit=limit, visibility=visibility, sort=sort))
    finally:
        client.close()
    print_repositories(repos, as_json)
    if client.more_repositories:
        print(more_repositories_note(len(repos), client.more_repositories), file=sys.stderr)
    # For people, not scripts: said once per login (remembered beside its cached pages until logout), or with --verbose.
    if visibility in (None, "all") and client.lacks_private_scope() and (verbose or not as_json and (
            (cache := ctx.page_cache(source)) is None or cache.first_time("public-only"))):
        print(repeating_hostname(PUBLIC_ONLY_NOTE, ctx.hostname), file=sys.stderr)
    return EXIT_OK


def do_logout(ctx: Context) -> int:
    from support.token_store import revocation_page

    result = ctx.manager().logout()
    say_if_a_variable_overrides_the_login(ctx, after_logout=True)  # as gh auth logout warns
    if not result.had_token:
        ctx.say(f"Not logged in to {ctx.host}; nothing to do.")
        return EXIT_OK
    chapter.step3.PageCache.forget_host(ctx.store.path.parent, ctx.host)  # this host's cached pages go too
    if result.revoked:
        ctx.say(f"Revoked the token at {ctx.host} and removed it from {ctx.store.path}.")
        return EXIT_OK
    where = f" at {revocation_page(result.token)}" if result.token else ""
    raise AuthError(STEP_REVOKE, f"{result.problem}, so the token was not revoked. It was removed from "
                    f"{ctx.store.path}, but stays valid until you revoke it{where}")


def do_doctor(environ: Mapping[str, str], hostname: str | None = None, as_json: bool = False, **where) -> int:
    """Each of the chapter's failure points, in order (support/doctor.py), with step 1's URL and the device flow."""
    from support.doctor import run_doctor

    return run_doctor(hostname, as_json, environ, build_url=lambda config: chapter.step1.prepare_authorization_request(
        config).url, request_device_code=lambda config: chapter.device_flow.request_device_code(config, config.scopes),
        **where)


# -- the command line ------------------------------------------------------------------------

def run(args) -> int:
    from support.api_http import check_app_settings_unless_a_variable
    from support.output import print_json, status_failure

    if args.command == "demo":
        from support.demo import run_demo

        return run_demo(sys.modules[__name__], args.interactive, args.explain, args.timeout, device=args.device)
    if args.command == "doctor":
        return do_doctor(os.environ, getattr(args, "hostname", None), args.json)
    ctx = None
    try:
        if args.command == "login":
            # The device flow needs no client secret (RFC 8628, and GitHub's docs).
            return do_login(context_from_environment(args, require_secret=not args.device), args.scope, args.timeout,
                            args.force, args.explain, short_lived=args.short_lived, device=args.device)
        # Reading needs no client secret unless a refresh happens, and GH_TOKEN alone is enough to read
        # the API, as with gh: no OAuth app is involved then. Revoking is the app's act, so logout needs it.
        ctx = context_from_environment(args, require_secret=False, require_client_id=False)
        ctx.config = ctx.store.settings_of_the_login(ctx.config)  # its own app and endpoints: works from any folder
        check_app_settings_unless_a_variable(ctx.config, ctx.environ, always=args.command == "logout")
        if args.command == "status":
            return do_status(ctx, args.json)
        if args.command == "repos":
            return do_repos(ctx, args.limit, args.visibility, args.sort, args.json, args.verbose)
        return do_logout(ctx)
    except AuthError as caught:
        error = AuthError(caught.step, repeating_hostname(caught.message, getattr(args, "hostname", None)))
        if args.command != "status" or not args.json:
            raise error from caught
        # A script reading --json gets JSON whatever happened (settings too), and the exit code says it failed.
        print_json(status_failure(ctx.host if ctx else None, error, ctx.other_hosts() if ctx else None))
        return EXIT_FAILURE


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_arguments(parser, argv)
    if args.command == "demo" and getattr(args, "hostname", None):
        # Said rather than ignored: the demo always signs in to a stand-in of its own.
        parser.error("demo runs against its own local stand-in; --hostname does not apply to it")
    return run_command(args.command, lambda: run(args), debug=getattr(args, "debug", False))


if __name__ == "__main__":
    sys.exit(main())
