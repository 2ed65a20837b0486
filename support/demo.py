"""The offline demo: the complete tool's commands, run against the local stand-in, and narrated.

Run:  python dev_github_tool.py demo [--device] [--interactive [--timeout 300]] [--explain]
Not a step of the chapter but a tour of all of them: login (steps 1 and 2, or the device flow),
status and repos (step 3), a refresh (token_manager.py) and logout, with no account, no network and
a token file of its own in a temporary folder. The tool hands in its own module (`tool`), so that
the demo runs the very commands a reader runs, and this package imports no chapter file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType

from support.cli import EXIT_OK
from support.errors import mask
from support.loopback import open_in_browser
from support.settings import load_config
from support.token_store import TokenStore


def run_demo(tool: ModuleType, interactive: bool, explain: bool, timeout: float | None = None,
             device: bool = False) -> int:
    """Run dev_github_tool's commands (`tool.do_login` and the others) against a stand-in of its own."""
    import stand_in

    # Played by the demo, the device flow needs no pause between polls; typed by you, GitHub's 5 s.
    settings = stand_in.Settings(approval="ask" if interactive else "auto", expiring=True,
                                 device_interval=5 if interactive else 0)
    with tempfile.TemporaryDirectory(prefix="dev-github-tool-demo-") as home, stand_in.LocalGitHub(settings) as github:
        # The demo never reads .env or your real token: its settings and its token file are its own.
        config = load_config(env=github.environment())
        if interactive:
            open_browser = open_in_browser
        else:
            open_browser = None if device else _auto_browser(stand_in)
        ctx = tool.Context(config, TokenStore(Path(home) / "token.json", issuer=config.server_url), open_browser,
                           environ={})
        print(f"Demo: a local stand-in of GitHub runs at {github.url}; no account, no network, and the token")
        print(f"file lives in a temporary folder ({home}), so a real login is never touched.\n")
        if device:
            print("== login --device: the device flow (a code you would type on any device, then polling)")
            if not interactive:
                print("  (the demo plays you: the stand-in approves the code at its second poll)")
        else:
            print("== login: steps 1 and 2 (authorization URL, loopback callback, code exchange)")
        tool.do_login(ctx, scope="read:user repo", timeout=timeout, force=True, explain=explain, device=device)
        print("\n== status: step 3 asks GitHub who the token belongs to")
        narrate("status", config, explain)
        tool.do_status(ctx, as_json=False)
        print("\n== repos: step 3 pages through GET /user/repos")
        narrate("repos", config, explain)
        tool.do_repos(ctx, limit=None, visibility=None, sort=None, as_json=False)  # all 7: no --limit to hint at
        print("\n== refresh: token_manager.py trades the refresh token for a new pair (rotation)")
        narrate("refresh", config, explain)
        before = ctx.store.load()
        after = ctx.manager().refresh()
        print(f"  {mask(before.access_token)} -> {mask(after.access_token)}; the old refresh token "
              "is now spent, and the new pair was saved before use.")
        print("\n== logout: revoke at the server, then delete the file")
        narrate("logout", config, explain)
        tool.do_logout(ctx)
        print("\n== doctor: each failure point of the chapter, checked in order (logged out just above)")
        tool.do_doctor({}, load=lambda: config, store_for=lambda issuer: ctx.store)
    print("\nThe demo's stand-in and temporary folder are gone. Next: register an OAuth app and run login.")
    return EXIT_OK


# What `demo --explain` says before each part after login (login narrates itself, step by step).
DEMO_NARRATION = {
    "status": ("Step 3: GET {api}/user",
               "  with the header Authorization: Bearer <the token>: to this API host only, never in a URL.",
               "  GitHub answers who the token belongs to; its X-OAuth-Scopes header says what it may do."),
    "repos": ("Step 3: GET {api}/user/repos?per_page=100",
              "  Each answer's Link header names the next page; the tool follows it as given, over one",
              "  connection, and never builds page URLs itself. Each page's ETag is kept: asked again with",
              "  If-None-Match, GitHub answers 304 Not Modified, which costs no rate limit."),
    "refresh": ("token_manager.py, under a lock shared by every process: POST {token_url}",
                "  with grant_type=refresh_token, the refresh token and the app's credentials.",
                "  The answer is a new access token and a new refresh token: the old refresh token is spent",
                "  (rotation: a stolen refresh token works once at most), so the new pair is saved before",
                "  anything uses it."),
    "logout": ("token_manager.py's revoke: DELETE {api}/applications/{client_id}/token",
               "  authenticated with the app's client ID and secret, asks GitHub to forget the token",
               "  (GitHub's own way; the standard's is a revocation endpoint). Then the token file is deleted,",
               "  whatever the answer."),
}


def narrate(part: str, config, explain: bool) -> None:
    if explain:
        for line in DEMO_NARRATION[part]:
            print(line.format(api=config.api_url, token_url=config.token_url, client_id=config.client_id))


def _auto_browser(stand_in: ModuleType):
    def open_browser(url: str) -> bool:
        print("  (the demo plays the browser: it follows GitHub's redirect back to the loopback server)")
        stand_in.play_browser(url)
        return True

    return open_browser
