"""Nothing is sent where it should not go, whatever a hostile file, server or local user tries.

Three attackers, on loopback only: a `.env` in a repository you `cd` into, a hostile or spoofed
server (a stand-in told to misbehave), and another user of this machine (played by pretending a
file is theirs: the tests run as root, who owns everything). Each section names the attack; each
test fails if its defence is removed (tools/check_defences.py).
"""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest
import requests
import responses

import support.page_cache
from support.errors import AuthError
from support.page_cache import PageCache
from support.metadata import issuer_required
from support.settings import load_config, server_url_for, trusted_verification_uri
from support.token import Token
from support.token_store import TokenStore
from tests.helpers import (APP_SETTINGS, MARKED_TOOL, fetch, host, one_clean_line, paused_on_a_fake_clock, read_saved,
                           sign_in, write_saved)
from tests.helpers.marked_stand_in import SECRET_MARKER, LocalGitHub, Settings
import chapter

device_flow = chapter.device_flow
CONTROL_CHARACTERS = ("\x1b", "\x07", "\r", "\x9b")


def browsers_finished() -> None:
    for thread in threading.enumerate():
        if thread.name == "browser":
            thread.join(10)


def write_env_file(folder: Path, **settings: str) -> Path:
    path = folder / ".env"
    path.write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
    return path


# -- 1. a .env that points the API at another host -------------------------------------------------

def test_a_dotenv_cannot_send_gh_token_to_another_host(cli, tmp_path):
    with LocalGitHub(Settings()) as elsewhere:
        env_file = write_env_file(tmp_path, GITHUB_API_URL=f"http://127.0.0.1:{elsewhere.port}")
        result = cli.run("repos", extra_env={"GH_TOKEN": "gho_from_the_shell_1234"})
    assert one_clean_line(result)
    assert f"GITHUB_API_URL (from {env_file})" in result.stderr
    assert "github.com's API is https://api.github.com" in result.stderr
    assert elsewhere.counters.authorization_headers == []
    assert elsewhere.counters.connections == 0


def test_a_dotenv_cannot_move_the_api_of_a_login_to_another_host(cli, github, tmp_path):
    with LocalGitHub(Settings(approval="auto")) as elsewhere:
        write_env_file(tmp_path, GITHUB_SERVER_URL=github.url, GITHUB_API_URL=elsewhere.api_url)
        result = cli.run("login", extra_env={"GITHUB_CLIENT_ID": github.settings.client_id,
                                             "GITHUB_CLIENT_SECRET": github.settings.client_secret})
    assert one_clean_line(result)
    assert "a token is only ever sent to its own server's API" in result.stderr
    assert github.counters.token_requests == 0
    assert elsewhere.counters.connections == 0


def test_an_api_on_another_host_from_the_environment_says_so():
    with pytest.raises(AuthError, match=r"GITHUB_API_URL \(from the environment\) is https://api\.evil\.example"):
        load_config(env={**APP_SETTINGS, "GITHUB_API_URL": "https://api.evil.example"})


def test_an_api_elsewhere_on_the_servers_own_host_is_allowed(step1, github):
    config = step1.load_config(env={**github.environment(), "GITHUB_API_URL": f"{github.url}/api/v3/"})
    assert config.api_url == github.api_url


# -- 2. the device flow's verification_uri (RFC 8628 §5.4, remote phishing) --------------------------

@pytest.mark.parametrize("page", ["file:///etc/passwd", "https://evil.example/login/device",
                                  "https://127.0.0.1.evil.example/login/device", "javascript:alert(1)",
                                  "http://127.0.0.1:1@evil.example/login/device"])
def test_a_verification_page_off_the_server_is_neither_shown_nor_opened(cli, monkeypatch, page):
    opened = []
    with LocalGitHub(Settings(approval="auto", device_interval=0, verification_uri=page)) as github:
        cli.point_at(github)
        monkeypatch.setattr(chapter.step2, "open_in_browser", lambda url: opened.append(url) or True)
        result = cli.run("login", "--device")
    browsers_finished()
    assert result.returncode == 0, result.stderr
    assert page not in result.stdout
    assert opened == []
    assert [line for line in result.stdout.splitlines() if line.startswith("Warning:")] == [
        f"Warning: the server named a page for the code that is not an https page on {host(github)}, so it is not "
        "shown or opened; use the address below."]
    assert f"Then open {github.url}/login/device on any device" in result.stdout


