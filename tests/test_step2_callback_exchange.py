"""Step 2: the loopback callback server (real sockets, the test plays the browser) and the code exchange."""

import os
import socket
import stat
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import responses

from support.errors import AuthError
import support.loopback
from tests.helpers.marked_stand_in import LocalGitHub, Settings, play_browser
from tests.helpers import APP_SETTINGS, callback_port, fetch, port_is_free, read_saved, sign_in


def callback_url(authorization_url: str, **params: str) -> str:
    redirect = parse_qs(urlsplit(authorization_url).query)["redirect_uri"][0]
    return f"{redirect}?{urlencode(params)}"


def state_of(authorization_url: str) -> str:
    return parse_qs(urlsplit(authorization_url).query)["state"][0]


def test_sign_in_returns_the_token_github_issued(step2, github, config_for):
    token = sign_in(step2, config_for(github), lambda url: play_browser(url) and True)
    assert token.access_token in github.tokens
    assert token.scopes == ("read:user",)
    assert token.resource == github.api_url


def test_server_listens_on_loopback_only(step2, step1):
    config = step1.load_config(env=APP_SETTINGS)
    with step2.CallbackServer(config.redirect) as server:
        assert server.server_address[0] == "127.0.0.1"
        assert server.redirect_uri == f"http://127.0.0.1:{server.server_address[1]}/callback"


def test_server_on_ipv6_loopback_when_asked(step2, step1):
    if not socket.has_ipv6 or not port_is_free("::1", 0):
        pytest.skip("no IPv6 loopback here")
    config = step1.load_config(env={**APP_SETTINGS, "GITHUB_REDIRECT_URI": "http://[::1]/callback"})
    with step2.CallbackServer(config.redirect) as server:
        assert server.server_address[0] == "::1"


def test_the_fixed_port_from_the_redirect_uri_is_used(step2, step1):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = step1.load_config(env={**APP_SETTINGS, "GITHUB_REDIRECT_URI": f"http://127.0.0.1:{port}/cb"})
    with step2.CallbackServer(config.redirect) as server:
        assert server.redirect_uri == f"http://127.0.0.1:{port}/cb"


def test_favicon_gets_404_and_the_wait_goes_on(step2, github, config_for):
    seen = {}

    def browse(url):
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        seen["favicon"] = fetch(redirect.replace("/callback", "/favicon.ico"))[0]
        play_browser(url)
        return True

    assert sign_in(step2, config_for(github), browse).access_token
    assert seen["favicon"] == 404


def test_wrong_state_keeps_waiting_for_the_real_callback(step2, github, config_for):
    seen = {}

    def browse(url):
        seen["forged"] = fetch(callback_url(url, code="attacker-code", state="guessed"))
        seen["no_state"] = fetch(callback_url(url, code="attacker-code"))
        play_browser(url)
        return True

    token = sign_in(step2, config_for(github), browse)
    assert seen["forged"][0] == 400
    assert seen["no_state"][0] == 400
    assert "not started by this tool" in seen["forged"][1]
    assert token.access_token in github.tokens
    assert github.counters.token_requests == 1  # the forged code was never exchanged


def test_duplicated_state_is_refused(step2, github, config_for):
    seen = {}

    def browse(url):
        state = state_of(url)
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        seen["dup"] = fetch(f"{redirect}?code=x&state={state}&state={state}")[0]
        play_browser(url)
        return True

    sign_in(step2, config_for(github), browse)
    assert seen["dup"] == 400


# -- the issuer check (RFC 9207): a callback from another authorization server is never used -----

def test_the_issuer_github_names_is_accepted(step2, github, config_for):
    seen = {}

    def browse(url):
        seen["page"] = play_browser(url)
        return True

    assert github.issuer == config_for(github).issuer == f"{github.url}/login/oauth"  # as github.com sends it
    assert sign_in(step2, config_for(github), browse).access_token
    assert seen["page"][0] == 200
    assert "Signed in" in seen["page"][1]


