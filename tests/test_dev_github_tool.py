"""The complete tool against the local GitHub: in-process through main(argv) (`cli`), and as a
subprocess (`runner`) where only a real process shows it: BROWSER, signals, --debug, imports."""

import json
import os
import signal
import subprocess
import sys

import pytest

import support.output
from tests.helpers.marked_stand_in import SECRET_MARKER, LocalGitHub, Settings
from tests.conftest import ROOT
from tests.helpers import (TOOL, callback_port, host, one_clean_line, port_is_free, read_saved, read_until,
                           refuse_writes, write_saved)


def test_login_status_repos_logout_end_to_end(runner, cli, github, token_path):
    """Login and logout as separate processes, as a reader runs them (the browser played through
    BROWSER); status and repos in between in this process, on the same settings and token file."""
    runner.point_at(github)
    login = runner.run(TOOL, "login", "--timeout", "30")
    assert login.returncode == 0, login.stderr
    assert f"Logged in to 127.0.0.1:{github.port} as octocat." in login.stdout
    saved = read_saved(token_path)
    assert saved["account"] == "octocat"
    assert "signed in to the tool as octocat" in (runner.cwd / "browser-page.html").read_text()

    status = cli.run("status")
    assert status.returncode == 0, status.stderr
    assert "Logged in as octocat" in status.stdout
    assert f"gho_…{saved['access_token'][-4:]}" in status.stdout
    assert "Settings: the environment (no .env in this folder)" in status.stdout

    status_json = json.loads(cli.run("status", "--json").stdout)
    assert status_json["user"] == "octocat"
    assert status_json["scopes"] == ["read:user"]
    assert status_json["source"] == str(token_path)

    repos = json.loads(cli.run("repos", "--json").stdout)
    assert [r["full_name"] for r in repos][:2] == ["octocat/project-001", "octocat/project-002"]
    assert set(repos[0]) == {"full_name", "private", "html_url", "description", "stargazers_count", "updated_at"}

    table = cli.run("repos", "--limit", "2")
    assert table.stdout.splitlines()[0].split() == ["NAME", "VISIBILITY", "STARS", "UPDATED"]
    assert "public repositories only" in table.stderr  # read:user cannot see private ones
    assert "public repositories only" not in cli.run("repos").stderr  # said once per login

    logout = runner.run(TOOL, "logout")
    assert logout.returncode == 0, logout.stderr
    assert "Revoked the token" in logout.stdout
    assert github.counters.revocations == 1
    assert not token_path.exists()

    after = runner.run(TOOL, "status")
    assert one_clean_line(after)
    assert "not logged in" in after.stderr


def test_the_browser_page_tells_when_the_identity_check_fails(cli, github, token_path):
    github.fail_next("/api/v3/user", 401, '{"message": "Bad credentials"}', "application/json")
    result = cli.point_at(github).run("login")
    assert result.returncode == 1
    assert "Bad credentials" in result.stderr
    page = (cli.runner.cwd / "browser-page.html").read_text()
    assert page.startswith("400")
    assert "Sign-in failed" in page
    assert "Bad credentials" in page
    assert not token_path.exists()


def test_login_when_logged_in_says_as_whom_and_does_nothing(cli, github):
    cli.point_at(github).run("login")
    again = cli.run("login")
    assert again.returncode == 0
    assert "Already logged in" in again.stdout
    assert "as octocat" in again.stdout
    assert "--force" in again.stdout
    assert github.counters.token_requests == 1
    forced = cli.run("login", "--force")
    assert forced.returncode == 0
    assert github.counters.token_requests == 2


def test_login_with_a_wider_scope(cli, github):
    result = cli.point_at(github).run("login", "--scope", "read:user,repo")
    assert result.returncode == 0, result.stderr
    repos = json.loads(cli.run("repos", "--json", "--visibility", "private").stdout)
    assert repos
    assert all(r["private"] for r in repos)


def test_demo_needs_no_env_file_and_no_account(cli, token_path):
    result = cli.run("demo")
    assert result.returncode == 0, result.stderr
    for expected in ("== login", "Logged in to", "as octocat", "octocat/project-001", "== refresh", "Revoked"):
        assert expected in result.stdout
    assert not token_path.exists()  # the real token file is never touched