@pytest.mark.parametrize("page, trusted", [
    ("https://github.com/login/device", True), ("https://GitHub.com:443/login/device", True),
    ("http://github.com/login/device", False), ("https://api.github.com/login/device", False),
    ("https://github.com:8443/login/device", False), ("https://github.com/login/device\u202e", False),
])
def test_only_an_https_page_on_the_servers_own_host_is_trusted(page, trusted):
    shown, warning = trusted_verification_uri(page, "https://github.com")
    assert (shown == page and warning is None) if trusted else (shown == "https://github.com/login/device" and warning)


def test_the_servers_own_verification_page_is_shown_and_opened(cli, monkeypatch):
    opened = []
    with LocalGitHub(Settings(approval="auto", device_interval=0)) as github:
        cli.point_at(github)
        monkeypatch.setattr(chapter.step2, "open_in_browser", lambda url: opened.append(url) or True)
        result = cli.run("login", "--device")
    browsers_finished()
    assert "Warning" not in result.stdout
    assert opened == [f"{github.url}/login/device"]


# -- 3. one spelling per server ------------------------------------------------------------------------

@pytest.mark.parametrize("hostname", ["GitHub.com", "github.com:443", "https://GitHub.com:443/", "GITHUB.COM"])
def test_github_com_in_any_spelling_is_github_com(hostname):
    config = load_config(env=APP_SETTINGS, server_url=server_url_for(hostname))
    assert config.server_url == "https://github.com"
    assert config.api_url == "https://api.github.com"
    assert config.issuer == "https://github.com/login/oauth"
    assert config.secret_belongs_to is None


@pytest.mark.parametrize("hostname", ["GitHub.com", "github.com:443"])
def test_an_enterprise_token_is_never_sent_to_github_com_spelled_otherwise(cli, hostname):
    with responses.RequestsMock() as mock:  # any request at all is recorded, and fails
        result = cli.run("status", "--hostname", hostname,
                         extra_env={**APP_SETTINGS, "GH_ENTERPRISE_TOKEN": "gho_for_the_enterprise_5678"})
        assert len(mock.calls) == 0
    assert one_clean_line(result)
    assert "you are not logged in" in result.stderr


def test_a_server_url_spelled_otherwise_still_accepts_its_genuine_iss(cli, github, token_path):
    spelled = f"HTTP://127.0.0.1:{github.port}/"
    assert cli.point_at(github).run("login", extra_env={"GITHUB_SERVER_URL": spelled}).returncode == 0
    assert list(json.loads(token_path.read_text())["tokens"]) == [github.url]
    assert cli.run("status").returncode == 0  # the same login, found under the normal spelling


def test_a_login_saved_under_another_spelling_is_still_found(cli, github, token_path):
    answer = github.grant_tokens(("read:user",))
    spelled = f"HTTP://127.0.0.1:{github.port}/"
    old = Token.from_token_response(answer, issuer=spelled, resource=spelled + "api/v3/")._replace(account="octocat")
    token_path.parent.mkdir(parents=True)
    token_path.write_text(json.dumps({"version": 2, "tokens": {spelled: old.to_json()}}))
    status = cli.point_at(github).run("status")
    assert status.returncode == 0, status.stderr
    assert "Logged in as octocat" in status.stdout


# -- 4. host names that are no host ----------------------------------------------------------------------

def logged_in_with_pages(cli, github, token_path) -> list[Path]:
    assert cli.point_at(github).run("login").returncode == 0
    assert cli.run("repos").returncode == 0
    kept = [token_path, token_path.with_name("token.json.lock"), token_path.parent / "cache"]
    assert all(path.exists() for path in kept)
    return kept


@pytest.mark.parametrize("hostname", ["..", ".", "", "a/b", "https://..", "../..", "x:99999"])
def test_logout_of_a_hostname_that_is_no_host_is_refused_and_deletes_nothing(cli, github, token_path, hostname):
    kept = logged_in_with_pages(cli, github, token_path)
    result = cli.run("logout", "--hostname", hostname)
    assert one_clean_line(result)
    assert "is not a host name with an optional port" in result.stderr
    assert all(path.exists() for path in kept)
    assert github.counters.revocations == 0


