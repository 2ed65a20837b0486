"""token_manager.py: the private atomic store, proactive refresh with rotation, the lock, revocation."""

import errno
import hashlib
import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from support.errors import STEP_REFRESH, AuthError, RefreshRejected, mask
from support.token import Token
import support.token_store
from support.token_store import TokenStore
from tests.helpers import race_to_refresh
import token_manager
from token_manager import TokenManager


def token(**fields) -> Token:
    defaults = dict(access_token="gho_test_only_aaaa1111", scopes=("read:user",), issuer="https://github.com",
                    resource="https://api.github.com")
    return Token(**{**defaults, **fields})


@pytest.fixture
def store(token_path) -> TokenStore:
    return TokenStore(token_path)


# -- the token value -------------------------------------------------------------------------

def test_expires_in_becomes_an_absolute_deadline_even_as_a_string():
    received = Token.from_token_response(
        {"access_token": "gho_x_aaaa1111", "expires_in": "28800", "refresh_token": "ghr_y_bbbb2222",
         "refresh_token_expires_in": 15897600, "scope": "repo,gist"}, issuer="i", resource="r", now=1000.0)
    assert received.expires_at == 29800.0
    assert received.refresh_token_expires_at == 1000.0 + 15897600
    assert received.scopes == ("repo", "gist")


def test_an_unreadable_lifetime_is_refused():
    with pytest.raises(ValueError, match="expires_in"):
        Token.from_token_response({"access_token": "a", "expires_in": "soon"}, issuer="i", resource="r")


def test_repr_and_str_never_show_a_secret():
    value = token(refresh_token="ghr_secret_refresh_zzzz")
    for text in (repr(value), str(value), f"{value}"):
        assert "gho_test_only_aaaa1111" not in text
        assert "ghr_secret_refresh_zzzz" not in text
        assert "gho_…1111" in text


def test_mask_keeps_the_type_tag_and_four_characters():
    assert mask("gho_fakeExample12345a1b2") == "gho_…a1b2"
    assert mask("gho_abc_fakeExample9z8y") == "gho_…9z8y"  # only the type tag, never more
    assert mask("ab_cdefghijklmnopq", show_prefix=False) == "…nopq"
    assert mask(None) == "(none)"
    assert mask("tiny") == "…"


# -- the store -------------------------------------------------------------------------------

def test_token_file_is_private_from_the_start(store, monkeypatch):
    modes = []
    real_replace = os.replace

    def watching_replace(source, destination):
        modes.append(stat.S_IMODE(os.stat(source).st_mode))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", watching_replace)
    store.save(token())
    assert modes == [0o600]  # private before it ever carries the token's name
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700


def test_save_and_load_round_trip(store):
    original = token(expires_at=123.5, refresh_token="ghr_r_cccc3333", account="octocat")
    store.save(original)
    assert store.load() == original


def test_a_failed_write_keeps_the_previous_file(store, monkeypatch):
    store.save(token(access_token="gho_first_dddd4444"))
    before = store.path.read_bytes()

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(AuthError) as caught:
        store.save(token(access_token="gho_second_eeee5555"))
    assert "No space left on device" in str(caught.value)
    assert "previous file is unchanged" in str(caught.value)
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["token.json"]  # no temporary left over


def test_a_symlink_at_the_token_path_is_refused(store, tmp_path):
    elsewhere = tmp_path / "planted.json"
    elsewhere.write_text(json.dumps(token(access_token="gho_attacker_ffff6666").to_json()))
    store.path.parent.mkdir(parents=True)
    store.path.symlink_to(elsewhere)
    with pytest.raises(AuthError, match="symbolic link"):
        store.load()


