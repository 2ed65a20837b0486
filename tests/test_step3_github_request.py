"""Step 3: authenticated API calls: headers, pagination, errors, retries and host binding."""

import time

import pytest
import requests
import responses

import support.api_http
from support.errors import AuthError
from support.token import Token
from support.token_store import TokenStore
from tests.helpers import APP_SETTINGS, one_clean_line
from tests.helpers.marked_stand_in import LocalGitHub, Settings

API = "https://api.github.com"


def issued(server: LocalGitHub, config, scopes=("read:user",)) -> Token:
    return Token.from_token_response(server.grant_tokens(scopes), issuer=config.server_url, resource=config.api_url)


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def mocked(step1, step3):
    """A client for api.github.com whose answers `responses` supplies; sleeps are recorded, not slept."""
    config = step1.load_config(env=APP_SETTINGS)
    sleeps = Sleeps()
    client = step3.GitHubClient(config, Token(access_token="gho_fake_only_1234", resource=API), sleep=sleeps)
    return client, sleeps


# -- against the local GitHub ------------------------------------------------------------------

def test_every_request_has_the_versioned_headers_and_a_bearer_token(step3, github, config_for):
    config = config_for(github)
    token = issued(github, config)
    client = step3.GitHubClient(config, token)
    assert client.get_user()["login"] == "octocat"
    assert client.session.headers["X-GitHub-Api-Version"] == support.api_http.API_VERSION
    assert client.session.headers["Accept"] == "application/vnd.github+json"
    assert client.session.headers["User-Agent"]
    assert github.counters.authorization_headers == [f"Bearer {token.access_token}"]


def test_pagination_follows_link_over_one_connection(step3, config_for):
    with LocalGitHub(Settings(repo_count=250)) as github:
        config = config_for(github)
        client = step3.GitHubClient(config, issued(github, config, ("read:user", "repo")))
        repos = list(client.list_repositories())
        client.close()
        assert len(repos) == 250
        assert len({r["full_name"] for r in repos}) == 250
        assert github.counters.api_requests == 3  # ceil(250 / 100)
        assert github.counters.connections == 1


def test_a_limit_stops_early_and_asks_for_no_more_pages_than_needed(step3, config_for):
    with LocalGitHub(Settings(repo_count=250)) as github:
        config = config_for(github)
        client = step3.GitHubClient(config, issued(github, config, ("repo",)))
        assert len(list(client.list_repositories(limit=5))) == 5
        assert github.counters.api_requests == 1
        assert len(list(client.list_repositories(limit=150))) == 150
        assert github.counters.api_requests == 3


def test_without_repo_scope_only_public_repositories_are_listed(step3, github, config_for):
    config = config_for(github)
    client = step3.GitHubClient(config, issued(github, config))
    repos = list(client.list_repositories())
    assert repos
    assert not any(r["private"] for r in repos)
    assert client.lacks_private_scope()


def test_asking_for_private_repositories_without_repo_scope_names_the_scope(step3, github, config_for):
    config = config_for(github)
    client = step3.GitHubClient(config, issued(github, config))
    with pytest.raises(AuthError) as caught:
        list(client.list_repositories(visibility="private"))
    assert "need the repo scope" in str(caught.value)
    assert "--scope" in str(caught.value)


def test_a_revoked_token_is_bad_credentials_log_in_again(step3, github, config_for):
    config = config_for(github)
    client = step3.GitHubClient(config, Token(access_token="gho_revoked_5678", resource=config.api_url))
    with pytest.raises(AuthError) as caught:
        client.get_user()
    # The stand-in is not github.com: the message names it by its host, not as GitHub.
    assert str(caught.value) == (f"step 3 (API request): 127.0.0.1:{github.port} says Bad credentials: the token "
                                 "was revoked or has expired — run login again")


def test_a_used_up_rate_limit_says_when_it_resets(step3, config_for):
    with LocalGitHub(Settings(rate_limit=1)) as github:
        config = config_for(github)
        client = step3.GitHubClient(config, issued(github, config))
        client.get_user()
        with pytest.raises(AuthError) as caught:
            client.get_user()
    assert "rate limit (1 requests an hour) is used up — it resets at" in str(caught.value)
    assert "local time" in str(caught.value)


def test_the_token_is_never_sent_to_a_host_it_was_not_issued_for(step3, github, config_for):
    config = config_for(github)
    token = issued(github, config)
    with LocalGitHub(Settings(approval="auto")) as other:
        moved = config_for(github, GITHUB_API_URL=f"{github.url}/api/v4")  # another API on the same host
        store = TokenStore()
        store.save(token)
        with pytest.raises(AuthError, match="never sent to another host — run login again"):
            step3.load_token(moved, store, environ={})
        # Even a client built by mistake for the token keeps it home.
        step3.GitHubClient(config, token).session.get(f"{other.api_url}/user", timeout=10)
        assert other.counters.authorization_headers == []


def test_gh_token_wins_and_says_so(step3, github, config_for):
    config = config_for(github)
    source = step3.load_token(config, TokenStore(), environ={"GH_ENTERPRISE_TOKEN": "gho_from_env_9999"})
    assert source.description == "the GH_ENTERPRISE_TOKEN environment variable"
    assert source.token.access_token == "gho_from_env_9999"


