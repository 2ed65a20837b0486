"""Faults: a flaky network, a damaged token file, bad settings. Each ends in one line, exit 1, no traceback,
and no lost or half-written token file."""

import errno
import subprocess
import sys

import pytest

from support.errors import AuthError
from support.token import Token
from support.token_store import TokenStore
from tests.conftest import ROOT
from tests.helpers import APP_SETTINGS, TOOL, make_read_only, one_clean_line, read_saved, refuse_writes, write_saved
from tests.helpers.misbehaving_server import MisbehavingServer

EXPECTED = {
    "blackhole": "did not answer in time",
    "reset": "broke off halfway",
    "truncated": "without a usable token answer",
    "html": "without a usable token answer",
    "500": "answered HTTP 500",
    "502": "without a usable token answer",
}
EXPECTED_FROM_API = {**EXPECTED, "truncated": "not usable JSON", "html": "not usable JSON",
                     "500": "HTTP 500 for /user, even after retrying", "502": "HTTP 502 for /user, even after retrying"}


@pytest.fixture
def short_timeouts(step3, monkeypatch):
    # The black hole never answers: waiting out a short read timeout is the behaviour under test.
    import support.api_http
    import support.token_endpoint

    monkeypatch.setattr(support.token_endpoint, "HTTP_TIMEOUT_SECONDS", (2, 0.3))
    monkeypatch.setattr(support.api_http, "HTTP_TIMEOUT_SECONDS", (2, 0.3))


def assert_one_clean_line(error: AuthError, *secrets: str) -> None:
    text = str(error)
    assert "\n" not in text
    assert "Traceback" not in text
    assert " — " in text
    for secret in (APP_SETTINGS["GITHUB_CLIENT_SECRET"], *secrets):
        assert secret not in text


@pytest.mark.parametrize("behaviour", sorted(EXPECTED))
def test_a_broken_token_endpoint_ends_in_one_line(step1, step2, behaviour, short_timeouts):
    server = MisbehavingServer(behaviour)
    try:
        config = step1.load_config(env={**APP_SETTINGS, "GITHUB_SERVER_URL": server.url})
        request = step1.prepare_authorization_request(config)
        with pytest.raises(AuthError) as caught:
            step2.exchange_code_for_token(config, "the-code", request)
    finally:
        server.stop()
    assert caught.value.step == "step 2 (token exchange)"
    assert EXPECTED[behaviour] in str(caught.value)
    assert_one_clean_line(caught.value, "the-code", request.code_verifier)
    assert server.requests == 1  # never retried: the code works once


@pytest.mark.parametrize("behaviour", sorted(EXPECTED_FROM_API))
def test_a_broken_api_ends_in_one_line(step1, step3, behaviour, short_timeouts):
    server = MisbehavingServer(behaviour)
    try:
        config = step1.load_config(env={**APP_SETTINGS, "GITHUB_SERVER_URL": server.url, "GITHUB_API_URL": server.url})
        client = step3.GitHubClient(config, Token(access_token="gho_fake_only_1234"), sleep=lambda seconds: None)
        with pytest.raises(AuthError) as caught:
            client.get_user()
    finally:
        server.stop()
    assert EXPECTED_FROM_API[behaviour] in str(caught.value)
    assert_one_clean_line(caught.value, "gho_fake_only_1234")


def test_a_refused_connection_at_the_token_endpoint(step1, step2, github):
    config = step1.load_config(env=github.environment())
    github.stop()
    with pytest.raises(AuthError, match="cannot reach 127.0.0.1"):
        step2.exchange_code_for_token(config, "the-code", step1.prepare_authorization_request(config))


# -- the tool as a subprocess -------------------------------------------------------------

def test_a_proxy_error_during_login_keeps_the_old_token(cli, github, token_path):
    cli.point_at(github).run("login")
    before = token_path.read_bytes()
    github.fail_next("/login/oauth/access_token", 502, "<html>Bad Gateway</html>")
    result = cli.run("login", "--force")
    assert one_clean_line(result)
    assert "step 2 (token exchange)" in result.stderr
    assert token_path.read_bytes() == before


