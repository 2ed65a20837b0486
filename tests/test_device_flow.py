"""The device flow (RFC 8628 as GitHub runs it): `login --device`, device_flow.py, every error.

Nobody waits: the stand-in's interval is 0, and where a test needs the tool's pacing it replaces
device_flow.pause (and device_flow.monotonic) with a recorder.
"""

import importlib
import re
import signal
import time

import pytest
import responses

from support.errors import AuthError
import support.loopback
from tests.helpers.marked_stand_in import LocalGitHub, Settings
from tests.helpers import TOOL, one_clean_line, paused_on_a_fake_clock, read_saved, read_until, write_saved

device_flow = importlib.import_module("device_flow")
NO_SECRET = {"GITHUB_CLIENT_SECRET": ""}


@pytest.fixture(params=["github", "strict"])
def device_github(request):
    """A stand-in that approves each device code at its second poll, with no pause between polls."""
    with LocalGitHub(Settings(approval="auto", device_interval=0, strict=request.param == "strict")) as server:
        yield server


def test_login_device_needs_no_client_secret_and_then_status_and_repos_work(cli, device_github, token_path):
    login = cli.point_at(device_github).run("login", "--device", extra_env=NO_SECRET)
    assert login.returncode == 0, login.stderr
    assert re.search(r"First copy your one-time code: [A-Z]{4}-[A-Z]{4}", login.stdout)
    assert f"Then open {device_github.url}/login/device on any device" in login.stdout
    assert "Logged in to" in login.stdout
    assert read_saved(token_path)["account"] == "octocat"
    assert device_github.counters.token_requests == 2  # authorization_pending once, then the token
    assert cli.run("status", extra_env=NO_SECRET).returncode == 0
    assert cli.run("repos", extra_env=NO_SECRET).returncode == 0


def test_a_device_token_refreshes_without_the_client_secret(cli, token_path):
    with LocalGitHub(Settings(approval="auto", device_interval=0, expiring=True)) as github:
        assert cli.point_at(github).run("login", "--device", extra_env=NO_SECRET).returncode == 0
        saved = read_saved(token_path)
        write_saved(token_path, {**saved, "expires_at": time.time() - 1})
        assert cli.run("repos", extra_env=NO_SECRET).returncode == 0
        assert github.counters.refreshes == 1


def test_a_browser_flow_token_without_the_secret_says_to_set_it(cli, expiring_github, token_path):
    assert cli.point_at(expiring_github).run("login").returncode == 0  # the browser flow: refresh needs the secret
    saved = read_saved(token_path)
    # A login that kept no secret (one saved before logins kept their app's), and none in the settings.
    write_saved(token_path, {**saved, "expires_at": time.time() - 1, "client_secret": None})
    result = cli.run("repos", extra_env=NO_SECRET)
    assert one_clean_line(result)
    assert "GITHUB_CLIENT_SECRET is not set, and the server needs it" in result.stderr


def test_the_device_code_is_never_shown(cli, device_github):
    result = cli.point_at(device_github).run("login", "--device", "--explain")
    for secret in device_github.counters.secrets_seen:
        assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize("settings, arrange, message", [
    ({"approval": "deny"}, None, "you declined the request — run login --device again"),
    ({"device_flow": False}, None, 'tick "Enable Device Flow"'),
    ({"approval": "ask"}, "expire", "the code expired before it was entered"),
    ({"approval": "ask"}, "forget", "the server does not know this device code"),
])
def test_each_way_the_device_flow_ends_is_one_line(cli, monkeypatch, settings, arrange, message):
    with LocalGitHub(Settings(device_interval=0, **settings)) as github:
        if arrange == "expire":
            monkeypatch.setattr(device_flow, "pause", lambda seconds: github.expire_device_codes())
        elif arrange == "forget":
            monkeypatch.setattr(device_flow, "pause", lambda seconds: github.devices.clear())
        result = cli.point_at(github).run("login", "--device")
    assert one_clean_line(result)
    assert result.stderr.startswith("login failed at step 2 (device flow): ")
    assert message in result.stderr


def test_a_wrong_client_id_is_one_line(cli, device_github):
    result = cli.point_at(device_github).run("login", "--device", extra_env={"GITHUB_CLIENT_ID": "Ov23liNotThisApp"})
    assert one_clean_line(result)
    assert "GITHUB_CLIENT_ID is wrong" in result.stderr


def test_a_person_approves_on_the_device_page(cli, monkeypatch):
    with LocalGitHub(Settings(approval="ask", device_interval=0)) as github:
        def type_the_code(seconds):
            for device in list(github.devices.values()):
                github.approve_device(device.user_code)

        monkeypatch.setattr(device_flow, "pause", type_the_code)
        assert cli.point_at(github).run("login", "--device").returncode == 0


# -- the pace and the deadline, with the token endpoint mocked -----------------------------------

@pytest.fixture
def mocked(step1, monkeypatch):
    config = step1.load_config(env={"GITHUB_CLIENT_ID": "Ov23liExample"}, require_secret=False)
    pauses = paused_on_a_fake_clock(monkeypatch, device_flow)
    with responses.RequestsMock() as mock:
        mock.post(f"{config.server_url}/login/device/code", json={
            "device_code": "d" * 40, "user_code": "WDJB-MJHT", "verification_uri": "https://github.com/login/device",
            "expires_in": 900, "interval": 5})
        yield config, mock, pauses


def token_answers(mock, config, *answers):
    for answer in answers:
        mock.post(config.token_url, json=answer)


def test_slow_down_uses_the_new_interval_for_every_later_poll(mocked):
    config, mock, pauses = mocked
    token_answers(mock, config, {"error": "authorization_pending"}, {"error": "slow_down", "interval": 10},
                  {"error": "authorization_pending"}, {"access_token": "gho_fake_aaaa", "token_type": "bearer"})
    device_flow.sign_in_with_device(config, say=lambda line: None)
    assert pauses == [5, 5, 10, 10]