@pytest.mark.parametrize("argv", [("demo", "--hostname", "ghe.example.com"), ("--hostname", "ghe.example.com", "demo")])
def test_demo_refuses_a_hostname_it_would_ignore(cli, token_path, argv):
    result = cli.run(*argv)
    assert result.returncode == 2
    assert "demo runs against its own local stand-in; --hostname does not apply" in result.stderr
    assert "== login" not in result.stdout


def test_interactive_demo_shows_the_consent_page_to_the_browser(cli):
    result = cli.run("demo", "--interactive")  # BROWSER plays the user and clicks Authorize
    assert result.returncode == 0, result.stderr
    assert "Logged in to" in result.stdout
    assert "Revoked" in result.stdout


def test_demo_explain_narrates_with_secrets_masked(cli):
    result = cli.run("demo", "--explain")
    assert result.returncode == 0, result.stderr
    for expected in ("code_challenge=", "state=", "PKCE", "Scopes asked: read:user repo; granted: read:user repo",
                     "Authorization: Bearer <the token>", "Link header names the next page",
                     "grant_type=refresh_token", "/applications/Ov23liLocalStandIn/token"):
        assert expected in result.stdout
    assert SECRET_MARKER not in result.stdout + result.stderr  # every secret of the demo's stand-in carries it


def test_explain_on_login_never_shows_a_secret(cli, github):
    result = cli.point_at(github).run("login", "--explain")
    assert result.returncode == 0, result.stderr
    assert "code_verifier" in result.stdout
    assert "constant time" in result.stdout
    assert "Settings: read from the environment (no .env in this folder)." in result.stdout
    for secret in github.counters.secrets_seen:
        assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["repos", "--limit", "zero"], ["login", "--help"]])
