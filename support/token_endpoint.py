"""The client of the token endpoint: one POST, and the answer read in whichever dialect it comes.

Step 2 trades the code for a token here, the device flow polls here, and the token manager trades
a refresh token for a new pair here. Watch for: the answer's body decides, never the status alone
(GitHub reports errors with HTTP 200, servers that follow RFC 6749 §5.2 with 400); redirects are
never followed, because one could carry the client secret elsewhere; every request has a timeout.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

try:
    import requests
except ModuleNotFoundError as missing:  # a fresh checkout, before `pip install -r requirements.txt`
    raise SystemExit(f"{missing.name} is not installed — run: pip install -r requirements.txt") from None

from support.errors import AuthError, safe_text
from support.settings import OAuthConfig
from support.token import Token

# (connect, read) for every request: a dead network must end in a message, not a hang.
HTTP_TIMEOUT_SECONDS = (10, 30)
USER_AGENT = "dev-github-tool (OAuth chapter companion)"

# The error codes a callback can carry from the authorization endpoint (RFC 6749 §4.1.2.1, and
# GitHub's "Troubleshooting authorization request errors"), each with what a person should do.
CALLBACK_ERROR_FIXES = {
    "access_denied": "you declined the request on GitHub — run login again and choose Authorize",
    "redirect_uri_mismatch": "the redirect URI is not one the app allows — set the app's "
                             "Authorization callback URL to http://127.0.0.1/callback",
    "application_suspended": "the OAuth app is suspended — its owner must contact GitHub support",
}
# The token endpoint's error codes, each with what a person should do about it: GitHub's own,
# then RFC 6749 §5.2's, which servers that follow the RFC (Gitea, Forgejo, Authlib) answer instead.
TOKEN_ERROR_FIXES = {
    "bad_verification_code": "the code expired (codes last 10 minutes), was already used, or does "
                             "not match the PKCE verifier — run login again",
    "incorrect_client_credentials": "GITHUB_CLIENT_ID or GITHUB_CLIENT_SECRET is wrong — copy both "
                                    "again from your OAuth app's page into .env",
    "Not Found": "no OAuth app has this GITHUB_CLIENT_ID — copy the Client ID again from your OAuth app's page",
    "redirect_uri_mismatch": "the redirect URI is not one the app allows — set the app's "
                             "Authorization callback URL to http://127.0.0.1/callback",
    "unverified_user_email": "your GitHub account has no verified primary email — verify it at "
                             "https://github.com/settings/emails, then log in again",
    "bad_refresh_token": "the refresh token expired or was already used — run login again",
    "unsupported_grant_type": "the server does not accept this kind of request — check GITHUB_SERVER_URL",
    "invalid_grant": "the code or refresh token is expired, already used, or does not match the redirect "
                     "URI or the PKCE verifier — run login again",
    "invalid_client": "GITHUB_CLIENT_ID or GITHUB_CLIENT_SECRET is wrong — copy both again from your "
                      "OAuth app's page into .env",
    "invalid_request": "the server refused the request as malformed — check GITHUB_SERVER_URL, and "
                       "report it if it persists",
    "unauthorized_client": "this app may not use this kind of sign-in — check the app's settings on the server",
    "invalid_scope": "the server does not know a scope that was asked for — check GITHUB_SCOPES",
}


def server_name(url: str) -> str:
    """How messages name a server: "GitHub" for github.com, else its host, so that an error from
    a GitHub Enterprise Server or another authorization server is not blamed on github.com."""
    host = urlsplit(url).netloc
    return "GitHub" if host in ("github.com", "api.github.com") else host


class TokenEndpointError(AuthError):
    """The server answered with an `error` code (kept in `.code`, and the whole answer in `.fields`,
    for callers to test: the device flow reads a new `interval` from a `slow_down`)."""

    def __init__(self, step: str, server: str, code: str, fix: str, fields: dict[str, object]) -> None:
        super().__init__(step, f"{server} says {code}: {fix}")
        self.server = server
        self.code = code
        self.fields = fields


def token_endpoint_error(fields: dict[str, object], step: str, server: str) -> TokenEndpointError:
    code = safe_text(fields.get("error"), 60)
    fix = TOKEN_ERROR_FIXES.get(code)
    if fix is None:
        description = safe_text(fields.get("error_description"), 160)
        fix = f"{description} — check the settings in .env and try again" if description else "try again"
    return TokenEndpointError(step, server, code, fix, fields)


def read_token_endpoint_answer(response: requests.Response, step: str) -> dict[str, object]:
    """Read a token answer, success or error, whatever the dialect.

    GitHub answers form-encoded unless asked for JSON and reports errors with HTTP 200; servers
    that follow RFC 6749 §5.2 (Gitea, Authlib) report them with HTTP 400 or 401 and JSON.
    """
    host = urlsplit(response.url).netloc
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    fields: object = None
    if content_type == "application/json":
        try:
            fields = response.json()
        except ValueError:
            pass
    elif content_type == "application/x-www-form-urlencoded":
        fields = {name: values[0] for name, values in parse_qs(response.text).items()}
    if not isinstance(fields, dict):
        raise AuthError(step, f"{host} answered HTTP {response.status_code} ({content_type or 'no content type'}) "
                        "without a usable token answer — check GITHUB_SERVER_URL (a proxy or a captive portal "
                        "may be in the way) and try again")
    # Never trust the status code alone: the body decides (GitHub sends errors with 200).
    if "error" in fields:
        raise token_endpoint_error(fields, step, server_name(response.url))
    if response.status_code >= 400:
        raise AuthError(step, f"{host} answered HTTP {response.status_code} — GitHub or a proxy is having "
                        "trouble; try again later")
    return fields


def what_went_wrong(error: requests.RequestException, host: str) -> tuple[str, str]:
    """For a request that got no complete answer: what happened, and the usual fix."""
    if isinstance(error, requests.Timeout):
        return f"{host} did not answer in time", "check your network and try again"
    if isinstance(error, requests.ConnectionError):
        return f"cannot reach {host}", "check your network and the URL settings in .env"
    return f"the answer from {host} broke off halfway", "try again"


def network_failure(error: requests.RequestException, host: str, step: str, fix: str | None = None) -> AuthError:
    """One line for a request that got no complete answer: what happened and what to do."""
    what, usual_fix = what_went_wrong(error, host)
    return AuthError(step, f"{what} — {fix or usual_fix}")


def post_to_token_endpoint(config: OAuthConfig, form: dict[str, str], step: str,
                           with_secret: bool = True) -> dict[str, object]:
    """POST to the token endpoint, the one request that carries the client secret (the device
    flow's polls carry none: `with_secret=False`)."""
    credentials = {"client_id": config.client_id}
    if with_secret:
        credentials["client_secret"] = config.client_secret
    return post_form(config.token_url, {**credentials, **form}, step)


def post_form(url: str, form: dict[str, str], step: str) -> dict[str, object]:
    """POST a form to one of the authorization server's endpoints and read its answer."""
    host = urlsplit(url).netloc
    try:
        response = requests.post(
            url,
            data=form,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=HTTP_TIMEOUT_SECONDS,
            # A redirect could carry the secret and the code to another host (307 keeps the body).
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise network_failure(error, host, step) from error
    if response.is_redirect:
        raise AuthError(step, f"{host} redirected the token request elsewhere — check GITHUB_SERVER_URL")
    return read_token_endpoint_answer(response, step)


def token_from_fields(config: OAuthConfig, fields: dict[str, object], step: str) -> Token:
    try:
        return Token.from_token_response(fields, issuer=config.server_url, resource=config.api_url)
    except ValueError as error:
        raise AuthError(step, f"the answer from {config.server_url} is not usable ({error}) — try again") from error
