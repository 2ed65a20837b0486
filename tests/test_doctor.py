"""`doctor` finds the step that fails and says the fix, against the stand-in, its strict mode and Authlib.

Each ✘ the chapter's troubleshooting table knows is produced for real: a wrong client secret, a wrong
callback URL, an unknown client ID, the device flow turned off, a revoked token, a missing scope, a
token file others can read, a skewed clock. Nothing here opens a browser or creates a token.
"""

from __future__ import annotations

import json
import re

import pytest

from support.doctor import FIXES
from tests.conftest import ROOT
from tests.helpers.authlib_server import AuthlibGitHub
from tests.helpers.marked_stand_in import SECRET_MARKER, LocalGitHub, Settings


def doctor(cli, server, *argv: str, **env: str):
    return cli.point_at(server).run("doctor", *argv, extra_env=env or None)


def failed_lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("✘")]


def assert_fails_with(result, step: str, fix: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    failures = failed_lines(result)
    assert any(line.startswith(f"✘ {step}:") for line in failures), failures
    assert f"fix: {FIXES[fix]}" in result.stdout


def test_a_sound_setup_passes_every_check(cli, github):
    assert cli.point_at(github).run("login").returncode == 0
    result = doctor(cli, github)
    assert result.returncode == 0, result.stdout
    assert failed_lines(result) == []
    assert result.stdout.rstrip().endswith("Nothing failed.")


def test_the_checks_come_in_the_chapters_order(cli, github):
    cli.point_at(github).run("login")
    steps = [line.split(":")[0][2:] for line in doctor(cli, github).stdout.splitlines()[1:] if line[:1] in "✔✘!-"]
    order = ["configuration", "step 2 (token exchange)", "step 2 (device flow)", "step 1 (authorization URL)",
             "token store", "step 3 (API request)"]
    assert [step for step in order if step in steps] == order
    assert sorted(steps, key=order.index) == steps


def test_doctor_creates_no_token_and_shows_no_secret(cli, github):
    cli.point_at(github).run("login")
    tokens_before = set(github.tokens)
    result = doctor(cli, github)
    assert set(github.tokens) == tokens_before
    assert SECRET_MARKER not in result.stdout + result.stderr


def test_a_wrong_client_secret_is_named(cli, github):
    assert_fails_with(doctor(cli, github, GITHUB_CLIENT_SECRET="not-the-secret"), "step 2 (token exchange)",
                      "wrong_secret")


def test_an_unknown_client_id_is_named(cli, github):
    assert_fails_with(doctor(cli, github, GITHUB_CLIENT_ID="Ov23liNoSuchApp"), "step 2 (token exchange)",
                      "unknown_client_id")


def test_an_app_whose_callback_url_is_not_loopback_is_named(cli):
    with LocalGitHub(Settings(approval="auto", callback_url="https://app.example.com/callback")) as elsewhere:
        assert_fails_with(doctor(cli, elsewhere), "step 2 (token exchange)", "callback_url")


def test_the_device_flow_turned_off_is_named(cli):
    with LocalGitHub(Settings(approval="auto", device_flow=False)) as no_device:
        assert_fails_with(doctor(cli, no_device), "step 2 (device flow)", "device_flow_off")


def test_a_revoked_token_is_named(cli, github):
    cli.point_at(github).run("login")
    github.tokens.clear()
    assert_fails_with(doctor(cli, github), "step 3 (API request)", "token_refused")


def test_a_missing_scope_is_named(cli, github):
    cli.point_at(github).run("login")
    assert_fails_with(doctor(cli, github, GITHUB_SCOPES="read:user repo"), "step 3 (API request)", "missing_scope")


def test_a_token_file_others_can_read_is_named(cli, github, token_path):
    cli.point_at(github).run("login")
    token_path.chmod(0o644)
    assert_fails_with(doctor(cli, github), "token store", "private_file")


def test_a_skewed_clock_is_named(cli):
    with LocalGitHub(Settings(approval="auto", clock_skew_seconds=600)) as skewed:
        assert_fails_with(doctor(cli, skewed), "step 3 (API request)", "clock")


def test_missing_settings_fail_first_and_the_rest_is_skipped(cli):
    result = cli.run("doctor")
    assert_fails_with(result, "configuration", "settings")
    assert "GITHUB_CLIENT_ID is not set" in result.stdout
    assert len(failed_lines(result)) == 1


def test_json_lists_each_check_with_step_status_detail_and_fix(cli, github):
    result = doctor(cli, github, "--json", GITHUB_CLIENT_SECRET="not-the-secret")
    checks = json.loads(result.stdout)
    assert all(set(check) == {"step", "status", "detail", "fix"} for check in checks)
    wrong = [check for check in checks if check["status"] == "fail"]
    assert [check["fix"] for check in wrong] == [FIXES["wrong_secret"]]
    assert result.returncode == 1


def test_json_on_missing_settings_is_still_json(cli):
    result = cli.run("doctor", "--json")
    assert json.loads(result.stdout)[0]["status"] == "fail"


def test_the_strict_stand_in_passes_and_names_a_wrong_client(cli):
    with LocalGitHub(Settings(approval="auto", strict=True)) as strict:
        assert cli.point_at(strict).run("login").returncode == 0
        assert doctor(cli, strict).returncode == 0
        assert_fails_with(doctor(cli, strict, GITHUB_CLIENT_SECRET="not-the-secret"), "step 2 (token exchange)",
                          "wrong_client")


def test_authlib_passes_and_names_a_wrong_client(cli):
    with AuthlibGitHub() as authlib:
        assert cli.point_at(authlib).run("login").returncode == 0
        result = doctor(cli, authlib)
        assert result.returncode == 0, result.stdout
        assert_fails_with(doctor(cli, authlib, GITHUB_CLIENT_SECRET="not-the-secret"), "step 2 (token exchange)",
                          "wrong_client")


@pytest.mark.parametrize("name", sorted(FIXES))
def test_each_fix_is_word_for_word_in_the_troubleshooting_table(name):
    table = (ROOT / "docs" / "TROUBLESHOOTING.md").read_text(encoding="utf-8")
    doctor_rows = table[table.index("## What doctor checks"):]
    assert FIXES[name] in re.sub(r"\s*\n\s*", " ", doctor_rows)


def test_a_token_variable_no_header_could_carry_is_named_and_never_sent(cli, github):
    result = doctor(cli, github, GH_ENTERPRISE_TOKEN="gho_first_line\ngho_second_line")
    assert_fails_with(result, "configuration", "unusable_variable")
    assert "gho_first_line" not in result.stdout
    assert github.counters.authorization_headers == []
