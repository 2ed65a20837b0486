"""One login per host (gh's hosts model): one private file, an entry per server, --hostname on every command."""

import json

import pytest

import support.settings
from support.token import Token
from support.token_store import TokenStore
from tests.helpers.marked_stand_in import LocalGitHub, Settings
from tests.helpers import one_clean_line


@pytest.fixture(params=["github", "strict"])
def two_servers(request):
    """Two stand-ins: think github.com and a GitHub Enterprise Server."""
    strict = request.param == "strict"
    with LocalGitHub(Settings(approval="auto", strict=strict, device_interval=0)) as first, \
            LocalGitHub(Settings(approval="auto", strict=strict, login="hubot", device_interval=0)) as second:
        yield first, second


def host(server) -> str:
    return f"127.0.0.1:{server.port}"


def saved_issuers(token_path) -> list[str]:
    return sorted(json.loads(token_path.read_text())["tokens"])


def test_logging_in_to_a_second_server_keeps_the_first(cli, two_servers, token_path):
    first, second = two_servers
    assert cli.point_at(first).run("login").returncode == 0
    assert cli.point_at(second).run("login").returncode == 0
    assert saved_issuers(token_path) == sorted([first.url, second.url])
    status = cli.point_at(first).run("status")
    assert f"{host(first)} (active)" in status.stdout and "Logged in as octocat" in status.stdout
    assert f"{host(second)}\n  - Logged in as hubot" in status.stdout and f"--hostname {host(second)}" in status.stdout
    assert cli.run("repos").returncode == 0
    assert json.loads(cli.run("status", "--json").stdout)["other_hosts"] == [{"host": host(second), "user": "hubot"}]


def test_hostname_picks_the_server_on_any_command(cli, two_servers, token_path):
    first, second = two_servers
    cli.point_at(first)  # GITHUB_SERVER_URL names the first; --hostname overrides it
    assert cli.run("login").returncode == 0
    # The device flow: the first's client secret is never sent to the second, and this needs none.
    assert cli.run("login", "--device", "--hostname", host(second)).returncode == 0
    assert second.counters.token_requests == 2  # authorization_pending, then the token
    status = cli.run("status", "--hostname", host(second))
    assert "Logged in as hubot" in status.stdout
    assert cli.run("repos", "--hostname", host(second), "--json").returncode == 0


def test_logout_affects_one_host_only(cli, two_servers, token_path):
    first, second = two_servers
    cli.point_at(first).run("login")
    cli.point_at(second).run("login")
    assert cli.run("logout", "--hostname", host(second)).returncode == 0
    assert saved_issuers(token_path) == [first.url] and second.counters.revocations == 1
    assert first.counters.revocations == 0 and cli.point_at(first).run("status").returncode == 0
    assert cli.run("logout").returncode == 0 and not token_path.exists()  # the file goes with the last login


def test_a_token_from_one_host_never_reaches_the_other(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    cli.point_at(second).run("login")
    cli.point_at(first).run("repos")
    cli.point_at(second).run("repos")
    first_tokens = {header.split()[-1] for header in first.counters.authorization_headers}
    second_tokens = {header.split()[-1] for header in second.counters.authorization_headers}
    assert first_tokens and second_tokens and not first_tokens & second_tokens
    assert first_tokens <= set(first.tokens) and second_tokens <= set(second.tokens)


def test_status_on_a_server_without_a_login_names_those_with_one(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    result = cli.point_at(second).run("status")
    assert one_clean_line(result) and "you are not logged in" in result.stderr
    assert f"(logged in to {host(first)}: add --hostname HOST)" in result.stderr


def test_a_single_token_file_is_read_and_migrated_without_loss(cli, two_servers, token_path):
    first, second = two_servers
    answer = first.grant_tokens(("read:user",))
    old = Token.from_token_response(answer, issuer=first.url, resource=first.api_url)._replace(account="octocat")
    token_path.parent.mkdir(parents=True)
    token_path.write_text(json.dumps({"version": 1, **old.to_json()}))  # the layout before hosts
    assert cli.point_at(first).run("status").returncode == 0
    assert cli.point_at(second).run("login").returncode == 0  # the first save rewrites the file
    data = json.loads(token_path.read_text())
    assert data["version"] == 2 and sorted(data["tokens"]) == sorted([first.url, second.url])
    assert TokenStore(token_path, issuer=first.url).load() == old


def test_token_manager_lists_every_login(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    cli.point_at(second).run("login")
    listing = cli.script("token_manager.py").stdout
    assert f"issued by:    {first.url}" in listing and f"issued by:    {second.url}" in listing


def test_a_store_without_an_issuer_refuses_to_guess_between_several(tmp_path):
    store = TokenStore(tmp_path / "token.json")
    store.save(Token(access_token="gho_one_aaaa", issuer="https://github.com"))
    store.save(Token(access_token="gho_two_bbbb", issuer="https://ghe.example.com"))
    with pytest.raises(Exception, match="holds logins to 2 servers"):
        store.load()


@pytest.mark.parametrize("hostname, url", [("github.com", "https://github.com"),
                                           ("ghe.example.com", "https://ghe.example.com"),
                                           ("127.0.0.1:8765", "http://127.0.0.1:8765"),
                                           ("https://ghe.example.com:8443", "https://ghe.example.com:8443")])
def test_a_hostname_becomes_a_server_url(hostname, url):
    assert support.settings.server_url_for(hostname) == url


def test_a_server_url_alone_puts_the_api_under_api_v3(step1):
    env = {"GITHUB_CLIENT_ID": "Ov23liExample", "GITHUB_SERVER_URL": "https://ghe.example.com"}
    config = step1.load_config(env=env, require_secret=False)
    assert config.api_url == "https://ghe.example.com/api/v3" and config.issuer == "https://ghe.example.com/login/oauth"