def test_a_revoked_token_says_log_in_again(cli, github):
    cli.point_at(github).run("login")
    github.tokens.clear()  # revoked at GitHub's end
    result = cli.run("repos")
    assert one_clean_line(result)
    assert "Bad credentials" in result.stderr
    assert "run login again" in result.stderr


@pytest.mark.parametrize("damage, message", [
    ("{not json", "is damaged"),
    ("", "is damaged"),
    ('{"version": 1, "access_token": ["x"]}', "access_token is missing or not text"),
])
def test_a_damaged_token_file(cli, github, token_path, damage, message):
    token_path.parent.mkdir(parents=True)
    token_path.write_text(damage)
    result = cli.point_at(github).run("status")
    assert one_clean_line(result)
    assert message in result.stderr
    assert "run login again" in result.stderr
    login = cli.run("login")  # login replaces it
    assert login.returncode == 0
    assert "Ignoring the saved token" in login.stdout
    assert cli.run("status").returncode == 0


def test_a_directory_where_the_token_file_belongs(cli, github, token_path):
    token_path.mkdir(parents=True)
    result = cli.point_at(github).run("status")
    assert one_clean_line(result)
    assert "is not a regular file" in result.stderr
    login = cli.run("login")
    assert one_clean_line(login)
    assert "could not be written" in login.stderr