def test_a_callback_without_issuer_is_accepted_as_older_servers_send_none(step2, config_for):
    with LocalGitHub(Settings(approval="auto", issuer=None)) as github:
        assert sign_in(step2, config_for(github), lambda url: play_browser(url) and True).access_token
        assert github.counters.token_requests == 1


@pytest.mark.parametrize("issuer", ["https://evil.example/login/oauth", "", "http://127.0.0.1/login/oauth"])
def test_a_callback_naming_another_issuer_is_refused_and_its_code_never_sent(step2, config_for, issuer):
    pages = []
    with LocalGitHub(Settings(approval="auto", issuer=issuer)) as github:
        with pytest.raises(AuthError) as caught:
            sign_in(step2, config_for(github), lambda url: pages.append(play_browser(url)) or True)
    assert caught.value.step == "step 2 (callback)"
    assert "mix-up" in str(caught.value)
    assert "its code was not used" in str(caught.value)
    assert github.counters.token_requests == 0
    status, body = pages[0]
    assert status == 400
    assert "Sign-in failed" in body
    assert "mix-up" in body


def test_the_issuer_is_checked_before_an_error_is_believed(step2, config_for):
    with LocalGitHub(Settings(approval="deny", issuer="https://evil.example/login/oauth")) as github:
        with pytest.raises(AuthError) as caught:
            sign_in(step2, config_for(github), lambda url: play_browser(url) and True)
    assert "mix-up" in str(caught.value)
    assert "declined" not in str(caught.value)


def test_a_hostile_issuer_cannot_drive_the_terminal(step2, github, config_for):
    def browse(url):
        fetch(callback_url(url, state=state_of(url), code="c", iss="\x1b[2Jhttps://evil.example\r\nX"))
        return True

    with pytest.raises(AuthError) as caught:
        sign_in(step2, config_for(github), browse)
    assert "\x1b" not in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "\r" not in str(caught.value)


def test_access_denied_ends_the_wait_with_you_declined(step2, config_for):
    with LocalGitHub(Settings(approval="deny")) as github:
        with pytest.raises(AuthError) as caught:
            sign_in(step2, config_for(github), lambda url: play_browser(url) and True)
    assert caught.value.step == "step 2 (callback)"
    assert "you declined the request" in str(caught.value)
    assert github.counters.token_requests == 0


def test_the_browser_is_told_the_real_outcome(step2, config_for):
    pages = []
    with LocalGitHub(Settings(approval="deny")) as github:
        with pytest.raises(AuthError):
            sign_in(step2, config_for(github), lambda url: pages.append(play_browser(url)) or True)
    status, body = pages[0]
    assert status == 400
    assert "Sign-in failed" in body
    assert "you declined" in body


def test_reflected_text_is_html_escaped(step2, github, config_for):
    seen = {}

    def browse(url):
        seen["page"] = fetch(callback_url(url, state=state_of(url), error="weird",
                                          error_description="<script>alert(1)</script>"))
        return True

    with pytest.raises(AuthError):
        sign_in(step2, config_for(github), browse)
    status, body, headers = seen["page"]
    assert "<script>" not in body
    assert "&lt;script&gt;" in body
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("method", ["HEAD", "POST", "OPTIONS", "PUT", "DELETE"])
def test_other_methods_get_405(step2, github, config_for, method):
    seen = {}

    def browse(url):
        seen["status"] = fetch(callback_url(url, code="x", state=state_of(url)), method=method)[0]
        play_browser(url)
        return True

    sign_in(step2, config_for(github), browse)
    assert seen["status"] == 405


def test_timeout_says_so_and_frees_the_port(step2, github, config_for):
    urls = []
    with pytest.raises(AuthError) as caught:
        sign_in(step2, config_for(github), lambda url: urls.append(url) or True, timeout=0.3)
    assert "no callback arrived within 0.3 s" in str(caught.value)
    assert port_is_free("127.0.0.1", callback_port(urls[0]))


def test_port_in_use_is_a_clear_error(step2, step1):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = step1.load_config(env={**APP_SETTINGS, "GITHUB_REDIRECT_URI": f"http://127.0.0.1:{port}/callback"})
        with pytest.raises(AuthError) as caught:
            step2.CallbackServer(config.redirect)
    assert "another program uses that port" in str(caught.value)