def test_a_symlink_swapped_in_after_the_check_is_not_followed(store, tmp_path, monkeypatch):
    planted = tmp_path / "planted.json"
    attacker = token(access_token="gho_attacker_ffff6666")
    planted.write_text(json.dumps({"version": 2, "tokens": {attacker.issuer: attacker.to_json()}}))
    store.path.parent.mkdir(parents=True)
    store.path.symlink_to(planted)
    real_lstat = os.lstat
    # The check sees a regular file: another local user swaps the link in between the check and the open.
    monkeypatch.setattr(os, "lstat", lambda path, *args, **kwargs: real_lstat(planted) if Path(path) == store.path
                        else real_lstat(path, *args, **kwargs))
    with pytest.raises(AuthError, match="cannot be read"):
        store.load()


@pytest.mark.parametrize("content, reason", [
    ("{not json", "damaged"),
    ("", "damaged"),
    ("[]", "does not hold a JSON object"),
    ('{"version": 1, "access_token": 42}', "access_token is missing"),
    ('{"version": 2, "tokens": []}', "tokens is not an object"),
    (b"\xff\xfe", "is not text"),
])
def test_a_damaged_file_says_log_in_again(store, content, reason):
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(AuthError) as caught:
        store.load()
    assert reason in str(caught.value)
    assert "run login again" in str(caught.value)


def test_wrong_types_inside_an_otherwise_good_file(store):
    data = token().to_json()
    data["expires_at"] = "tomorrow"
    store.path.parent.mkdir(parents=True)
    store.path.write_text(json.dumps({"version": 2, "tokens": {"": data}}))
    with pytest.raises(AuthError, match="expires_at is not a number"):
        store.load()


def test_a_directory_in_place_of_the_file(store):
    store.path.mkdir(parents=True)
    with pytest.raises(AuthError, match="not a regular file"):
        store.load()
    with pytest.raises(AuthError, match="could not be written"):
        store.save(token())


def test_an_unreadable_file(store, monkeypatch):
    store.save(token())
    real_open = os.open

    def permission_denied(path, flags, *args):
        if Path(path) == store.path:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", permission_denied)  # root reads any file, so pretend
    with pytest.raises(AuthError, match="cannot be read .Permission denied."):
        store.load()


def test_no_file_means_not_logged_in(store):
    assert store.load() is None
    with pytest.raises(AuthError, match="not logged in"):
        TokenManager(store).valid_token()


# -- refresh, with a fake provider -------------------------------------------------------------

class FakeProvider:
    def __init__(self, failure=None):
        self.calls, self.failure = [], failure

    def __call__(self, old: Token) -> Token:
        self.calls.append(old.refresh_token)
        if self.failure:
            raise self.failure
        n = len(self.calls)
        return token(access_token=f"gho_new_{n}_gggg7777", refresh_token=f"ghr_new_{n}_hhhh8888",
                     expires_at=time.time() + 28800)


def test_a_token_outside_the_margin_is_used_as_it_is(store):
    provider = FakeProvider()
    store.save(token(expires_at=time.time() + 120, refresh_token="ghr_old_iiii9999"))
    assert TokenManager(store, refresh=provider, margin=60).valid_token().access_token == "gho_test_only_aaaa1111"
    assert provider.calls == []


def test_a_token_inside_the_margin_is_refreshed_first(store):
    provider = FakeProvider()
    store.save(token(expires_at=time.time() + 30, refresh_token="ghr_old_iiii9999"))
    fresh = TokenManager(store, refresh=provider, margin=60).valid_token()
    assert provider.calls == ["ghr_old_iiii9999"]
    assert fresh.access_token == "gho_new_1_gggg7777"
    assert store.load().refresh_token == "ghr_new_1_hhhh8888"  # the rotated pair was saved


def test_a_token_without_expiry_is_never_refreshed(store):
    provider = FakeProvider()
    store.save(token(refresh_token="ghr_old_iiii9999"))
    TokenManager(store, refresh=provider).valid_token()
    assert provider.calls == []


def test_an_expired_token_without_refresh_token_says_log_in_again(store):
    store.save(token(expires_at=time.time() - 1))
    with pytest.raises(AuthError, match="cannot be refreshed — run login again"):
        TokenManager(store, refresh=FakeProvider()).valid_token()


