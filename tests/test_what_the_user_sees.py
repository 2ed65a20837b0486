"""Messages that say what is really happening: counts, limits, help, JSON, and the step scripts."""

import json
import re
import subprocess
import sys

import pytest

from support.narration import describe_authorization_request
from support.token_store import default_token_path
from tests.helpers.marked_stand_in import LocalGitHub, Settings
from tests.conftest import ROOT
from tests.helpers import TOOL, fetch, one_clean_line


@pytest.fixture
def many_repos():
    with LocalGitHub(Settings(approval="auto", repo_count=40)) as server:
        yield server


def log_in_with_repo_scope(cli, server):
    assert cli.point_at(server).run("login", "--scope", "read:user repo").returncode == 0


# -- repos and its limit -----------------------------------------------------------------------

def test_repos_says_when_the_limit_cut_the_list(cli, many_repos):
    log_in_with_repo_scope(cli, many_repos)
    result = cli.run("repos")
    assert len(result.stdout.splitlines()) == 31  # the header and 30 rows
    assert "Showing 30 of 40 repositories; use --limit N, or --limit all." in result.stderr  # as gh repo list


def test_limit_all_lists_everything_and_says_nothing(cli, many_repos):
    log_in_with_repo_scope(cli, many_repos)
    result = cli.run("repos", "--limit", "all", "--json")
    assert len(json.loads(result.stdout)) == 40
    assert "Showing" not in result.stderr


def test_a_limit_that_happens_to_fit_exactly_says_nothing(cli):
    with LocalGitHub(Settings(approval="auto", repo_count=30)) as server:
        log_in_with_repo_scope(cli, server)
        result = cli.run("repos")
    assert result.returncode == 0
    assert "Showing" not in result.stderr


def test_repos_says_at_least_how_many_when_the_last_page_was_not_read(cli):
    with LocalGitHub(Settings(approval="auto", repo_count=250)) as server:
        log_in_with_repo_scope(cli, server)
        result = cli.run("repos")
    # The Link header's last page is page 3 of 100: more than 200, and no more is known without reading it.
    assert "Showing 30 of at least 201 repositories; use --limit N, or --limit all." in result.stderr


def test_the_public_only_note_is_said_once_per_login_or_with_verbose(cli, github):
    note = "Note: public repositories only; the token has no repo scope"
    cli.point_at(github).run("login")
    assert note in cli.run("repos").stderr
    assert note not in cli.run("repos").stderr
    assert note in cli.run("repos", "--verbose").stderr
    assert note not in cli.run("repos", "--json").stderr  # for people, not for scripts
    cli.run("logout")
    cli.run("login")
    assert note in cli.run("repos").stderr  # a new login is told again


@pytest.mark.parametrize("limit, complaint", [("1.5", "'1.5' is not a whole number or all"),
                                              ("0", "must be more than 0"), ("lots", "'lots' is not a whole number")])
def test_a_limit_that_is_not_a_count_is_a_usage_error(cli, limit, complaint):
    result = cli.run("repos", "--limit", limit)
    assert result.returncode == 2
    assert complaint in result.stderr


# -- status --json -----------------------------------------------------------------------------

def test_json_into_a_pipe_is_one_compact_line(cli, github):
    cli.point_at(github).run("login")
    for command in (("repos", "--json"), ("status", "--json")):
        output = cli.run(*command).stdout  # captured: not a terminal, as in a pipe
        assert len(output.splitlines()) == 1
        assert json.loads(output)


def test_status_json_when_logged_out_is_json_and_exit_1(cli, github):
    result = cli.point_at(github).run("status", "--json")
    answer = json.loads(result.stdout)
    assert result.returncode == 1
    assert answer["logged_in"] is False
    assert "not logged in" in answer["error"]


@pytest.mark.parametrize("settings", ["none", "an unfilled .env"])
def test_status_json_prints_json_with_the_reason_when_the_settings_are_wrong(cli, settings):
    if settings == "an unfilled .env":
        (cli.runner.cwd / ".env").write_text((ROOT / ".env.example").read_text())
    result = cli.run("status", "--json")
    answer = json.loads(result.stdout)
    assert result.returncode == 1
    assert answer["logged_in"] is False
    assert answer["error"].startswith("configuration: GITHUB_CLIENT_ID ")


def test_status_json_names_the_settings_as_the_text_does(cli, github):
    cli.point_at(github).run("login")
    text = cli.run("status").stdout
    answer = json.loads(cli.run("status", "--json").stdout)
    assert f"  - Settings: {answer['settings']}\n" in text