def test_auth_object_repr_masks_the_token(step3):
    auth = step3.BearerAuth("gho_fake_only_1234", API)
    assert repr(auth) == "BearerAuth(gho_…1234)"


def test_script_prints_who_and_repositories_but_never_the_token(runner, github, config_for, token_path):
    config = config_for(github)
    token = issued(github, config)
    TokenStore(token_path).save(token)
    result = runner.point_at(github).run("3_github_request.py", "--limit", "3")
    assert result.returncode == 0, result.stderr
    assert "You are octocat" in result.stdout
    assert "octocat/project-001" in result.stdout
    assert token.access_token not in result.stdout + result.stderr
    assert str(token_path) in result.stdout


def test_script_sends_an_expired_token_to_the_next_step_which_refreshes_it(cli, expiring_github, config_for,
                                                                          token_path):
    config = config_for(expiring_github)
    token = issued(expiring_github, config)
    TokenStore(token_path).save(token._replace(expires_at=time.time() - 1))
    cli.point_at(expiring_github)
    expired = cli.script("3_github_request.py", "--limit", "1")
    assert one_clean_line(expired), expired.stderr
    assert "the access token has expired — python token_manager.py --refresh" in expired.stderr
    assert expiring_github.counters.api_requests == 0  # an expired token is never sent
    assert cli.script("token_manager.py", "--refresh").returncode == 0
    assert expiring_github.counters.refreshes == 1
    assert cli.script("3_github_request.py", "--limit", "1").returncode == 0


# -- answers that are hard to produce on purpose: mocked with responses -----------------------

@responses.activate
def test_a_short_retry_after_is_waited_out_once(mocked):
    client, sleeps = mocked
    responses.get(f"{API}/user", status=403, headers={"Retry-After": "3"}, json={"message": "secondary rate limit"})
    responses.get(f"{API}/user", json={"login": "octocat"})
    assert client.get_user()["login"] == "octocat"
    assert sleeps == [3]


@responses.activate
def test_a_long_retry_after_says_when_to_try_again(mocked):
    client, sleeps = mocked
    responses.get(f"{API}/user", status=429, headers={"Retry-After": "120"}, json={"message": "slow down"})
    with pytest.raises(AuthError, match="slow down .secondary rate limit. — try again in 120 s"):
        client.get_user()
    assert sleeps == []


@responses.activate
def test_server_errors_are_retried_with_backoff(mocked):
    client, sleeps = mocked
    responses.get(f"{API}/user", status=502, body="<html>Bad gateway</html>")
    responses.get(f"{API}/user", status=500)
    responses.get(f"{API}/user", json={"login": "octocat"})
    assert client.get_user()["login"] == "octocat"
    assert sleeps == [1.0, 2.0]


@responses.activate
def test_server_errors_end_in_a_message_after_bounded_retries(mocked):
    client, sleeps = mocked
    responses.get(f"{API}/user", status=503)
    with pytest.raises(AuthError, match="HTTP 503 for /user, even after retrying"):
        client.get_user()
    assert len(responses.calls) == 3


@responses.activate
def test_a_dead_network_says_cannot_reach(mocked):
    client, _ = mocked
    responses.get(f"{API}/user", body=requests.ConnectionError("refused"))
    with pytest.raises(AuthError, match="cannot reach api.github.com"):
        client.get_user()


@responses.activate
def test_a_timeout_says_so(mocked):
    client, _ = mocked
    responses.get(f"{API}/user", body=requests.ReadTimeout("slow"))
    with pytest.raises(AuthError, match="did not answer in time"):
        client.get_user()


@responses.activate
def test_a_next_link_to_another_host_gets_no_token(mocked):
    client, _ = mocked
    responses.get(f"{API}/user/repos", json=[{"full_name": "a/b"}],
                  headers={"Link": '<https://evil.example/user/repos?page=2>; rel="next"'})
    responses.get("https://evil.example/user/repos", json=[{"full_name": "c/d"}])
    list(client.list_repositories())
    assert "Authorization" in responses.calls[0].request.headers
    assert "Authorization" not in responses.calls[1].request.headers


@responses.activate
def test_html_instead_of_json_is_a_clear_error(mocked):
    client, _ = mocked
    responses.get(f"{API}/user", body="<html>captive portal</html>", content_type="text/html")
    with pytest.raises(AuthError, match=r"\(text/html\) with something that is not usable JSON"):
        client.get_user()


@responses.activate
def test_not_found_explains_that_github_hides_private_things(mocked):
    client, _ = mocked
    responses.get(f"{API}/user/repos", status=404, json={"message": "Not Found"})
    with pytest.raises(AuthError, match="answers 404 for private things"):
        list(client.list_repositories())


@responses.activate
def test_a_redirect_to_another_host_drops_the_token(mocked):
    client, _ = mocked
    responses.get(f"{API}/user", status=302, headers={"Location": "https://elsewhere.example/user"})
    responses.get("https://elsewhere.example/user", json={"login": "octocat"})
    client.get_user()
    assert "Authorization" in responses.calls[0].request.headers
    assert "Authorization" not in responses.calls[1].request.headers