def test_help_version_and_usage_errors_do_not_import_requests(argv):
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['dev_github_tool.py', *{argv!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(ROOT / TOOL)!r}, run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('requests' in sys.modules, 'dotenv' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert result.stderr.strip().splitlines()[-1] == "False False"


# Nothing `status` and `repos` use may pull these in: they are login's, and a user feels each start.
LOGIN_ONLY_MODULES = ("1_authorization_url", "2_callback_exchange", "http.server", "socketserver", "webbrowser",
                      "html", "secrets", "local_github", "stand_in")


@pytest.mark.parametrize("command", ["status", "repos"])
def test_status_and_repos_import_no_callback_server_browser_or_url_machinery(runner, cli, expiring_github,
                                                                             command):
    assert cli.point_at(expiring_github).run("login").returncode == 0  # in this process; the probe gets its own
    probe = (
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        f"sys.argv = ['dev_github_tool.py', {command!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(ROOT / TOOL)!r}, run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        f"print(sorted(set({LOGIN_ONLY_MODULES!r}) & set(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=runner.cwd,
                            env=runner.env, timeout=60)
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr


def test_usage_errors_exit_2(cli):
    assert cli.run("repos", "--limit", "0").returncode == 2
    assert cli.run("fly").returncode == 2
    assert cli.run().returncode == 2


def test_version(cli):
    result = cli.run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("dev_github_tool.py ")


def test_missing_configuration_is_one_line_naming_the_step(cli):
    result = cli.run("login")
    assert one_clean_line(result)
    assert result.stderr.startswith("login failed at configuration: GITHUB_CLIENT_ID is not set — ")
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(runner):
    result = runner.run(TOOL, "status", "--debug")
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_debug_logs_request_lines_but_no_secret(runner, cli, github):
    cli.point_at(github).run("login")  # in this process; --debug below needs a process of its own
    result = runner.run(TOOL, "--debug", "repos")
    assert result.returncode == 0, result.stderr
    assert '"GET /api/v3/user/repos?per_page=100 HTTP/1.1" 200' in result.stderr
    for secret in github.counters.secrets_seen:
        assert secret not in result.stdout + result.stderr


def test_a_browser_that_cannot_start_leaves_the_url_and_keeps_waiting(runner, github):
    result = runner.point_at(github).run(TOOL, "login", "--timeout", "0.2",
                                         extra_env={"BROWSER": "/nonexistent/browser %s"})
    assert "Could not open a browser" in result.stdout
    assert "/login/oauth/authorize?" in result.stdout
    assert result.returncode == 1
    assert "no callback arrived within 0.2 s" in result.stderr


def test_ctrl_c_exits_130_and_frees_the_port_while_the_browser_hangs(runner, github):
    process = runner.point_at(github).start(TOOL, "login", extra_env={"BROWSER_BEHAVIOUR": "hang"})
    output = read_until(process.stdout, "Waiting up to")  # the server listens and the browser was started
    url = next(line for line in output.splitlines() if "/login/oauth/authorize?" in line)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    stderr = process.stderr.read()
    assert "login cancelled" in stderr
    assert "Traceback" not in stderr
    assert port_is_free("127.0.0.1", callback_port(url))


# -- a browser command that blocks (w3m, lynx, a wrapper script) must not block the login ----------

def browser_pid(runner) -> int:
    return int((runner.cwd / "browser.pid").read_text())


def test_a_browser_that_stays_open_does_not_hold_up_the_login(runner, github, token_path):
    process = runner.point_at(github).start(TOOL, "login", extra_env={
        "BROWSER_BEHAVIOUR": "linger", "BROWSER_PID_FILE": str(runner.cwd / "browser.pid")})
    assert process.wait(timeout=30) == 0, process.stderr.read()
    assert "Logged in to" in process.stdout.read()
    assert token_path.exists()
    os.kill(browser_pid(runner), 0)  # the browser is still open: the login did not wait for it


def test_a_browser_that_never_returns_cannot_stall_the_timeout(runner, github):
    process = runner.point_at(github).start(TOOL, "login", "--timeout", "0.3", extra_env={"BROWSER_BEHAVIOUR": "hang"})
    assert process.wait(timeout=30) == 1
    stderr = process.stderr.read()
    assert "no callback arrived within 0.3 s" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_the_interactive_demo_has_a_timeout_too(runner):
    process = runner.start(TOOL, "demo", "--interactive", "--timeout", "0.3", extra_env={"BROWSER_BEHAVIOUR": "hang"})
    assert process.wait(timeout=30) == 1
    assert "no callback arrived within 0.3 s" in process.stderr.read()


def test_logout_offline_deletes_locally_and_says_where_to_revoke(cli, token_path):
    with LocalGitHub(Settings(approval="auto")) as github:
        cli.point_at(github).run("login")
    result = cli.run("logout")  # the server is gone now
    assert one_clean_line(result)
    assert "logout failed at revocation: cannot reach" in result.stderr
    assert "so the token was not revoked" in result.stderr
    assert result.stderr.count("/settings/applications") == 1  # where to revoke it, said once
    assert f"until you revoke it at {github.url}/settings/applications" in result.stderr  # its own issuer
    assert not token_path.exists()


def test_repos_refreshes_an_expiring_token(cli, expiring_github, token_path):
    import time

    cli.point_at(expiring_github).run("login")
    saved = read_saved(token_path)
    saved["expires_at"] = time.time() - 1
    write_saved(token_path, saved)
    result = cli.run("repos", "--json")
    assert result.returncode == 0, result.stderr
    assert expiring_github.counters.refreshes == 1
    assert read_saved(token_path)["access_token"] != saved["access_token"]


def test_the_table_fits_the_terminal(tool):
    repos = [{"full_name": "octocat/" + "very-long-name-" * 8, "private": True, "stargazers_count": 12345,
              "updated_at": "2026-11-01T10:00:00Z"}]
    lines = support.output.format_repo_table(repos, width=60)
    assert all(len(line) <= 60 for line in lines)
    assert lines[1].startswith("octocat/very-long")
    assert "…" in lines[1]


# -- nothing lost: a working login survives a folder that cannot be written --------------------

def test_a_refresh_token_is_not_spent_when_the_new_pair_cannot_be_saved(cli, expiring_github, token_path,
                                                                        monkeypatch):
    import errno
    import time

    cli.point_at(expiring_github).run("login")
    saved = read_saved(token_path)
    write_saved(token_path, {**saved, "expires_at": time.time() - 1})
    before = token_path.read_bytes()
    with monkeypatch.context() as disk:
        refuse_writes(disk, errno.ENOSPC)
        result = cli.run("repos")
    assert one_clean_line(result)
    assert "free some disk space" in result.stderr
    assert expiring_github.counters.refreshes == 0
    assert token_path.read_bytes() == before  # nothing spent
    assert cli.run("repos").returncode == 0
    assert expiring_github.counters.refreshes == 1  # fixed: it works


@pytest.mark.parametrize("error_number, advice", [(28, "free some disk space"), (13, "writable for you"),
                                                  (30, "not read-only")])
def test_login_checks_the_folder_before_the_browser_and_advises_for_the_cause(cli, github, monkeypatch,
                                                                              error_number, advice):
    refuse_writes(monkeypatch, error_number)
    result = cli.point_at(github).run("login")
    assert one_clean_line(result)
    assert advice in result.stderr
    assert "Open this URL" not in result.stdout
    assert github.counters.token_requests == 0
    if error_number != 28:
        assert "free some disk space" not in result.stderr


def test_a_login_that_cannot_be_saved_is_revoked_and_says_so(cli, github, monkeypatch, token_path):
    import errno

    refuse_writes(monkeypatch, errno.ENOSPC, after=1)  # the check before the browser passes, the save fails
    result = cli.point_at(github).run("login")
    assert one_clean_line(result)
    assert "the new token was revoked" in result.stderr
    assert github.counters.revocations == 1
    assert github.tokens == {}
    assert not token_path.exists()


def test_login_force_revokes_the_token_it_replaced(cli, github, token_path):
    cli.point_at(github).run("login")
    first = read_saved(token_path)["access_token"]
    forced = cli.run("login", "--force")
    assert forced.returncode == 0
    assert "Revoked the token this sign-in replaced." in forced.stdout
    assert first not in github.tokens
    assert github.counters.revocations == 1


def test_a_replaced_token_that_cannot_be_revoked_is_a_note_not_an_error(cli, github):
    cli.point_at(github).run("login")
    github.fail_next("/api/v3/applications/", 502, "<html>Bad Gateway</html>")
    forced = cli.run("login", "--force")
    assert forced.returncode == 0
    assert f"Note: the token this sign-in replaced was not revoked (127.0.0.1:{github.port} answered HTTP 502)" \
           in forced.stdout


def test_logout_without_the_client_secret_says_why_and_where_once(cli, github, token_path):
    cli.point_at(github).run("login")
    # A login that kept no secret (one saved before logins kept their app's), and none in the settings.
    write_saved(token_path, {**read_saved(token_path), "client_secret": None})
    result = cli.run("logout", extra_env={"GITHUB_CLIENT_SECRET": ""})
    assert one_clean_line(result)
    assert "revoking needs the client secret, and GITHUB_CLIENT_SECRET is not set, so the token was not revoked" \
        in result.stderr
    assert result.stderr.count(f"{github.url}/settings/applications") == 1


# -- say what is really happening --------------------------------------------------------------

def test_asking_for_a_scope_the_saved_token_lacks_signs_in_again(cli, github):
    cli.point_at(github).run("login")
    wider = cli.run("login", "--scope", "read:user repo")
    assert wider.returncode == 0
    assert "The saved token lacks repo; signing in again" in wider.stdout
    assert github.counters.token_requests == 2
    private = json.loads(cli.run("repos", "--json", "--visibility", "private").stdout)
    assert private
    assert all(repo["private"] for repo in private)


def test_a_token_variable_alone_is_enough_for_status_and_repos(cli, github):
    token = github.grant_tokens(("read:user",))["access_token"]
    cli.point_at(github)  # not github.com: GH_ENTERPRISE_TOKEN is the variable for it, as in gh
    no_app = {"GITHUB_CLIENT_ID": "", "GITHUB_CLIENT_SECRET": "", "GH_ENTERPRISE_TOKEN": token}
    status = cli.run("status", extra_env=no_app)
    assert status.returncode == 0, status.stderr
    assert "token from the GH_ENTERPRISE_TOKEN environment variable" in status.stdout
    assert cli.run("repos", extra_env=no_app).returncode == 0


def test_a_stale_gh_token_says_it_overrides_the_login(cli, github):
    cli.point_at(github).run("login")
    result = cli.run("repos", extra_env={"GH_ENTERPRISE_TOKEN": "gho_stale_token_0000"})
    assert one_clean_line(result)
    assert "it comes from GH_ENTERPRISE_TOKEN, which overrides the saved login: unset GH_ENTERPRISE_TOKEN" \
        in result.stderr
    assert "run login again" not in result.stderr


def test_login_says_when_gh_token_will_override_it(cli, github):
    result = cli.point_at(github).run("login", extra_env={"GITHUB_ENTERPRISE_TOKEN": "gho_some_token_0000"})
    assert result.returncode == 0
    assert "Note: GITHUB_ENTERPRISE_TOKEN is set, and status and repos use it instead of this login" in result.stdout


def test_github_com_variables_are_not_used_for_another_host_nor_the_other_way(cli, github, step3):
    cli.point_at(github).run("login")
    assert "token from the GH_TOKEN" not in cli.run("status", extra_env={"GH_TOKEN": "gho_for_github_com_1111"}).stdout
    assert step3.token_variable_in_use({"GH_ENTERPRISE_TOKEN": "x"}, "https://github.com") is None
    assert step3.token_variable_in_use({"GH_TOKEN": "x"}, "https://github.com") == "GH_TOKEN"


def test_already_logged_in_without_a_recorded_account_does_not_say_unknown(runner, cli, github):
    assert runner.point_at(github).run("2_callback_exchange.py").returncode == 0  # step 2 records no account
    again = cli.run("login")  # the check of the saved token learns whose it is
    assert again.returncode == 0
    assert f"Already logged in to 127.0.0.1:{github.port} as octocat." in again.stdout
    assert "unknown" not in again.stdout


# -- short-lived tokens (offline_access) ---------------------------------------------------------

@pytest.mark.parametrize("strict", [False, True])
def test_short_lived_asks_for_offline_access_and_gets_an_expiring_token(cli, token_path, strict):
    with LocalGitHub(Settings(approval="auto", strict=strict)) as github:  # not an expiring app
        result = cli.point_at(github).run("login", "--short-lived")
        status = cli.run("status")
    saved = read_saved(token_path)
    assert result.returncode == 0
    assert saved["expires_at"]
    assert saved["refresh_token"]
    assert "missing scopes" not in result.stdout  # offline_access is no scope the token lists
    assert "expires in 7h 59m (refreshable)" in status.stdout


def test_short_lived_says_when_the_server_ignores_offline_access(cli, token_path):
    with LocalGitHub(Settings(approval="auto", offline_access=False)) as github:
        result = cli.point_at(github).run("login", "--short-lived")
    assert result.returncode == 0
    assert "ignored offline_access" in result.stdout


def test_short_lived_replaces_a_token_that_does_not_expire(cli, github, token_path):
    cli.point_at(github).run("login")
    result = cli.run("login", "--short-lived")
    assert "does not expire; signing in again for a short-lived one" in result.stdout
    assert read_saved(token_path)["expires_at"]
    assert github.counters.revocations == 1


# -- login checks the saved token before it says you are logged in --------------------------------

def test_login_signs_in_again_when_the_saved_token_was_revoked_and_says_so(cli, github):
    cli.point_at(github).run("login")
    github.tokens.clear()  # revoked at GitHub's end: status says "run login again"
    again = cli.run("login")
    assert again.returncode == 0
    assert github.counters.token_requests == 2
    assert f"The saved token no longer works ({host(github)} says Bad credentials: the token was revoked or has " \
           "expired); signing in again." in again.stdout
    assert "Already logged in" not in again.stdout
    assert "Revoked the token" not in again.stdout
    assert cli.run("status").returncode == 0


def test_login_signs_in_again_when_the_saved_refresh_token_is_dead(cli, expiring_github, token_path):
    import time

    cli.point_at(expiring_github).run("login")
    write_saved(token_path, {**read_saved(token_path), "expires_at": time.time() - 1})
    expiring_github.refresh_tokens.clear()
    again = cli.run("login")
    assert again.returncode == 0
    assert "The saved token no longer works" in again.stdout
    assert expiring_github.counters.token_requests == 3  # the first login, the refused refresh, the new login
    assert cli.run("status").returncode == 0


def test_login_checks_a_saved_token_with_one_request(cli, github):
    cli.point_at(github).run("login")
    before = github.counters.api_requests
    assert "Already logged in" in cli.run("login").stdout
    assert github.counters.api_requests == before + 1  # GET /user, nothing more


# -- settings and token variables ----------------------------------------------------------------

def with_an_unfilled_env_file(cli) -> None:
    """What a new reader has: .env copied from .env.example, and no app settings in the environment."""
    (cli.runner.cwd / ".env").write_text((ROOT / ".env.example").read_text())
    for name in ("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"):
        cli.runner.env.pop(name, None)


def test_a_token_variable_needs_no_app_settings_even_with_an_unfilled_env_file(cli, github):
    token = github.grant_tokens(("read:user",))["access_token"]
    with_an_unfilled_env_file(cli.point_at(github))
    for command in ("status", "repos"):
        result = cli.run(command, extra_env={"GH_ENTERPRISE_TOKEN": token})
        assert result.returncode == 0, result.stderr
    assert "token from the GH_ENTERPRISE_TOKEN environment variable" in cli.run(
        "status", extra_env={"GH_ENTERPRISE_TOKEN": token}).stdout


@pytest.mark.parametrize("command", ["login", "status", "repos", "logout"])
def test_an_unfilled_env_file_names_the_client_id_first_whatever_the_command(cli, github, command):
    with_an_unfilled_env_file(cli.point_at(github))
    result = cli.run(command)
    assert one_clean_line(result)
    assert "GITHUB_CLIENT_ID still holds the placeholder" in result.stderr


def test_gh_token_on_a_host_that_is_not_github_com_says_which_variable_is_for_which(cli, github):
    result = cli.point_at(github).run("status", extra_env={"GITHUB_CLIENT_ID": "", "GH_TOKEN": "gho_for_github_1111"})
    assert one_clean_line(result)
    assert "GITHUB_CLIENT_ID is not set" not in result.stderr
    assert f"GH_TOKEN is set, but it is not for 127.0.0.1:{github.port} (as with gh, GH_ENTERPRISE_TOKEN is the " \
           "variable for other hosts) — put the token in GH_ENTERPRISE_TOKEN instead" in result.stderr


def test_logout_says_that_a_token_variable_still_applies(cli, github):
    cli.point_at(github).run("login")
    result = cli.run("logout", extra_env={"GH_ENTERPRISE_TOKEN": "gho_from_ci_1111"})
    assert result.returncode == 0
    assert "Revoked the token" in result.stdout
    assert "Note: GH_ENTERPRISE_TOKEN is still set, and status and repos keep using its token until you unset it." \
        in result.stdout


# -- options and hints ---------------------------------------------------------------------------

def test_login_device_waits_no_longer_than_its_timeout_and_says_so(cli, monkeypatch):
    import importlib

    device_flow = importlib.import_module("device_flow")
    clock = [0.0]
    monkeypatch.setattr(device_flow, "monotonic", lambda: clock[0])
    monkeypatch.setattr(device_flow, "pause", lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    with LocalGitHub(Settings(approval="ask", device_interval=1)) as github:  # nobody approves the code
        result = cli.point_at(github).run("login", "--device", "--timeout", "3")
    assert "Waiting up to 3s for you to approve it" in result.stdout
    assert one_clean_line(result)
    assert "no approval within 3s (--timeout) — run login --device again" in result.stderr


def test_demo_help_does_not_offer_the_hostname_it_refuses(cli):
    result = cli.run("demo", "--help")
    assert result.returncode == 0
    assert "--hostname" not in result.stdout


def test_the_demo_hints_at_no_option_it_does_not_take(cli):
    result = cli.run("demo")
    assert result.returncode == 0
    assert "--limit" not in result.stdout + result.stderr