def test_port_is_freed_after_success(step2, github, config_for):
    urls = []
    sign_in(step2, config_for(github), lambda url: urls.append(url) or play_browser(url) and True)
    assert port_is_free("127.0.0.1", callback_port(urls[0]))


def test_a_browser_that_cannot_open_still_leaves_the_url_printed(step2, github, config_for):
    lines = []
    with pytest.raises(AuthError):
        step2.sign_in_with_browser(config_for(github), timeout=0.2, open_browser=lambda url: False,
                                   say=lines.append)
    assert any(line.startswith("Could not open a browser") for line in lines)
    assert any("/login/oauth/authorize?" in line for line in lines)


# -- the exchange, with the token endpoint mocked for answers that are hard to produce ---------

@pytest.fixture
def exchange(step1, step2):
    config = step1.load_config(env=APP_SETTINGS)
    request = step1.prepare_authorization_request(config, "http://127.0.0.1:5000/callback")
    return lambda: step2.exchange_code_for_token(config, "the-code", request), config, request


@responses.activate
def test_exchange_sends_verifier_and_redirect_uri_and_asks_for_json(exchange):
    run, config, request = exchange
    responses.post(config.token_url, json={"access_token": "gho_fake", "scope": "repo,gist", "token_type": "bearer"})
    token = run()
    sent = parse_qs(responses.calls[0].request.body)
    assert sent["grant_type"] == ["authorization_code"]  # RFC 6749 §4.1.3, though GitHub does not need it
    assert sent["code_verifier"] == [request.code_verifier]
    assert sent["redirect_uri"] == ["http://127.0.0.1:5000/callback"]
    assert sent["client_secret"] == ["not-a-real-secret"]
    assert sent["code"] == ["the-code"]
    assert responses.calls[0].request.headers["Accept"] == "application/json"
    assert token.scopes == ("repo", "gist")