def test_a_symlink_where_the_token_file_belongs(cli, github, token_path, tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    token_path.parent.mkdir(parents=True)
    token_path.symlink_to(target)
    result = cli.point_at(github).run("repos")
    assert one_clean_line(result)
    assert "symbolic link" in result.stderr


def test_a_read_only_folder_keeps_the_previous_file(token_path, monkeypatch):
    store = TokenStore(token_path)
    store.save(Token(access_token="gho_first_aaaa1111"))
    before = token_path.read_bytes()

    refuse_writes(monkeypatch, errno.EACCES)
    with pytest.raises(AuthError, match="could not be written .Permission denied"):
        store.save(Token(access_token="gho_second_bbbb2222"))
    assert token_path.read_bytes() == before


# -- a read-only config folder: one line of advice, whether or not the lock file exists yet ---------

@pytest.mark.parametrize("lock_file", ["missing", "there"])
def test_logout_in_a_read_only_folder_gives_the_same_advice_with_or_without_the_lock_file(cli, github, token_path,
                                                                                          monkeypatch, lock_file):
    cli.point_at(github).run("login")
    lock = token_path.with_name("token.json.lock")
    if lock_file == "missing":
        lock.unlink()
    make_read_only(monkeypatch, token_path.parent)
    result = cli.run("logout")
    assert one_clean_line(result)
    assert "unexpected" not in result.stderr
    assert f"make {token_path.parent} writable for you (or check that its disk is not read-only)" in result.stderr


def test_logout_that_revoked_the_token_but_cannot_remove_it_says_the_token_is_dead(cli, github, token_path,
                                                                                   monkeypatch):
    cli.point_at(github).run("login")
    make_read_only(monkeypatch, token_path.parent)  # the lock file is there from the login
    result = cli.run("logout")
    assert one_clean_line(result)
    assert github.counters.revocations == 1
    assert github.tokens == {}
    assert "it still holds the token, which was revoked and no longer works" in result.stderr
    assert "unchanged" not in result.stderr


@pytest.mark.parametrize("lock_file", ["missing", "there"])
def test_a_refresh_in_a_read_only_folder_gives_the_same_advice_with_or_without_the_lock_file(
        cli, expiring_github, token_path, monkeypatch, lock_file):
    import time

    cli.point_at(expiring_github).run("login")
    write_saved(token_path, {**read_saved(token_path), "expires_at": time.time() - 1})
    if lock_file == "missing":
        token_path.with_name("token.json.lock").unlink()
    before = token_path.read_bytes()
    make_read_only(monkeypatch, token_path.parent)
    result = cli.run("repos")
    assert one_clean_line(result)
    assert "unexpected" not in result.stderr
    assert f"make {token_path.parent} writable for you" in result.stderr
    assert expiring_github.counters.refreshes == 0
    assert token_path.read_bytes() == before


def test_a_token_about_to_expire_is_used_while_it_lasts_when_no_lock_can_be_made(cli, expiring_github, token_path,
                                                                                 monkeypatch):
    import time

    cli.point_at(expiring_github).run("login")
    write_saved(token_path, {**read_saved(token_path), "expires_at": time.time() + 30})  # inside the refresh margin
    token_path.with_name("token.json.lock").unlink()
    make_read_only(monkeypatch, token_path.parent)
    assert cli.run("repos").returncode == 0
    assert expiring_github.counters.refreshes == 0


def test_a_step_script_that_cannot_save_in_a_read_only_folder_revokes_the_new_token(cli, github, token_path,
                                                                                    monkeypatch):
    token_path.parent.mkdir(parents=True)
    make_read_only(monkeypatch, token_path.parent)  # no lock file yet, and none can be made
    result = cli.point_at(github).script("2_callback_exchange.py")
    assert one_clean_line(result)
    assert "unexpected" not in result.stderr
    assert "the new token was revoked" in result.stderr
    assert github.tokens == {}


def test_two_logins_at_once_leave_one_whole_token(runner, github, token_path):
    runner.point_at(github)
    command = [sys.executable, str(ROOT / TOOL), "login", "--force"]
    processes = [subprocess.Popen(command, cwd=runner.cwd, env=runner.env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for process in processes:
        process.communicate(timeout=60)
    assert [process.returncode for process in processes] == [0, 0]
    saved = read_saved(token_path)
    assert saved["access_token"] in github.tokens
    assert saved["account"] == "octocat"


def test_logout_while_another_process_refreshes_revokes_the_newest_token(runner, expiring_github, token_path):
    runner.point_at(expiring_github).run(TOOL, "login")
    store = TokenStore(token_path)
    with store.lock():  # this process is "refreshing": logout must wait and then see the new token
        logout = subprocess.Popen([sys.executable, str(ROOT / TOOL), "logout"], cwd=runner.cwd, env=runner.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        old = store.load()
        answer = expiring_github.grant_tokens(old.scopes)
        newer = Token.from_token_response(answer, issuer=old.issuer, resource=old.resource)
        store.save(newer)
    out, err = logout.communicate(timeout=60)
    assert logout.returncode == 0, err
    assert newer.access_token not in expiring_github.tokens  # the token that was current got revoked
    assert not token_path.exists()


@pytest.mark.parametrize("overrides, message", [
    ({"GITHUB_CLIENT_ID": ""}, "GITHUB_CLIENT_ID is not set"),
    ({"GITHUB_CLIENT_SECRET": ""}, "GITHUB_CLIENT_SECRET is not set"),
    ({"GITHUB_SERVER_URL": "not a url"}, "GITHUB_SERVER_URL is not a URL"),
    ({"GITHUB_SERVER_URL": "http://github.example.com"}, "clear text"),
    ({"GITHUB_API_URL": "http://api.example.com"}, "clear text"),
    ({"GITHUB_REDIRECT_URI": "http://example.com/callback"}, "must point at this machine"),
    ({"GITHUB_REDIRECT_URI": "http://127.0.0.1:99999/callback"}, "port outside 1-65535"),
    ({"GITHUB_REDIRECT_URI": "http://localhost/callback"}, "uses localhost"),
    ({"GITHUB_SCOPES": "read:user\\repo"}, "GITHUB_SCOPES has a scope"),
])
def test_bad_settings_stop_the_login_in_one_line(cli, github, overrides, message):
    result = cli.point_at(github).run("login", extra_env=overrides)
    assert one_clean_line(result)
    assert result.stderr.startswith("login failed at configuration: ")
    assert message in result.stderr


def test_a_port_already_in_use(cli, github):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli.point_at(github).run("login", extra_env={
            "GITHUB_REDIRECT_URI": f"http://127.0.0.1:{port}/callback"})
    assert one_clean_line(result)
    assert "another program uses that port" in result.stderr


def test_an_unexpected_error_is_one_line_without_debug_and_a_traceback_with_it(tool, monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(tool, "run", broken)
    assert tool.main(["status"]) == 1
    assert capsys.readouterr().err == ("status failed: an unexpected RuntimeError — run again with --debug to see "
                                       "where, and report it\n")
    with pytest.raises(RuntimeError):
        tool.main(["status", "--debug"])