def test_slow_down_without_an_interval_adds_five_seconds(mocked):
    config, mock, pauses = mocked
    token_answers(mock, config, {"error": "slow_down"}, {"access_token": "gho_fake_aaaa", "token_type": "bearer"})
    device_flow.sign_in_with_device(config, say=lambda line: None)
    assert pauses == [5, 10]


def test_polls_come_at_the_interval_the_server_asks_for(mocked):
    config, mock, pauses = mocked
    mock.replace(responses.POST, f"{config.server_url}/login/device/code", json={
        "device_code": "d" * 40, "user_code": "WDJB-MJHT", "verification_uri": "https://github.com/login/device",
        "expires_in": 900, "interval": 8})  # slower than the default of 5 (RFC 8628 §3.2)
    token_answers(mock, config, {"error": "authorization_pending"},
                  {"access_token": "gho_fake_aaaa", "token_type": "bearer"})
    device_flow.sign_in_with_device(config, say=lambda line: None)
    assert pauses == [8, 8]


def test_polls_carry_the_device_grant_and_no_client_secret(mocked):
    config, mock, _ = mocked
    token_answers(mock, config, {"access_token": "gho_fake_aaaa", "token_type": "bearer"})
    device_flow.sign_in_with_device(config, say=lambda line: None)
    poll = dict(pair.split("=", 1) for pair in mock.calls[1].request.body.split("&"))
    assert poll["grant_type"] == "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
    assert poll["device_code"] == "d" * 40
    assert "client_secret" not in poll


def test_polling_stops_when_the_code_expires(mocked):
    config, mock, pauses = mocked
    for _ in range(200):
        token_answers(mock, config, {"error": "authorization_pending"})
    mock.assert_all_requests_are_fired = False
    with pytest.raises(AuthError, match="the code expired before it was entered"):
        device_flow.sign_in_with_device(config, say=lambda line: None)
    assert sum(pauses) == 900
    assert len(pauses) == 900 // 5  # never past expires_in, never faster than interval


@pytest.mark.parametrize("code, message", [
    ("token_expired", "the code expired before it was entered"),  # the word GitHub's prose uses
    ("expired_token", "the code expired before it was entered"),
    ("incorrect_client_credentials", "GITHUB_CLIENT_ID is wrong"),
    ("incorrect_device_code", "does not know this device code"),
    ("unsupported_grant_type", "does not offer the device flow"),
    ("access_denied", "you declined the request"),
])
def test_each_polling_error_has_its_fix(mocked, code, message):
    config, mock, _ = mocked
    token_answers(mock, config, {"error": code})
    with pytest.raises(AuthError, match=message):
        device_flow.sign_in_with_device(config, say=lambda line: None)


# -- as a reader runs it -------------------------------------------------------------------------

def test_device_flow_script_signs_in_and_saves_the_token(cli, token_path):
    with LocalGitHub(Settings(approval="auto", device_interval=0)) as github:
        result = cli.point_at(github).script("device_flow.py", extra_env=NO_SECRET)
    assert result.returncode == 0, result.stderr
    assert "First copy your one-time code" in result.stdout
    assert token_path.exists()


def test_device_flow_script_revokes_the_token_it_replaces_as_login_does(cli, token_path):
    with LocalGitHub(Settings(approval="auto", device_interval=0)) as github:
        assert cli.point_at(github).script("device_flow.py").returncode == 0
        again = cli.script("device_flow.py")
    assert again.returncode == 0
    assert "Revoked the token this sign-in replaced." in again.stdout
    assert list(github.tokens) == [read_saved(token_path)["access_token"]]  # no valid token that nobody holds


def test_ctrl_c_while_polling_exits_130(runner):
    with LocalGitHub(Settings(approval="ask", device_interval=5)) as github:
        process = runner.point_at(github).start(TOOL, "login", "--device", extra_env={"BROWSER": "/nonexistent %s"})
        read_until(process.stdout, "Waiting up to")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    assert "login cancelled" in process.stderr.read()


def test_no_browser_over_ssh_suggests_the_device_flow(runner, github):
    result = runner.point_at(github).run(TOOL, "login", "--timeout", "0.2", extra_env={
        "BROWSER": "/nonexistent %s", "SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22", "DISPLAY": ""})
    assert "This looks like an SSH session without a display: use login --device" in result.stdout


def test_demo_device_shows_the_device_flow(cli):
    result = cli.run("demo", "--device")
    assert result.returncode == 0, result.stderr
    assert "== login --device" in result.stdout
    assert "First copy your one-time code" in result.stdout
    assert "Revoked" in result.stdout


@pytest.mark.real_pause
def test_the_pause_between_polls_wakes_often_enough_to_act_on_ctrl_c(monkeypatch):
    naps = []
    real_sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: naps.append(seconds) or real_sleep(seconds))
    device_flow.pause(0.35)
    assert len(naps) >= 3
    assert max(naps) <= support.loopback.SIGNAL_CHECK_SECONDS


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")  # a traceback a reader would see
def test_a_browser_that_fails_on_the_verification_page_changes_nothing(mocked, capfd):
    import threading

    config, mock, _ = mocked
    token_answers(mock, config, {"access_token": "gho_fake_aaaa", "token_type": "bearer"})

    def broken_browser(url):
        raise RuntimeError("no browser here")

    assert device_flow.sign_in_with_device(config, say=lambda line: None, open_browser=broken_browser).access_token
    for thread in threading.enumerate():
        if thread.name == "browser":
            thread.join(10)
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert "no browser here" not in captured.err