def test_a_rejected_refresh_clears_an_expired_token(store):
    store.save(token(expires_at=time.time() - 1, refresh_token="ghr_dead_jjjj0000"))
    provider = FakeProvider(RefreshRejected(STEP_REFRESH, "GitHub says bad_refresh_token"))
    with pytest.raises(AuthError, match="run login again"):
        TokenManager(store, refresh=provider).valid_token()
    assert not store.path.exists()


def test_a_rejected_refresh_keeps_a_still_valid_token_but_never_resends_the_dead_refresh_token(store):
    store.save(token(expires_at=time.time() + 30, refresh_token="ghr_dead_jjjj0000"))
    provider = FakeProvider(RefreshRejected(STEP_REFRESH, "GitHub says bad_refresh_token"))
    manager = TokenManager(store, refresh=provider, margin=60)
    assert manager.valid_token().access_token == "gho_test_only_aaaa1111"
    assert manager.valid_token().access_token == "gho_test_only_aaaa1111"
    assert provider.calls == ["ghr_dead_jjjj0000"]  # sent once, never again
    assert store.load().refresh_token is None


def test_a_network_error_during_refresh_keeps_the_file(store):
    store.save(token(expires_at=time.time() - 1, refresh_token="ghr_old_iiii9999"))
    before = store.path.read_bytes()
    provider = FakeProvider(AuthError(STEP_REFRESH, "cannot reach github.com"))
    with pytest.raises(AuthError, match="cannot reach"):
        TokenManager(store, refresh=provider).valid_token()
    assert store.path.read_bytes() == before


# -- the Windows lock, played on any system -----------------------------------------------------

class FakeMsvcrt:
    """Windows' msvcrt.locking as its docs describe it: LK_LOCK tries ten times, a second apart, then
    raises EDEADLOCK. It notes each call, and whether the file was still open then."""
    LK_LOCK, LK_UNLCK = 1, 0

    def __init__(self, refusals: int, error: int = errno.EDEADLOCK) -> None:
        self.refusals, self.error, self.calls = refusals, error, []

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        self.calls.append(("lock" if mode == self.LK_LOCK else "unlock", nbytes, is_open(fd)))
        if mode == self.LK_LOCK and self.refusals:
            self.refusals -= 1
            raise OSError(self.error, os.strerror(self.error))


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


class WindowsOs:
    """The os module as token_manager would see it on Windows; the rest of Python (pathlib, pytest)
    keeps seeing the real system."""
    name = "nt"

    def __getattr__(self, attribute: str):
        return getattr(os, attribute)


def hold_lock_as_windows(monkeypatch, msvcrt: FakeMsvcrt, path: Path) -> list:
    monkeypatch.setitem(sys.modules, "msvcrt", msvcrt)
    monkeypatch.setattr(support.token_store, "os", WindowsOs())
    with support.token_store._exclusive_lock(path):
        msvcrt.calls.append("held")
    return msvcrt.calls


def test_the_windows_lock_waits_past_lk_locks_ten_tries_and_unlocks_before_closing(tmp_path, monkeypatch):
    # A refresh over a slow network can hold the lock for longer than LK_LOCK's ten seconds.
    calls = hold_lock_as_windows(monkeypatch, FakeMsvcrt(refusals=2), tmp_path / "token.json.lock")
    assert calls == [("lock", 1, True)] * 3 + ["held", ("unlock", 1, True)]


def test_the_windows_lock_does_not_hide_other_errors(tmp_path, monkeypatch):
    with pytest.raises(OSError) as raised:
        hold_lock_as_windows(monkeypatch, FakeMsvcrt(refusals=1, error=errno.EACCES), tmp_path / "token.json.lock")
    assert raised.value.errno == errno.EACCES