def test_a_server_url_naming_no_host_in_dotenv_is_refused_and_deletes_nothing(cli, github, token_path, tmp_path):
    kept = logged_in_with_pages(cli, github, token_path)
    write_env_file(tmp_path, GITHUB_SERVER_URL="https://..")
    del cli.runner.env["GITHUB_SERVER_URL"]  # the environment would win over .env
    result = cli.run("logout")
    assert one_clean_line(result)
    assert "GITHUB_SERVER_URL names no valid host" in result.stderr
    assert all(path.exists() for path in kept)


def test_logout_with_nothing_to_log_out_leaves_the_cached_pages(cli, github, token_path):
    logged_in_with_pages(cli, github, token_path)
    TokenStore(token_path, issuer=github.url).delete()
    result = cli.run("logout")
    assert "nothing to do" in result.stdout
    assert (token_path.parent / "cache" / f"127.0.0.1_{github.port}").is_dir()


@pytest.mark.parametrize("name", ["..", ".", "", "../..", "a/../../b", ".hidden", "..\\..", "/etc"])
def test_no_cache_folder_named_after_a_host_or_account_leaves_the_cache(tmp_path, name):
    folder = PageCache.for_login(tmp_path, name, name).folder
    assert folder.resolve().parent.parent == (tmp_path / "cache").resolve()
    assert support.page_cache.host_folder(tmp_path, name).parent == tmp_path / "cache"


# -- 5. tokens that hold what no token holds ---------------------------------------------------------------

BROKEN_TOKEN = f"gho_{SECRET_MARKER}first_aaaa\ngho_{SECRET_MARKER}second_bbbb"


def test_a_token_variable_with_a_line_break_is_refused_without_showing_it(cli, github):
    result = cli.point_at(github).run("repos", extra_env={"GH_ENTERPRISE_TOKEN": BROKEN_TOKEN})
    assert one_clean_line(result)
    assert "GH_ENTERPRISE_TOKEN holds characters no token has" in result.stderr
    assert SECRET_MARKER not in result.stderr
    assert github.counters.api_requests == 0


def test_debug_shows_no_token_that_could_not_be_sent(runner, github):
    result = runner.point_at(github).run(MARKED_TOOL, "--debug", "repos",
                                         extra_env={"GH_ENTERPRISE_TOKEN": BROKEN_TOKEN})
    assert result.returncode == 1
    assert SECRET_MARKER not in result.stdout + result.stderr
    assert "Traceback" in result.stderr  # --debug shows where; the token is not in it


def test_a_token_file_with_a_line_break_is_damaged_and_not_shown(cli, github, token_path):
    assert cli.point_at(github).run("login").returncode == 0
    data = json.loads(token_path.read_text())
    data["tokens"][github.url]["access_token"] = BROKEN_TOKEN
    token_path.write_text(json.dumps(data))
    result = cli.run("status")
    assert one_clean_line(result)
    assert "is damaged (access_token holds characters no token has)" in result.stderr
    assert SECRET_MARKER not in result.stderr


@pytest.mark.parametrize("field", ["access_token", "refresh_token"])
def test_a_token_answer_with_a_line_break_is_refused_and_not_shown(step1, step2, field):
    config = step1.load_config(env=APP_SETTINGS)
    request = step1.prepare_authorization_request(config, "http://127.0.0.1:5000/callback")
    answer = {"access_token": "gho_fine_cccc", "token_type": "bearer", field: BROKEN_TOKEN}
    with responses.RequestsMock() as mock:
        mock.post(config.token_url, json=answer)
        with pytest.raises(AuthError) as caught:
            step2.exchange_code_for_token(config, "the-code", request)
    assert f"its {field} holds characters no token has" in str(caught.value)
    assert SECRET_MARKER not in str(caught.value)


def test_a_token_that_cannot_go_in_a_header_is_never_sent(step3, github, config_for):
    with pytest.raises(AuthError, match="holds characters no token has, so it is not sent") as caught:
        step3.GitHubClient(config_for(github), Token(access_token=BROKEN_TOKEN))
    assert SECRET_MARKER not in str(caught.value)
    assert github.counters.connections == 0


# -- 6. the device flow's pace, whatever the server says (RFC 8628 §3.5) ------------------------------------

