"""Against Authlib, a server nobody here wrote: the callback checks hold, and both error dialects
(GitHub's HTTP 200 form, RFC 6749's HTTP 400 JSON) end in the same one-line advice."""

import importlib
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from support.errors import AuthError
from support.metadata import discover
from support.token_endpoint import basic_authorization
from tests.helpers.marked_stand_in import LocalGitHub, Settings
from tests.helpers import TOOL, fetch, one_clean_line, sign_in
from tests.helpers.authlib_server import AuthlibGitHub


def settings_for(step1, server):
    """The settings a login uses: the environment's, with the endpoints the server publishes (RFC 8414)."""
    return discover(step1.load_config(env=server.environment()))


def authorization_code(step1, config, redirect_uri="http://127.0.0.1:4000/callback"):
    """What a browser would bring back, taken straight from the authorize endpoint's redirect."""
    request = step1.prepare_authorization_request(config, redirect_uri)
    answer = requests.get(request.url, allow_redirects=False, timeout=10)
    return request, parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def test_a_wrong_state_never_reaches_authlibs_token_endpoint(step1, step2):
    seen = {}

    def browse(url):
        genuine = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        params = {name: values[0] for name, values in parse_qs(urlsplit(genuine).query).items()}
        forged = {**params, "state": "not-the-state"}  # Authlib's own code, with a state we never sent
        seen["forged"] = fetch(f"{genuine.split('?')[0]}?{urlencode(forged)}")
        seen["requests after the forgery"] = authlib.counters.token_requests
        seen["genuine"] = fetch(genuine)
        return True

    with AuthlibGitHub() as authlib:
        assert sign_in(step2, settings_for(step1, authlib), browse).access_token  # the genuine callback still works
    assert seen["forged"][0] == 400
    assert seen["requests after the forgery"] == 0
    assert authlib.counters.token_requests == 1


def test_a_callback_naming_another_issuer_never_reaches_authlibs_token_endpoint(runner):
    # Authlib itself names the wrong issuer here, as a server in a mix-up attack would.
    with AuthlibGitHub(callback_issuer="https://evil.example/login/oauth") as authlib:
        result = runner.point_at(authlib).run(TOOL, "login", "--timeout", "30")
    assert one_clean_line(result)
    assert result.stderr.startswith("login failed at step 2 (callback): the callback names "
                                    "'https://evil.example/login/oauth' as its issuer")
    assert authlib.counters.token_requests == 0
    page = (runner.cwd / "browser-page.html").read_text()
    assert page.startswith("400")
    assert "mix-up" in page


def test_authlib_answers_errors_with_http_400_json_and_the_tool_understands(step1, step2):
    with AuthlibGitHub() as authlib:
        config = settings_for(step1, authlib)
        request, code = authorization_code(step1, config)
        step2.exchange_code_for_token(config, code, request)
        raw = requests.post(config.token_url, timeout=10, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": request.redirect_uri,
            "code_verifier": request.code_verifier},
            headers={"Authorization": basic_authorization(config.client_id, config.client_secret)})
        with pytest.raises(AuthError) as caught:
            step2.exchange_code_for_token(config, code, request)  # the code is spent
    assert raw.status_code == 400
    assert raw.json()["error"] == "invalid_grant"  # RFC 6749 §5.2
    assert "says invalid_grant" in str(caught.value)
    assert "run login again" in str(caught.value)


def test_github_answers_errors_with_http_200_form_and_the_tool_understands(step1, step2):
    with LocalGitHub(Settings(approval="auto")) as github:
        config = step1.load_config(env=github.environment())
        request, code = authorization_code(step1, config)
        step2.exchange_code_for_token(config, code, request)
        raw = requests.post(config.token_url, timeout=10, data={
            "grant_type": "authorization_code", "code": code, "client_id": config.client_id,
            "client_secret": config.client_secret})
        with pytest.raises(AuthError) as caught:
            step2.exchange_code_for_token(config, code, request)
    assert raw.status_code == 200
    assert parse_qs(raw.text)["error"] == ["bad_verification_code"]  # GitHub's way
    assert "says bad_verification_code" in str(caught.value)
    assert "run login again" in str(caught.value)


@pytest.mark.parametrize("server, refused", [("github", False), ("strict", True), ("authlib", True)])
def test_an_exchange_without_grant_type_works_only_at_github(step1, server, refused):
    """What hid the missing grant_type: GitHub forgives it, RFC servers do not. The suite's
    oracles must include the ones that do not."""
    make = {"github": lambda: LocalGitHub(Settings(approval="auto")),
            "strict": lambda: LocalGitHub(Settings(approval="auto", strict=True)),
            "authlib": AuthlibGitHub}[server]
    with make() as oauth_server:
        config = settings_for(step1, oauth_server)
        request, code = authorization_code(step1, config)
        answer = requests.post(config.token_url, timeout=10, headers={"Accept": "application/json"}, data={
            "code": code, "redirect_uri": request.redirect_uri, "code_verifier": request.code_verifier,
            "client_id": config.client_id, "client_secret": config.client_secret})
    if refused:
        assert answer.status_code == 400
        assert answer.json()["error"] == "unsupported_grant_type"
    else:
        assert answer.status_code == 200
        assert answer.json()["access_token"]


# -- the device flow against Authlib's RFC 8628 server -----------------------------------------------

def login_by_device(cli, monkeypatch, authlib: AuthlibGitHub, before_poll) -> tuple[object, list[float]]:
    """`login --device` against Authlib, with `before_poll(n)` playing the person before poll n.

    Returns the result and the pauses the tool asked for, so no test waits for real."""
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        before_poll(len(pauses))

    monkeypatch.setattr(importlib.import_module("device_flow"), "pause", pause)
    result = cli.point_at(authlib).run("login", "--device", extra_env={"GITHUB_CLIENT_SECRET": ""})
    return result, pauses


@pytest.mark.parametrize("approve", [True, False])
def test_login_device_against_authlibs_device_flow(cli, monkeypatch, approve):
    with AuthlibGitHub(approve=approve) as authlib:
        # The person types the code while the tool waits for its second poll.
        result, pauses = login_by_device(cli, monkeypatch, authlib, lambda poll: poll == 2 and authlib.decide_devices())
        if approve:
            assert result.returncode == 0, result.stderr
            assert cli.run("status").returncode == 0
        else:
            assert one_clean_line(result)
            assert "says access_denied: you declined the request" in result.stderr
    assert pauses == [5, 5]
    assert authlib.counters.token_requests == 2  # authorization_pending (HTTP 400), then it


def test_device_flow_slows_down_when_authlib_says_so(cli, monkeypatch):
    with AuthlibGitHub(slow_downs=1) as authlib:
        result, pauses = login_by_device(cli, monkeypatch, authlib, lambda poll: poll == 2 and authlib.decide_devices())
    assert result.returncode == 0, result.stderr
    # Authlib's slow_down names no interval, so RFC 8628 §3.5's five more seconds apply.
    assert pauses == [5, 10]
    assert authlib.counters.token_requests == 2


def test_a_device_code_that_authlib_expired_ends_in_one_line(cli, monkeypatch):
    with AuthlibGitHub() as authlib:
        result, _ = login_by_device(cli, monkeypatch, authlib, lambda poll: authlib.expire_device_codes())
    assert one_clean_line(result)
    assert "the code expired before it was entered" in result.stderr
    assert authlib.counters.token_requests == 1  # Authlib's expired_token (HTTP 400) ends the polling at once