class SharingViolations(WindowsOs):
    """os on Windows while a reader holds token.json open: os.replace over it fails `times` times."""

    def __init__(self, times: int) -> None:
        self.times = times

    def replace(self, source, destination) -> None:
        if self.times:
            self.times -= 1
            raise PermissionError(errno.EACCES, "The process cannot access the file because it is being used by "
                                  "another process")
        os.replace(source, destination)


def test_a_save_on_windows_waits_out_a_reader_that_holds_the_file_open(store, monkeypatch):
    # Right after a rotating refresh: the old refresh token is spent, so the new pair must be kept.
    store.save(token(access_token="gho_before_aaaa1111"))
    pauses = []
    monkeypatch.setattr(support.token_store, "os", SharingViolations(times=3))
    monkeypatch.setattr(support.token_store, "time", type("Clock", (), {"sleep": staticmethod(pauses.append)}))
    store.save(token(access_token="gho_rotated_bbbb2222", refresh_token="ghr_rotated_cccc3333"))
    assert store.load().refresh_token == "ghr_rotated_cccc3333"
    assert pauses == [0.01, 0.02, 0.05]  # a short back-off, not a wait for a server


def test_a_save_on_windows_gives_up_after_its_back_off_and_keeps_the_previous_file(store, monkeypatch):
    store.save(token(access_token="gho_before_aaaa1111"))
    before = store.path.read_bytes()
    pauses = []
    monkeypatch.setattr(support.token_store, "os", SharingViolations(times=100))
    monkeypatch.setattr(support.token_store, "time", type("Clock", (), {"sleep": staticmethod(pauses.append)}))
    with pytest.raises(AuthError, match="could not be written"):
        store.save(token(access_token="gho_rotated_bbbb2222"))
    assert store.path.read_bytes() == before
    assert sum(pauses) < 2


def test_elsewhere_a_refused_replace_is_not_retried(store, monkeypatch):
    store.save(token(access_token="gho_before_aaaa1111"))
    calls = []

    def refused(source, destination):
        calls.append(destination)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(AuthError, match="Permission denied"):
        store.save(token(access_token="gho_rotated_bbbb2222"))
    assert len(calls) == 1


# -- refresh against the local GitHub in its expiring mode -----------------------------------

def saved_expired(expiring_github, config, store) -> dict:
    answer = expiring_github.grant_tokens(("read:user",))
    received = Token.from_token_response(answer, issuer=config.server_url, resource=config.api_url)
    store.save(received._replace(expires_at=time.time() - 5))
    return answer


def test_refresh_rotates_and_saves_the_new_pair(step3, expiring_github, config_for, store):
    config = config_for(expiring_github)
    answer = saved_expired(expiring_github, config, store)
    fresh = token_manager.github_token_manager(config, store).valid_token()
    assert fresh.access_token != answer["access_token"]
    assert fresh.access_token in expiring_github.tokens
    assert store.load().refresh_token == fresh.refresh_token != answer["refresh_token"]
    assert answer["access_token"] not in expiring_github.tokens  # the old access token stopped working
    assert expiring_github.counters.refreshes == 1


def test_a_reused_refresh_token_is_bad_refresh_token(step3, expiring_github, config_for, store):
    config = config_for(expiring_github)
    saved_expired(expiring_github, config, store)
    old = store.load()
    token_manager.github_token_manager(config, store).valid_token()
    with pytest.raises(RefreshRejected, match="bad_refresh_token"):
        token_manager.refresh_github_token(config)(old)


def test_a_string_expires_in_from_github_is_understood(step3, config_for, store):
    from tests.helpers.marked_stand_in import LocalGitHub, Settings

    with LocalGitHub(Settings(expiring=True, lifetimes_as_strings=True)) as github:
        config = config_for(github)
        answer = saved_expired(github, config, store)
        assert isinstance(answer["expires_in"], str)
        fresh = token_manager.github_token_manager(config, store).valid_token()
    assert fresh.expires_at == pytest.approx(time.time() + 28800, abs=60)