@pytest.fixture
def paced(step1, monkeypatch):
    """Runs the device flow against answers given in order, on a clock that only the pauses move.
    Returns the pauses, or the AuthError the flow ended with as the last item."""
    config = step1.load_config(env={"GITHUB_CLIENT_ID": "Ov23liExample"}, require_secret=False)

    def run(device_answer: dict, *answers: object) -> list:
        pauses = paused_on_a_fake_clock(monkeypatch, device_flow)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.post(f"{config.server_url}/login/device/code", json={
                "device_code": "d" * 40, "user_code": "WDJB-MJHT",
                "verification_uri": "https://github.com/login/device", **device_answer})
            for answer in answers:
                if isinstance(answer, Exception):
                    mock.post(config.token_url, body=answer)
                else:
                    mock.post(config.token_url, json=answer)
            try:
                device_flow.sign_in_with_device(config, say=lambda line: None)
            except AuthError as error:
                pauses.append(error)
        return pauses

    return run


TOKEN = {"access_token": "gho_fake_aaaa", "token_type": "bearer"}
PENDING = {"error": "authorization_pending"}


def test_slow_down_with_an_interval_of_zero_still_waits_five_seconds_longer(paced):
    assert paced({"interval": 5, "expires_in": 900}, {"error": "slow_down", "interval": 0}, TOKEN) == [5, 10]


@pytest.mark.parametrize("interval, first_pause", [(0, 1), (-3, 5), ("nan", 5), (1e6, 60), ("2", 2)])
def test_the_servers_interval_is_kept_between_one_second_and_a_minute(paced, interval, first_pause):
    assert paced({"interval": interval, "expires_in": 900}, TOKEN) == [first_pause]


def test_no_wait_runs_past_the_expiry(paced):
    outcome = paced({"interval": 1e6, "expires_in": 2}, PENDING)
    assert outcome[:-1] == [2]
    assert "the code expired before it was entered" in str(outcome[-1])


def test_a_code_is_waited_for_thirty_minutes_at_most(paced):
    outcome = paced({"interval": 60, "expires_in": 1e9}, *[PENDING] * 40)
    assert sum(outcome[:-1]) == 1800
    assert isinstance(outcome[-1], AuthError)


def test_a_network_error_while_polling_backs_off_and_retries(paced):
    outcome = paced({"interval": 5, "expires_in": 900}, PENDING, requests.ConnectionError("down"), PENDING, TOKEN)
    assert outcome == [5, 5, 10, 10]


def test_a_network_down_until_the_code_expires_says_so(paced):
    outcome = paced({"interval": 5, "expires_in": 60}, *[requests.ConnectionError("down")] * 20)
    assert sum(outcome[:-1]) == 60
    assert outcome[:4] == [5, 10, 20, 25]
    assert "cannot reach github.com until the code expired — check your network" in str(outcome[-1])


# -- 7. files and folders another local user could reach ----------------------------------------------------

def pretend_another_user_owns(monkeypatch, path: Path, uid: int = 4242) -> None:
    """os.stat and os.fstat report `uid` as the owner of `path` (root owns every file here)."""
    real_stat, real_fstat = os.stat, os.fstat
    target = real_stat(path)

    def owned(info):
        if (info.st_dev, info.st_ino) != (target.st_dev, target.st_ino):
            return info
        values = list(info)
        values[4] = uid  # st_uid
        return os.stat_result(values)

    monkeypatch.setattr(os, "stat", lambda p, *args, **kwargs: owned(real_stat(p, *args, **kwargs)))
    monkeypatch.setattr(os, "fstat", lambda fd: owned(real_fstat(fd)))


def test_a_token_file_another_user_owns_is_refused(cli, github, token_path, monkeypatch):
    assert cli.point_at(github).run("login").returncode == 0
    pretend_another_user_owns(monkeypatch, token_path)
    result = cli.run("status")
    assert one_clean_line(result)
    assert "belongs to another user (uid 4242)" in result.stderr
    assert f'sudo chown "$USER" {token_path}' in result.stderr
    assert github.counters.api_requests == 1  # the login's


