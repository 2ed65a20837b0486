"""The complete tool: sign in to GitHub through the browser, then use the API. It chains the chapter.

Run:  python dev_github_tool.py demo      the whole flow, offline, against the built-in stand-in
      python dev_github_tool.py login     sign in (browser, loopback callback, state and PKCE)
      python dev_github_tool.py status    who you are, which scopes, when the token expires
      python dev_github_tool.py repos     your repositories, as a table or --json
      python dev_github_tool.py logout    revoke the token at GitHub and delete it here
Watch for: no OAuth logic lives in this file. `login` is steps 1 and 2 (chapter.step2, or
chapter.device_flow), `status` and `repos` are step 3 with token_manager.py's refresh, `logout`
is token_manager.py's revocation. Each command loads only the files it uses (chapter.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

import chapter
from support.cli import EXIT_FAILURE, EXIT_OK, build_parser, parse_arguments, run_command, say
from support.errors import STEP_REVOKE, AuthError, NotLoggedIn, mask

TYPE_CHECKING = False  # type checkers read it as True; importing typing would slow --help by 5 ms
if TYPE_CHECKING:
    from support.settings import OAuthConfig
    from support.token import Token
    from support.token_store import TokenStore
# Settings, token store and output are imported by each command: --help loads none of them (nor requests).

REPO_JSON_FIELDS = ("full_name", "private", "html_url", "description", "stargazers_count", "updated_at")
OFFLINE_ACCESS = "offline_access"  # GitHub's scope for an expiring token with a refresh token


class Context:
    """What every command works with: the settings, the token store and how to reach a browser."""

    def __init__(self, config: OAuthConfig, store: TokenStore, open_browser: Callable[[str], bool] | None,
                 environ: Mapping[str, str], use_cache: bool = True) -> None:
        self.config = config
        self.store = store
        self.open_browser = open_browser  # None: only print the URL
        self.environ = environ  # where GH_TOKEN and the other token variables are looked up
        self.use_cache = use_cache  # conditional requests from the page cache (support/page_cache.py)
        self.say = say

    @property
    def host(self) -> str:
        from support.settings import host_of

        return host_of(self.config.server_url)

    def manager(self):
        return chapter.token_manager.github_token_manager(self.config, self.store)

    def client_and_source(self):
        """Step 3's client, with a token variable's token or the saved one, refreshed first if it expires soon."""
        step3 = chapter.step3
        source = step3.load_token(self.config, self.store, self.environ)
        if source.variable is None:
            source = source._replace(token=self.manager().valid_token())
        # The page cache is tied to a host and an account; a token from a variable has no known account.
        cache = None
        if self.use_cache and source.token.account and source.variable is None:
            cache = step3.PageCache.for_login(self.store.path.parent, self.host, source.token.account)
        return step3.GitHubClient(self.config, source.token, variable=source.variable, cache=cache), source


def context_from_environment(args, require_secret: bool = True, require_client_id: bool = True) -> Context:
    from support.settings import load_config, server_url_for
    from support.token_store import TokenStore

    hostname = getattr(args, "hostname", None)
    config = load_config(require_secret=require_secret, require_client_id=require_client_id,
                         server_url=server_url_for(hostname) if hostname else None)
    open_browser = None
    if args.command == "login" and not args.no_browser:
        open_browser = chapter.step2.open_in_browser
    # One file, one login per server (gh's hosts model): this store reads and writes this server's.
    return Context(config, TokenStore(issuer=config.server_url), open_browser, os.environ,
                   use_cache=not getattr(args, "no_cache", False))


# -- the commands, each written once and used by both the CLI and the demo ----------------------

def do_login(ctx: Context, scope: str | None, timeout: float, force: bool, explain: bool,
             short_lived: bool = False, device: bool = False) -> int:
    from support.output import settings_source
    from support.settings import parse_scopes

    scopes = parse_scopes(scope, "--scope") if scope else None
    if short_lived:
        # GitHub's offline_access: an 8-hour token and a rotating refresh token, even from an app that
        # is not set up for expiring tokens, so a leaked token dies within hours
        # (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens).
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

    def confirm_identity(token: Token) -> Token:
        # GitHub's advice: ask who signed in with the new token before trusting it.
        client = chapter.step3.GitHubClient(ctx.config, token)
        try:
            return token._replace(account=client.get_user()["login"])
        finally:
            client.close()

    if explain:
        ctx.say(f"Settings: read from {settings_source(ctx.config.env_file)}.")
    if device:  # the device flow: a code to type on any device, no loopback server, no client secret
        token = chapter.device_flow.sign_in_with_device(ctx.config, scopes=scopes, say=ctx.say, explain=explain,
                                                        open_browser=ctx.open_browser, confirm=confirm_identity)
    else:
        token = chapter.step2.sign_in_with_browser(ctx.config, scopes=scopes, timeout=timeout,
                                                   open_browser=ctx.open_browser, say=ctx.say, explain=explain,
                                                   confirm=confirm_identity)
    save_or_take_back(ctx, token)
    ctx.say(f"Logged in to {ctx.host} as {token.account}. Token {mask(token.access_token)} saved to {ctx.store.path}.")
    if previous is not None and previous.access_token != token.access_token:
        # The token this login replaced would otherwise stay valid, unused, for a year (gh revokes it too).
        problem = revoke_quietly(ctx, previous)
        ctx.say("Revoked the token this login replaced." if problem is None else
                f"Note: the token this login replaced was not revoked ({problem}); "
                f"revoke it at {chapter.token_manager.revocation_page(previous)}.")
    if short_lived and token.expires_at is None:
        ctx.say(f"Note: {ctx.host} ignored offline_access (older GitHub Enterprise Server does), so this token "
                "does not expire; revoke it with logout when you are done.")
    asked = set(scopes if scopes is not None else ctx.config.scopes) - {OFFLINE_ACCESS}
    missing = asked - set(token.scopes)
    if missing:
        ctx.say(f"Note: you granted less than asked; missing scopes: {', '.join(sorted(missing))}.")
    return EXIT_OK


def saved_login(ctx: Context) -> Token | None:
    """The saved token for this server if it still works or can be refreshed; otherwise None."""
    try:
        saved = ctx.store.load()
    except AuthError as error:
        ctx.say(f"Ignoring the saved token ({error.message}); signing in again.")
        return None
    if saved is None or (saved.issuer, saved.resource) != (ctx.config.server_url, ctx.config.api_url):
        return None
    return saved if not saved.is_expired() or saved.can_refresh() else None


def save_or_take_back(ctx: Context, token: Token) -> None:
    """Save the new token; if it cannot be kept, revoke it: nothing may stay valid that nobody holds."""
    try:
        ctx.manager().save(token)
    except AuthError as error:
        problem = revoke_quietly(ctx, token)
        fate = "the new token was revoked" if problem is None else \
            f"the new token could not be revoked ({problem}): revoke it at {chapter.token_manager.revocation_page(token)}"
        raise AuthError(error.step, f"{error.message}; {fate}") from error


def revoke_quietly(ctx: Context, token: Token) -> str | None:
    """Revoke `token`; None if that worked, else why not (a failure here is a note, not an error)."""
    try:
        chapter.token_manager.revoke_github_token(ctx.config)(token)
    except AuthError as error:
        return error.message
    return None


def say_if_a_variable_overrides_the_login(ctx: Context) -> None:
    variable = chapter.step3.token_variable_in_use(ctx.environ, ctx.config.server_url)
    if variable:
        ctx.say(f"Note: {variable} is set, and status and repos use it instead of this login until you unset it.")


def do_status(ctx: Context, as_json: bool) -> int:
    from support.output import print_json, print_status
    from support.settings import host_of

    try:
        client, source = ctx.client_and_source()
        try:
            user = client.get_user()
        finally:
            client.close()
    except AuthError as error:
        elsewhere = other_logins(ctx) if isinstance(error, NotLoggedIn) else []
        if elsewhere:
            hosts = ", ".join(host_of(token.issuer) for token in elsewhere)
            error = AuthError(error.step, f"{error.message} (logged in to {hosts}: add --hostname HOST)")
        if not as_json:
            raise error
        # A script reading --json gets JSON whatever happened, and the exit code says it failed.
        print_json({"logged_in": False, "host": ctx.host, "error": str(error)})
        return EXIT_FAILURE
    scopes = client.granted_scopes if client.granted_scopes is not None else source.token.scopes
    print_status(ctx.host, user["login"], source, scopes, ctx.config.env_file, other_logins(ctx), as_json)
    return EXIT_OK


def other_logins(ctx: Context) -> list[Token]:
    """The saved logins to other servers than this one (gh's hosts)."""
    try:
        saved = ctx.store.load_all()
    except AuthError:
        return []
    return [token for issuer, token in sorted(saved.items()) if issuer != ctx.config.server_url]


def do_repos(ctx: Context, limit: int | None, visibility: str | None, sort: str | None, as_json: bool) -> int:
    from support.output import format_repo_table, print_json, terminal_width

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
        print("\n".join(format_repo_table(repos, terminal_width())))
    if client.more_repositories:
        print(f"Showing the first {limit} {'repository' if limit == 1 else 'repositories'}; "
              "use --limit N, or --limit all.", file=sys.stderr)
    if visibility in (None, "all") and client.lacks_private_scope():
        print("Note: public repositories only; the token has no repo scope "
              "(login --scope \"read:user repo\" to see private ones).", file=sys.stderr)
    return EXIT_OK


def do_logout(ctx: Context) -> int:
    result = ctx.manager().logout()
    chapter.step3.PageCache.forget_host(ctx.store.path.parent, ctx.host)  # this host's cached pages go too
    if not result.had_token:
        ctx.say(f"Not logged in to {ctx.host}; nothing to do.")
        return EXIT_OK
    if result.revoked:
        ctx.say(f"Revoked the token at {ctx.host} and removed it from {ctx.store.path}.")
        return EXIT_OK
    where = f" at {chapter.token_manager.revocation_page(result.token)}" if result.token else ""
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
    if args.command == "demo":
        from support.demo import run_demo

        return run_demo(sys.modules[__name__], args.interactive, args.explain, args.timeout, device=args.device)
    if args.command == "doctor":
        return do_doctor(os.environ, getattr(args, "hostname", None), args.json)
    if args.command == "login":
        # The device flow needs no client secret (RFC 8628, and GitHub's docs).
        return do_login(context_from_environment(args, require_secret=not args.device), args.scope, args.timeout,
                        args.force, args.explain, short_lived=args.short_lived, device=args.device)
    from support.settings import check_client_id

    # Reading and revoking need no client secret unless a refresh or revocation happens, and
    # GH_TOKEN alone is enough to read the API, as with gh: no OAuth app is involved then.
    ctx = context_from_environment(args, require_secret=False, require_client_id=False)
    token_variable = chapter.step3.token_variable_in_use(ctx.environ, ctx.config.server_url)
    if args.command == "logout" or token_variable is None:
        check_client_id(ctx.config)
    if args.command == "status":
        return do_status(ctx, args.json)
    if args.command == "repos":
        return do_repos(ctx, args.limit, args.visibility, args.sort, args.json)
    return do_logout(ctx)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_arguments(parser, argv)
    if args.command == "demo" and getattr(args, "hostname", None):
        # Said rather than ignored: the demo always signs in to a stand-in of its own.
        parser.error("demo runs against its own local stand-in; --hostname does not apply to it")
    return run_command(args.command, lambda: run(args), debug=getattr(args, "debug", False))


if __name__ == "__main__":
    sys.exit(main())
