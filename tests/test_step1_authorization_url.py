"""Step 1: configuration, state, PKCE and the authorization URL."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from support.errors import AuthError
import support.settings
from tests.conftest import ROOT
from tests.helpers import APP_SETTINGS


def test_code_challenge_matches_rfc7636_appendix_b(step1):
    assert step1.code_challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_code_verifier_is_43_to_128_unreserved_characters(step1):
    verifier = step1.generate_code_verifier()
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier)


def test_state_and_verifier_are_fresh_on_every_run(step1):
    config = step1.load_config(env=APP_SETTINGS)
    first, second = step1.prepare_authorization_request(config), step1.prepare_authorization_request(config)
    assert first.state != second.state
    assert first.code_verifier != second.code_verifier
    assert len(first.state) >= 22  # at least 128 bits of base64url


def test_a_verifier_outside_rfc7636_is_refused(step1):
    with pytest.raises(ValueError):
        step1.code_challenge_for("too-short")


def test_url_carries_every_parameter_properly_encoded(step1):
    config = step1.load_config(env={**APP_SETTINGS, "GITHUB_SCOPES": "read:user,repo"})
    request = step1.prepare_authorization_request(config, "http://127.0.0.1:5555/callback")
    parts = urlsplit(request.url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://github.com/login/oauth/authorize"
    assert query == {
        "response_type": ["code"], "client_id": ["Ov23liExample"],
        "redirect_uri": ["http://127.0.0.1:5555/callback"], "scope": ["read:user repo"],
        "state": [request.state], "code_challenge": [step1.code_challenge_for(request.code_verifier)],
        "code_challenge_method": ["S256"],
    }
    assert request.code_verifier not in request.url
    assert "not-a-real-secret" not in request.url


def test_the_verifier_is_not_in_the_requests_repr(step1):
    request = step1.prepare_authorization_request(step1.load_config(env=APP_SETTINGS))
    assert request.code_verifier not in repr(request)


def test_defaults_are_narrow_and_loopback(step1):
    config = step1.load_config(env=APP_SETTINGS)
    assert config.scopes == ("read:user",)
    assert str(config.redirect) == "http://127.0.0.1/callback"
    assert config.api_url == "https://api.github.com"


def test_enterprise_server_gets_its_api_under_api_v3(step1):
    config = step1.load_config(env={**APP_SETTINGS, "GITHUB_SERVER_URL": "https://ghe.example.com/"})
    assert config.token_url == "https://ghe.example.com/login/oauth/access_token"
    assert config.api_url == "https://ghe.example.com/api/v3"


def test_client_secret_is_hidden_from_repr(step1):
    assert "not-a-real-secret" not in repr(step1.load_config(env=APP_SETTINGS))


@pytest.mark.parametrize("overrides, names", [
    ({"GITHUB_CLIENT_ID": ""}, "GITHUB_CLIENT_ID"),
    ({"GITHUB_CLIENT_SECRET": " "}, "GITHUB_CLIENT_SECRET"),
    ({"GITHUB_REDIRECT_URI": "http://localhost/callback"}, "127.0.0.1 instead"),
    ({"GITHUB_REDIRECT_URI": "http://192.168.1.5/callback"}, "must point at this machine"),
    ({"GITHUB_REDIRECT_URI": "https://127.0.0.1/callback"}, "must start with http://"),
    ({"GITHUB_REDIRECT_URI": "http://127.0.0.1:70000/callback"}, "port outside 1-65535"),
    ({"GITHUB_REDIRECT_URI": "http://127.0.0.1/callback#x"}, "fragment"),
    ({"GITHUB_SERVER_URL": "http://github.example.com"}, "clear text"),
    ({"GITHUB_SERVER_URL": "github.com"}, "is not a URL"),
    ({"GITHUB_API_URL": "ftp://api.github.com"}, "GITHUB_API_URL"),
    ({"GITHUB_SCOPES": 'read:user "repo"'}, "GITHUB_SCOPES"),
])
def test_bad_settings_name_the_variable_and_the_fix(step1, overrides, names):
    with pytest.raises(AuthError) as caught:
        step1.load_config(env={**APP_SETTINGS, **overrides})
    message = str(caught.value)
    assert message.startswith("configuration: ")
    assert names in message
    assert "—" in message  # problem — fix
    assert "\n" not in message


def test_ipv6_loopback_redirect_is_accepted(step1):
    config = step1.load_config(env={**APP_SETTINGS, "GITHUB_REDIRECT_URI": "http://[::1]:8080/cb"})
    assert config.redirect.with_port(8080) == "http://[::1]:8080/cb"


def test_environment_wins_over_dotenv(step1, tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("GITHUB_CLIENT_ID=from-dotenv\nGITHUB_SCOPES=gist\n")
    monkeypatch.setenv("GITHUB_CLIENT_ID", "from-environment")
    monkeypatch.setenv("GITHUB_CLIENT_SECRET", "x")
    config = step1.load_config()
    assert (config.client_id, config.scopes) == ("from-environment", ("gist",))


def test_script_prints_the_url_but_never_the_verifier(runner, github):
    result = runner.point_at(github).run("1_authorization_url.py")
    assert result.returncode == 0, result.stderr
    url = next(line for line in result.stdout.splitlines() if line.startswith("http"))
    assert parse_qs(urlsplit(url).query)["code_challenge_method"] == ["S256"]
    assert "code_verifier=" not in result.stdout
    assert "state=" in result.stdout


def test_script_without_configuration_says_what_to_do(runner):
    result = runner.run("1_authorization_url.py")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "GITHUB_CLIENT_ID is not set" in result.stderr
    assert ".env.example" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_dotenv_in_a_parent_folder_is_not_used(step1, tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("GITHUB_CLIENT_ID=another-apps-id\n")
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    with pytest.raises(AuthError, match="GITHUB_CLIENT_ID is not set") as caught:
        step1.load_config()
    assert "no .env in the current folder" in str(caught.value)


def test_a_configuration_error_names_the_dotenv_it_read(step1, tmp_path):
    (tmp_path / ".env").write_text("GITHUB_CLIENT_ID=Ov23liExample\nGITHUB_REDIRECT_URI=http://localhost/callback\n")
    with pytest.raises(AuthError) as caught:
        step1.load_config()
    assert f"settings read from {tmp_path / '.env'}" in str(caught.value)


@pytest.mark.parametrize("variable, placeholder", [("GITHUB_CLIENT_ID", "your-client-id"),
                                                   ("GITHUB_CLIENT_SECRET", "your-client-secret")])
def test_placeholders_copied_from_env_example_are_refused(step1, variable, placeholder):
    env = {**APP_SETTINGS, variable: placeholder}
    with pytest.raises(AuthError, match=f"{variable} still holds the placeholder from .env.example"):
        step1.load_config(env=env)


def test_env_example_holds_exactly_the_placeholders_that_are_refused():
    example = (ROOT / ".env.example").read_text()
    for variable, placeholder in support.settings.PLACEHOLDERS.items():
        assert f"{variable}={placeholder}\n" in example


def test_a_placeholder_client_id_is_refused_by_the_commands_that_may_do_without_one_too(cli):
    result = cli.run("status", extra_env={"GITHUB_CLIENT_ID": "your-client-id"})
    assert result.returncode == 1
    assert result.stderr.startswith("status failed at configuration: GITHUB_CLIENT_ID still holds the placeholder")
    assert "(settings read from the environment; no .env in the current folder)" in result.stderr