def test_a_config_folder_another_user_owns_is_refused(cli, github, token_path, monkeypatch):
    assert cli.point_at(github).run("login").returncode == 0
    pretend_another_user_owns(monkeypatch, token_path.parent)
    result = cli.run("status")
    assert one_clean_line(result)
    assert "a folder another user owns (uid 4242)" in result.stderr
    assert f'sudo chown -R "$USER" {token_path.parent}' in result.stderr


def test_a_login_into_a_folder_another_user_owns_is_refused_before_the_browser(cli, github, token_path, monkeypatch):
    token_path.parent.mkdir(parents=True, mode=0o700)
    pretend_another_user_owns(monkeypatch, token_path.parent)
    result = cli.point_at(github).run("login")
    assert one_clean_line(result)
    assert "a folder another user owns" in result.stderr
    assert github.counters.token_requests == 0


def test_a_config_folder_others_may_use_is_made_private(cli, github, token_path):
    assert cli.point_at(github).run("login").returncode == 0
    token_path.parent.chmod(0o777)
    assert cli.run("status").returncode == 0
    assert stat.S_IMODE(token_path.parent.stat().st_mode) == 0o700


def test_a_token_file_others_may_read_is_made_private(cli, github, token_path):
    assert cli.point_at(github).run("login").returncode == 0
    token_path.chmod(0o644)
    assert cli.run("status").returncode == 0
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600


def test_a_lock_planted_as_a_symlink_is_never_followed(cli, github, token_path, tmp_path):
    target = tmp_path / "created-by-the-lock"
    token_path.parent.mkdir(parents=True, mode=0o700)
    token_path.with_name("token.json.lock").symlink_to(target)
    result = cli.point_at(github).run("login")
    assert one_clean_line(result)
    assert "token.json.lock is a symbolic link, which is never followed" in result.stderr
    assert not target.exists()
    assert github.counters.token_requests == 0  # refused before the browser


def test_every_level_of_the_cache_is_private(cli, github, token_path):
    old_mask = os.umask(0o022)  # the usual umask, which gives new folders 0755
    try:
        assert cli.point_at(github).run("login").returncode == 0
        assert cli.run("repos").returncode == 0
    finally:
        os.umask(old_mask)
    cache = token_path.parent / "cache"
    levels = [cache, cache / f"127.0.0.1_{github.port}", cache / f"127.0.0.1_{github.port}" / "octocat"]
    assert [stat.S_IMODE(level.stat().st_mode) for level in levels] == [0o700] * 3


# -- 8. what a hostile server says, on the terminal ------------------------------------------------------------

HOSTILE_LOGIN = "octo\x1b[5;31mcat\x1b]0;pwned\x07\r\n$ "
HOSTILE_REPO = {"description": "\x1b[2J\x1b]0;title\x07", "stargazers_count": "\x1b[2J9001",
                "updated_at": "\x1b]0;t\x07\x9b2J", "html_url": "https://github.com/\x1b[31m"}


@pytest.fixture
def hostile_github():
    with LocalGitHub(Settings(approval="auto", login=HOSTILE_LOGIN, repo_fields=HOSTILE_REPO)) as server:
        yield server


@pytest.mark.parametrize("command", [("login", "--force"), ("status",), ("repos",), ("login",), ("logout",)])
def test_no_control_character_from_a_server_reaches_the_terminal(cli, hostile_github, command):
    assert cli.point_at(hostile_github).run("login").returncode == 0
    result = cli.run(*command)
    assert result.returncode == 0, result.stderr
    printed = result.stdout + result.stderr
    assert not [char for char in CONTROL_CHARACTERS if char in printed]
    assert "octo [5;31mcat ]0;pwned" in printed or command == ("logout",)


def test_step_3_shows_no_control_character_from_a_server(cli, hostile_github):
    assert cli.point_at(hostile_github).run("login").returncode == 0
    result = cli.script("3_github_request.py")
    assert result.returncode == 0
    assert not [char for char in CONTROL_CHARACTERS if char in result.stdout]


@pytest.mark.parametrize("command, field, said", [
    ("repos", lambda repos: repos[0]["description"], HOSTILE_REPO["description"]),
    ("status", lambda status: status["user"], HOSTILE_LOGIN),
])
def test_json_output_escapes_what_a_server_says_and_stays_json(cli, hostile_github, command, field, said):
    assert cli.point_at(hostile_github).run("login").returncode == 0
    result = cli.run(command, "--json")
    assert not [char for char in CONTROL_CHARACTERS if char in result.stdout]
    assert field(json.loads(result.stdout)) == said  # kept as the server said it, escaped by json


