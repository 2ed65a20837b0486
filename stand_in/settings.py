"""What the stand-in of GitHub can be told (Settings), what it counts (Counters), and its constants.

Use:  Settings(approval="auto", expiring=True) or any other field, then LocalGitHub(settings).
Every default is github.com's behaviour for an OAuth app registered with DEMO_CALLBACK_URL; each
field that departs from it names what it plays (GitHub Enterprise Server, Gitea, a GitHub App).
Watch for: `secret_marker`. Empty by default, so a reader sees plain values; a test sets it, and
then every token, refresh token, code, device code and the client secret carries it, so that
finding the marker in any output proves a leak.

This module imports nothing else of the stand-in: every other module may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEMO_CLIENT_ID = "Ov23liLocalStandIn"  # a client ID is public: printed as it is
DEMO_CLIENT_SECRET = "local-stand-in-client-secret"  # fake and printed openly: it guards nothing
# The callback URL the app is registered with: a loopback address with no port, so that a client
# may listen on any port (RFC 8252 §7.3; "Loopback redirect urls" in
# https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps).
DEMO_CALLBACK_URL = "http://127.0.0.1/callback"
DEFAULT_PORT = 8765  # the port the chapter's text and README name
RATE_LIMIT_PER_HOUR = 5000  # GitHub's primary rate limit for a user's token
ACCESS_TOKEN_LIFETIME_SECONDS = 28800  # 8 hours, GitHub's lifetime for expiring user tokens
DEVICE_CODE_LIFETIME_SECONDS = 900  # "the user must enter the code within 15 minutes"
DEVICE_POLL_INTERVAL_SECONDS = 5  # GitHub's minimum `interval` between device-flow polls
OWN_ISSUER = "own"  # Settings.issuer: name this server, as github.com names itself


def client_secret_with(marker: str) -> str:
    """The demo app's secret, carrying the test marker when one is set."""
    return DEMO_CLIENT_SECRET.replace("-client-", f"-{marker}-client-") if marker else DEMO_CLIENT_SECRET


@dataclass
class Settings:
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = ""  # empty: DEMO_CLIENT_SECRET, with secret_marker in it when set
    callback_url: str = DEMO_CALLBACK_URL
    approval: str = "ask"  # "ask" shows a consent page; "auto" approves; "deny" cancels
    expiring: bool = False  # GitHub App style: expires_in and a rotating refresh token
    expires_in: int = ACCESS_TOKEN_LIFETIME_SECONDS
    lifetimes_as_strings: bool = False  # as GitHub's 2020 announcement showed them
    strict: bool = False  # refuse what RFC 6749/7636 require and GitHub forgives (stand_in/oauth.py)
    offline_access: bool = True  # False: ignore that scope, as GitHub Enterprise Server before 3.23 does
    device_flow: bool = True  # the app's "Enable Device Flow" box (stand_in/device.py)
    device_interval: int = DEVICE_POLL_INTERVAL_SECONDS  # tests set 0 so that nobody waits
    device_expires_in: int = DEVICE_CODE_LIFETIME_SECONDS
    # The callback's `iss`: OWN_ISSUER as github.com does; None for none, as older GitHub Enterprise
    # Server and Gitea; any other text to impersonate another server (a mix-up, for tests).
    issuer: str | None = OWN_ISSUER
    # Its metadata (RFC 8414) at /.well-known/oauth-authorization-server/login/oauth, as github.com
    # publishes it; False for a server that publishes none, so that a client must use GitHub's paths.
    publishes_metadata: bool = True
    login: str = "octocat"
    repo_count: int = 7
    # Tests only, to play a hostile server: fields every repository carries in place of its own
    # (a description with escape sequences, a star count that is text), and the device page it names.
    repo_fields: dict[str, object] = field(default_factory=dict)
    verification_uri: str | None = None  # None: its own /login/device, as GitHub names its own
    rate_limit: int = RATE_LIMIT_PER_HOUR
    clock_skew_seconds: int = 0  # how far the API's Date header is from this machine's clock
    # Tests only: a word put into every secret issued here, so that finding it anywhere is a leak.
    # Real GitHub tokens are opaque random strings, and so are this stand-in's by default.
    secret_marker: str = ""

    def __post_init__(self) -> None:
        if not self.client_secret:
            self.client_secret = client_secret_with(self.secret_marker)


@dataclass
class Counters:
    """What the stand-in saw, for tests to assert on."""

    token_requests: int = 0
    refreshes: int = 0
    api_requests: int = 0
    connections: int = 0
    revocations: int = 0
    not_modified: int = 0  # API answers 304: they cost no rate limit
    metadata_requests: int = 0  # GET of the metadata document (RFC 8414)
    authorization_headers: list[str] = field(default_factory=list)
    secrets_seen: set[str] = field(default_factory=set)  # issued or received: codes, tokens, verifiers