def test_status_json_gives_expiry_as_an_iso_8601_time(cli, expiring_github):
    cli.point_at(expiring_github).run("login")
    answer = json.loads(cli.run("status", "--json").stdout)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", answer["expires_at"])


def test_status_when_logged_out_blames_the_token_store_not_an_api_request(cli, github):
    result = cli.point_at(github).run("status")
    assert one_clean_line(result)
    assert result.stderr.startswith("status failed at token store: you are not logged in")


# -- help --------------------------------------------------------------------------------------

@pytest.mark.parametrize("command, description", [
    ("login", "Sign in through your browser"), ("status", "Ask GitHub who the token belongs to"),
    ("repos", "List the repositories"), ("logout", "Revoke the token"), ("demo", "against a local stand-in")])
def test_every_subcommand_help_has_a_description(cli, command, description):
    result = cli.run(command, "--help")
    assert result.returncode == 0
    assert description in result.stdout


def test_visibility_and_sort_say_what_they_do(cli):
    help_text = " ".join(cli.run("repos", "--help").stdout.split())
    assert "which repositories (default all" in help_text
    assert "the order (default full_name)" in help_text


# -- the step scripts are the chapter too --------------------------------------------------------

def test_step_1_has_help_and_refuses_unknown_options(cli):
    assert cli.script("1_authorization_url.py", "--help").returncode == 0
    assert cli.script("1_authorization_url.py", "--bogus").returncode == 2


def test_step_1_never_shows_any_part_of_the_verifier(step1):
    config = step1.load_config(env={"GITHUB_CLIENT_ID": "Ov23liExample"}, require_secret=False)
    request = step1.prepare_authorization_request(config)
    text = "\n".join(describe_authorization_request(request, config.client_id))
    assert request.code_verifier[-4:] not in text
    assert "never shown" in text


def test_step_2_refuses_a_timeout_that_is_not_positive(cli):
    result = cli.script("2_callback_exchange.py", "--timeout", "-1")
    assert result.returncode == 2
    assert "must be more than 0" in result.stderr


def test_a_step_script_names_itself_once_in_its_error(cli):
    result = cli.script("2_callback_exchange.py")
    assert one_clean_line(result)
    assert result.stderr.startswith("2_callback_exchange.py failed at configuration: GITHUB_CLIENT_ID is not set")


@pytest.mark.parametrize("limit", ["0", "-3", "1.5"])
def test_step_3_refuses_a_limit_that_is_not_a_count(cli, limit):
    assert cli.script("3_github_request.py", "--limit", limit).returncode == 2


def test_step_3_counts_what_it_lists(cli, github):
    cli.point_at(github).run("login")
    five = cli.script("3_github_request.py")
    assert "Your repositories (5):" in five.stdout  # read:user sees the 5 public ones of 7
    one = cli.script("3_github_request.py", "--limit", "1")
    assert "Your first 1 repository (--limit shows more):" in one.stdout


def test_step_3_piped_into_head_ends_without_a_traceback(runner, cli, many_repos, tmp_path):
    cli.point_at(many_repos).run("login")
    errors = tmp_path / "errors.txt"
    shell = f"{sys.executable} {ROOT / '3_github_request.py'} --limit 1000 2>{errors} | head -3"
    subprocess.run(["bash", "-c", shell], cwd=runner.cwd, env=runner.env, timeout=60, capture_output=True)
    assert "Traceback" not in errors.read_text()
    assert "BrokenPipe" not in errors.read_text()


# -- token_manager.py --refresh tells what really happened --------------------------------------

def test_refresh_of_a_token_that_cannot_be_refreshed_says_so(cli, github, token_path):
    cli.point_at(github).run("login")  # a token that does not expire, without a refresh token
    result = cli.script("token_manager.py", "--refresh")
    assert result.returncode == 0
    assert "Not refreshed: this token has no refresh token" in result.stdout


def test_refresh_refused_while_the_token_still_works_says_so(cli, expiring_github, token_path):
    cli.point_at(expiring_github).run("login")
    expiring_github.refresh_tokens.clear()  # the refresh token is dead at the server
    result = cli.script("token_manager.py", "--refresh")
    assert result.returncode == 0
    assert "Not refreshed: the provider refused the refresh token" in result.stdout
    assert "Refreshed:" not in result.stdout


# -- configuration and packages ----------------------------------------------------------------

def test_a_relative_xdg_config_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/config")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_token_path() == tmp_path / "home" / ".config" / "dev-github-tool" / "token.json"