def test_a_star_count_that_is_not_a_number_is_not_printed(cli, hostile_github):
    assert cli.point_at(hostile_github).run("login").returncode == 0
    table = cli.run("repos").stdout.splitlines()
    assert "9001" not in "\n".join(table)
    assert "  ?  " in table[1]
    assert json.loads(cli.run("repos", "--json").stdout)[0]["stargazers_count"] is None


# -- 9. a callback without iss from github.com (RFC 9207 §2.4) ------------------------------------------------

def test_a_callback_without_iss_from_github_com_is_refused(step1, step2):
    from urllib.parse import parse_qs, urlencode, urlsplit

    config = step1.load_config(env=APP_SETTINGS)  # github.com, which names itself in every callback

    def browse(url):
        query = parse_qs(urlsplit(url).query)
        fetch(f"{query['redirect_uri'][0]}?{urlencode({'code': 'c', 'state': query['state'][0]})}")
        return True

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(config.token_url, json={"access_token": "gho_from_the_wrong_server", "token_type": "bearer"})
        with pytest.raises(AuthError, match="names no issuer, though GitHub names itself") as caught:
            sign_in(step2, config, browse)
        assert len(mock.calls) == 0
        assert caught.value.step == "step 2 (callback)"


def test_only_servers_known_to_send_iss_must_send_it(step1, github):
    assert issuer_required(step1.load_config(env=APP_SETTINGS))
    assert not issuer_required(step1.load_config(env=github.environment()))


# -- 10. a client secret goes only to the host it was set for ---------------------------------------------------

@pytest.fixture
def two_servers():
    # Two apps, each with its own secret, as on two real hosts.
    with LocalGitHub(Settings(approval="auto")) as first, \
            LocalGitHub(Settings(approval="auto", login="hubot", client_secret="hubot-app-CANARY-secret")) as second:
        yield first, second


def test_login_on_another_host_does_not_post_this_hosts_client_secret(cli, two_servers):
    first, second = two_servers
    result = cli.point_at(first).run("login", "--hostname", host(second))
    assert one_clean_line(result)
    assert f"belongs to your OAuth app on {host(first)}, so it is not sent" in result.stderr
    assert f"set GITHUB_SERVER_URL={second.url} with the GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET" in result.stderr
    assert second.counters.token_requests == 0
    assert second.counters.connections == 0


def test_logout_on_another_host_revokes_with_that_hosts_own_secret(cli, two_servers, token_path):
    first, second = two_servers
    assert cli.point_at(second).run("login").returncode == 0  # second's app, kept with second's login
    result = cli.point_at(first).run("logout", "--hostname", host(second))  # the settings now name first's app
    assert result.returncode == 0, result.stderr
    assert second.counters.revocations == 1  # second checks its own secret: first's would have been refused
    assert not token_path.exists()


def test_logout_of_an_old_login_on_another_host_does_not_send_this_hosts_client_secret(cli, two_servers,
                                                                                       token_path):
    first, second = two_servers
    assert cli.point_at(second).run("login").returncode == 0
    entry = read_saved(token_path)
    write_saved(token_path, {name: value for name, value in entry.items()
                             if name not in ("client_id", "client_secret")})  # as saved before logins kept their app
    result = cli.point_at(first).run("logout", "--hostname", host(second))
    assert one_clean_line(result), result.stderr
    assert "revoking needs the client secret, and GITHUB_CLIENT_SECRET belongs to your " \
        f"OAuth app on {host(first)}" in result.stderr
    assert second.counters.revocations == 0


# -- 11. a login as someone else forgets the previous account's pages ---------------------------------------------

def test_login_force_as_another_account_forgets_the_old_accounts_pages(cli, github, token_path):
    logged_in_with_pages(cli, github, token_path)
    host_cache = token_path.parent / "cache" / f"127.0.0.1_{github.port}"
    assert [path.name for path in host_cache.iterdir()] == ["octocat"]
    github.settings.login = "hubot"
    assert cli.run("login", "--force").returncode == 0
    assert list(host_cache.iterdir()) == []
