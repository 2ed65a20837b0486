"""Secrets never leak: a canary run of every command, with and without --debug and --explain.

The tests' stand-in (tests/helpers/marked_stand_in.py; the demo's too) puts SECRET_MARKER into
every token, refresh token, code, device code and client secret it issues, and records every
secret it sees (the PKCE verifiers included). None may appear in any output, log record or file
other than the 0600 token file.
"""

import logging
import time
from pathlib import Path

from support.token_store import TokenStore
from tests.helpers import MARKED_TOOL, TOOL, read_saved, sign_in, write_saved
from tests.helpers.marked_stand_in import SECRET_MARKER, LocalGitHub, Settings, play_browser
import token_manager

TOKEN_FILES = {"token.json", "token.json.lock"}


def assert_no_secret(text: str, secrets: set[str], where: str) -> None:
    assert SECRET_MARKER not in text, f"a secret marker in {where}"
    for secret in secrets:
        assert secret not in text, f"a secret in {where}"


def test_no_command_prints_a_secret_on_any_path(runner, cli, tmp_path, token_path):
    outputs = []
    with LocalGitHub(Settings(approval="auto", expiring=True)) as github:
        runner.point_at(github)

        def run(*args, **kwargs):
            # --debug sets up logging for the whole process, so those runs get a process of their own;
            # there the demo's stand-in carries the marker only when started through MARKED_TOOL.
            script = MARKED_TOOL if "demo" in args else TOOL
            result = runner.run(script, *args, **kwargs) if "--debug" in args else cli.run(*args, **kwargs)
            outputs.append((args, result.stdout + result.stderr))
            return result

        assert run("login", "--explain").returncode == 0
        assert run("--debug", "login", "--force", "--explain").returncode == 0
        for command in (("status",), ("status", "--json"), ("repos",), ("repos", "--json")):
            assert run(*command).returncode == 0
        # --debug logs the same requests whatever the output: one of each command is enough there.
        assert run("--debug", "status", "--json").returncode == 0
        assert run("--debug", "repos").returncode == 0
        # An expired token: the refresh path, with --debug.
        saved = read_saved(token_path)
        write_saved(token_path, {**saved, "expires_at": time.time() - 1})
        assert run("--debug", "repos", "--json").returncode == 0
        # Failure paths: a proxy error at the exchange, a revoked token, a dead refresh token.
        github.fail_next("/login/oauth/access_token", 502, "<html>Bad Gateway</html>")
        assert run("--debug", "login", "--force").returncode == 1
        current = read_saved(token_path)
        github.tokens.pop(current["access_token"])
        assert run("repos").returncode == 1
        github.refresh_tokens.clear()
        write_saved(token_path, {**current, "expires_at": time.time() - 1})
        assert run("--debug", "status").returncode == 1
        assert run("login", "--no-browser", "--timeout", "0.3").returncode == 1  # the URL, then a timeout
        assert run("login").returncode == 0
        assert run("--debug", "logout").returncode == 0
        assert run("logout").returncode == 0
        assert run("status").returncode == 1
        secrets = set(github.counters.secrets_seen)
    assert run("demo").returncode == 0
    assert run("--debug", "demo", "--explain").returncode == 0

    assert len(secrets) > 10  # tokens, refresh tokens, codes, verifiers and the client secret were seen
    for args, text in outputs:
        assert_no_secret(text, secrets, f"the output of {' '.join(args)}")
    for path in Path(tmp_path).rglob("*"):
        if path.is_file() and path.name not in TOKEN_FILES:
            assert_no_secret(path.read_text(errors="replace"), secrets, str(path))


def test_no_log_record_carries_a_secret(step2, step3, expiring_github, config_for, caplog, token_path):
    caplog.set_level(logging.DEBUG)
    config = config_for(expiring_github)
    token = sign_in(step2, config, lambda url: play_browser(url) and True, explain=True)
    store = TokenStore(token_path)
    store.save(token._replace(expires_at=time.time() - 1))
    manager = token_manager.github_token_manager(config, store)
    client = step3.GitHubClient(config, manager.valid_token())
    list(client.list_repositories())
    manager.logout()
    assert "callback server: GET /callback -> 200" in caplog.text  # the path is logged, the query is not
    assert "POST /login/oauth/access_token" in caplog.text
    assert_no_secret(caplog.text, expiring_github.counters.secrets_seen, "the log records")


def test_the_token_never_reaches_another_api_host(runner, github):
    runner.point_at(github).run(TOOL, "login")
    elsewhere_on_the_host = f"{github.url}/api/v4"
    with LocalGitHub(Settings(approval="auto")) as other:
        # An API on another host: refused with the settings. Another API on the server's host: the
        # token is bound to the one it was issued for. Another server: its own login, and there is none.
        for moved, said in (({"GITHUB_API_URL": other.api_url}, "a token is only ever sent to its own server's API"),
                            ({"GITHUB_API_URL": elsewhere_on_the_host}, "never sent to another host"),
                            ({"GITHUB_SERVER_URL": other.url}, "you are not logged in")):
            result = runner.run(TOOL, "repos", extra_env=moved)
            assert result.returncode == 1
            assert said in result.stderr
        refused = runner.run(TOOL, "logout", extra_env={"GITHUB_API_URL": other.api_url})
        logout = runner.run(TOOL, "logout", extra_env={"GITHUB_API_URL": elsewhere_on_the_host})
        assert other.counters.authorization_headers == []
        assert other.counters.api_requests == 0
        assert other.counters.revocations == 0
        assert other.counters.token_requests == 0
    assert "a token is only ever sent to its own server's API" in refused.stderr
    assert "was not sent there" in logout.stderr
    assert github.counters.revocations == 0