def test_an_unknown_refresh_token_clears_the_file(step3, expiring_github, config_for, store):
    config = config_for(expiring_github)
    store.save(token(issuer=config.server_url, resource=config.api_url, expires_at=time.time() - 1,
                     refresh_token="ghr_never_issued_kkkk"))
    with pytest.raises(AuthError, match="bad_refresh_token.*run login again"):
        token_manager.github_token_manager(config, store).valid_token()
    assert store.load() is None


def test_a_dead_network_during_refresh_keeps_the_file(step3, expiring_github, config_for, store):
    config = config_for(expiring_github)
    saved_expired(expiring_github, config, store)
    before = store.path.read_bytes()
    expiring_github.stop()  # nothing listens any more: connection refused
    with pytest.raises(AuthError, match="cannot reach"):
        token_manager.github_token_manager(config, store).valid_token()
    assert store.path.read_bytes() == before


def test_eight_processes_refresh_once(expiring_github, config_for, store):
    config = config_for(expiring_github)
    saved_expired(expiring_github, config, store)
    handed_out = race_to_refresh(expiring_github.environment(), store.path)
    assert handed_out == {hashlib.sha256(store.load().access_token.encode()).hexdigest()}
    assert expiring_github.counters.refreshes == 1


# -- revocation and logout -------------------------------------------------------------------

def test_logout_revokes_at_github_then_deletes(step3, github, config_for, store):
    config = config_for(github)
    answer = github.grant_tokens(("read:user",))
    store.save(Token.from_token_response(answer, issuer=config.server_url, resource=config.api_url))
    result = token_manager.github_token_manager(config, store).logout()
    assert (result.had_token, result.revoked) == (True, True)
    assert answer["access_token"] not in github.tokens
    assert github.counters.revocations == 1
    assert not store.path.exists()


def test_revoking_an_already_invalid_token_counts_as_revoked(step3, github, config_for, store):
    config = config_for(github)
    store.save(token(issuer=config.server_url, resource=config.api_url, access_token="gho_unknown_llll"))
    assert token_manager.github_token_manager(config, store).logout().revoked


def test_logout_offline_deletes_locally_and_says_it_is_still_valid(step3, github, config_for, store):
    config = config_for(github)
    store.save(token(issuer=config.server_url, resource=config.api_url))
    github.stop()
    result = token_manager.github_token_manager(config, store).logout()
    assert (result.had_token, result.revoked) == (True, False)
    assert result.problem == f"cannot reach {github.url.removeprefix('http://')}"  # why; the caller says where
    assert support.token_store.revocation_page(result.token) == f"{config.server_url}/settings/applications"
    assert not store.path.exists()


def test_logout_removes_a_damaged_file(store):
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{damaged")
    result = TokenManager(store).logout()
    assert result.had_token
    assert not result.revoked
    assert not store.path.exists()


def test_status_script_shows_the_token_masked(runner, token_path):
    TokenStore(token_path).save(token(expires_at=time.time() + 3600, refresh_token="ghr_r_mmmm"))
    result = runner.run("token_manager.py")
    assert result.returncode == 0, result.stderr
    assert "gho_…1111" in result.stdout
    assert "expires in" in result.stdout
    assert "refreshable:  yes" in result.stdout
    assert "gho_test_only_aaaa1111" not in result.stdout
    assert "ghr_r_mmmm" not in result.stdout


def test_status_script_forces_a_refresh(cli, expiring_github, config_for, token_path):
    config = config_for(expiring_github)
    answer = saved_expired(expiring_github, config, TokenStore(token_path))
    result = cli.point_at(expiring_github).script("token_manager.py", "--refresh")
    assert result.returncode == 0, result.stderr
    assert "Refreshed: a new access token" in result.stdout
    assert expiring_github.counters.refreshes == 1
    assert answer["refresh_token"] not in result.stdout