@pytest.mark.parametrize("script", [TOOL, "2_callback_exchange.py", "3_github_request.py"])
def test_a_missing_package_says_to_install_the_requirements(runner, tmp_path, script):
    fake = tmp_path / "site" / "requests"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ModuleNotFoundError("No module named requests", name="requests")\n')
    args = ("status",) if script == TOOL else ()
    result = runner.run(script, *args, extra_env={"PYTHONPATH": str(tmp_path / "site"),
                                                   "GITHUB_CLIENT_ID": "Ov23liExample"})
    assert one_clean_line(result)
    assert "run: pip install -r requirements.txt" in result.stderr


def test_a_missing_dotenv_with_a_dotenv_file_says_to_install_the_requirements(runner, tmp_path):
    fake = tmp_path / "site" / "dotenv"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ModuleNotFoundError("No module named dotenv", name="dotenv")\n')
    (runner.cwd / ".env").write_text("GITHUB_CLIENT_ID=Ov23liExample\n")
    result = runner.run("1_authorization_url.py", extra_env={"PYTHONPATH": str(tmp_path / "site")})
    assert one_clean_line(result)
    assert "python-dotenv is not installed" in result.stderr


# -- the stand-in ------------------------------------------------------------------------------

def test_the_stand_in_has_the_page_the_tool_sends_you_to(github):
    status, body, _ = fetch(f"{github.url}/settings/applications")
    assert status == 200
    assert "Authorized OAuth Apps" in body


def test_the_stand_in_says_it_cannot_listen_on_stderr(runner):
    with LocalGitHub() as busy:
        result = runner.run("local_github.py", "--port", str(busy.port))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "cannot listen" in result.stderr


def test_the_stand_in_can_have_many_repositories_to_show_paging():
    with LocalGitHub(Settings(approval="auto", repo_count=250)) as server:
        token = server.grant_tokens(("repo",))["access_token"]
        status, _, headers = fetch(f"{server.api_url}/user/repos?per_page=100",
                                   headers={"Authorization": f"Bearer {token}", "User-Agent": "test"})
    assert status == 200
    assert 'rel="last"' in headers["Link"]
    assert "page=3" in headers["Link"]


def test_the_stand_in_script_takes_repos(runner):
    assert "--repos N" in runner.run("local_github.py", "--help").stdout


def test_a_step_script_gives_advice_in_the_chapters_words_so_far(cli, github):
    not_yet = cli.point_at(github).script("3_github_request.py")
    assert not_yet.stderr.startswith("3_github_request.py failed at token store: you are not logged in — "
                                     "run: python 2_callback_exchange.py")
    cli.run("login")
    github.tokens.clear()  # revoked at GitHub's end
    revoked = cli.script("3_github_request.py")
    assert "sign in again with python 2_callback_exchange.py" in revoked.stderr
    assert "login" not in revoked.stderr


def test_the_complete_tool_keeps_its_own_words(cli, github):
    cli.point_at(github).run("login")
    github.tokens.clear()
    assert "run login again" in cli.run("repos").stderr


# -- a closed pipe (`| head`) ends every script quietly ----------------------------------------

def run_into_a_closed_pipe(runner, script: str, *args: str) -> subprocess.CompletedProcess:
    """Run `script` with its output going to a pipe nobody reads any more: every write fails."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, str(ROOT / script), *args], cwd=runner.cwd, env=runner.env,
                              stdout=write_end, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                              timeout=60)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("script, args", [
    ("1_authorization_url.py", ()),
    ("2_callback_exchange.py", ("--no-browser",)),
    ("device_flow.py", ()),
    ("3_github_request.py", ()),
    ("token_manager.py", ()),
    (TOOL, ("status",)),  # repos ends through the same run_command, as every step script through run_step_script
    (TOOL, ("--help",)),
    ("1_authorization_url.py", ("--help",)),
])
def test_every_script_stops_quietly_when_its_reader_has_gone(cli, runner, github, script, args):
    assert cli.point_at(github).run("login").returncode == 0  # in this process: only the script needs its own
    result = run_into_a_closed_pipe(runner, script, *args)
    assert "Traceback" not in result.stderr
    assert "Broken" not in result.stderr, result.stderr


def test_login_with_the_server_stopped_says_so_at_once_instead_of_waiting_for_the_browser(cli):
    with LocalGitHub(Settings(approval="auto")) as stopped:
        cli.point_at(stopped)
    result = cli.run("login", "--timeout", "300")  # nothing listens there any more
    assert one_clean_line(result), result.stderr
    assert f"cannot reach 127.0.0.1:{stopped.port} — start the server there" in result.stderr
    assert "Open this URL" not in result.stdout  # no browser sent to a server that is not there


def test_the_demo_lists_its_one_host_once(cli):
    status_part = cli.run("demo").stdout.split("== status")[1].split("== repos")[0]
    assert status_part.count("Logged in as") == 1