@responses.activate
def test_an_error_in_a_200_answer_is_an_error_and_is_not_retried(exchange):
    run, config, _ = exchange
    responses.post(config.token_url, status=200, json={
        "error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})
    with pytest.raises(AuthError) as caught:
        run()
    assert str(caught.value).startswith("step 2 (token exchange): GitHub says bad_verification_code")
    assert "run login again" in str(caught.value)
    assert len(responses.calls) == 1


@pytest.mark.parametrize("code, fix", [
    ("incorrect_client_credentials", "GITHUB_CLIENT_SECRET is wrong"),
    ("redirect_uri_mismatch", "Authorization callback URL"),
    ("unverified_user_email", "verify it"),
])
@responses.activate
def test_github_error_codes_map_to_a_fix(exchange, code, fix):
    run, config, _ = exchange
    responses.post(config.token_url, json={"error": code})
    with pytest.raises(AuthError, match=fix):
        run()


@responses.activate
def test_a_form_encoded_answer_is_understood(exchange):
    run, config, _ = exchange
    responses.post(config.token_url, body="access_token=gho_fake&scope=repo%2Cgist&token_type=bearer",
                   content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert run().scopes == ("repo", "gist")


@responses.activate
def test_a_non_json_answer_is_a_clear_error(exchange):
    run, config, _ = exchange
    responses.post(config.token_url, status=502, body="<html>Bad gateway</html>", content_type="text/html")
    with pytest.raises(AuthError, match=r"HTTP 502 \(text/html\) without a usable token answer"):
        run()


@responses.activate
def test_an_answer_without_access_token_is_a_clear_error(exchange):
    run, config, _ = exchange
    responses.post(config.token_url, json={"token_type": "bearer"})
    with pytest.raises(AuthError, match="no access_token"):
        run()


@responses.activate
def test_a_network_error_is_a_clear_error(exchange):
    run, config, _ = exchange
    responses.post(config.token_url, body=requests.ConnectionError("refused"))
    with pytest.raises(AuthError, match="cannot reach github.com"):
        run()


@responses.activate
def test_a_redirect_from_the_token_endpoint_is_not_followed(exchange):
    run, config, _ = exchange
    responses.post(config.token_url, status=307, headers={"Location": "https://evil.example/steal"})
    with pytest.raises(AuthError, match="redirected"):
        run()
    assert len(responses.calls) == 1


@responses.activate
def test_hostile_error_text_cannot_drive_the_terminal(exchange):
    run, config, _ = exchange
    responses.post(config.token_url, json={"error": "odd\x1b[2J", "error_description": "\x1b]0;pwned\x07text"})
    with pytest.raises(AuthError) as caught:
        run()
    assert "\x1b" not in str(caught.value)
    assert "\x07" not in str(caught.value)


def test_the_stand_in_answers_form_encoded_unless_json_is_asked(github):
    answer = requests.post(f"{github.url}/login/oauth/access_token",
                           data={"client_id": github.settings.client_id, "client_secret": "wrong", "code": "nope"},
                           timeout=10)
    assert answer.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert parse_qs(answer.text)["error"] == ["incorrect_client_credentials"]
    assert answer.status_code == 200


# -- the script, end to end, as a reader runs it --------------------------------------------

def test_script_signs_in_and_saves_a_private_token_file(runner, github, token_path):
    result = runner.point_at(github).run("2_callback_exchange.py", "--timeout", "30")
    assert result.returncode == 0, result.stderr
    saved = read_saved(token_path)
    assert saved["access_token"] in github.tokens
    assert stat.S_IMODE(os.stat(token_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(token_path.parent).st_mode) == 0o700
    assert f"gho_…{saved['access_token'][-4:]}" in result.stdout
    assert str(token_path) in result.stdout
    for secret in github.counters.secrets_seen:
        assert secret not in result.stdout + result.stderr


def test_script_revokes_the_token_it_replaces_as_login_does(cli, github, token_path):
    assert cli.point_at(github).script("2_callback_exchange.py").returncode == 0
    again = cli.script("2_callback_exchange.py")
    assert again.returncode == 0
    assert "Revoked the token this sign-in replaced." in again.stdout
    assert list(github.tokens) == [read_saved(token_path)["access_token"]]  # no valid token that nobody holds
    assert cli.run("logout").returncode == 0
    assert github.tokens == {}


def test_script_says_where_to_revoke_a_replaced_token_it_could_not(cli, github):
    cli.point_at(github).script("2_callback_exchange.py")
    github.fail_next("/api/v3/applications/", 502, "<html>Bad Gateway</html>")
    again = cli.script("2_callback_exchange.py")
    assert again.returncode == 0
    assert len(github.tokens) == 2
    assert f"Note: the token this sign-in replaced was not revoked (127.0.0.1:{github.port} answered HTTP 502); " \
           f"revoke it at {github.url}/settings/applications." in again.stdout


def test_script_reports_a_declined_request_in_one_line(runner):
    with LocalGitHub(Settings(approval="ask")) as github:
        result = runner.point_at(github).run("2_callback_exchange.py", extra_env={"BROWSER_DECISION": "cancel"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "step 2 (callback)" in result.stderr
    assert "declined" in result.stderr


def test_the_wait_wakes_often_enough_to_act_on_a_ctrl_c_handed_to_another_thread(step1, step2):
    """Linux delivers a process's SIGINT to any of its threads. If the server's or the browser's
    thread gets it, Python acts on it only when the main thread next runs Python code: one long
    wait once held a Ctrl-C back until --timeout ran out (it hung test_ctrl_c_... under load)."""
    waits = []

    class RecordingEvent(threading.Event):
        def wait(self, timeout=None):
            waits.append(timeout)
            return super().wait(timeout)

    config = step1.load_config(env=APP_SETTINGS)
    with step2.CallbackServer(config.redirect) as server:
        server.done = RecordingEvent()
        with pytest.raises(AuthError, match="no callback arrived within 0.35 s"):
            server.wait(0.35)
    assert len(waits) >= 3
    assert max(waits) <= support.loopback.SIGNAL_CHECK_SECONDS
