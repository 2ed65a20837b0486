"""An authorization server nobody here wrote: Authlib's RFC 6749 server on 127.0.0.1, with its own issuer.

The interoperability tests run the chapter's own flow against it, so that "the suite passes" means
more than "our stand-in agrees with us". Authlib (https://docs.authlib.org) decides everything an
OAuth server decides: it requires `grant_type`, an identical `redirect_uri` at the exchange, a PKCE
S256 verifier and client authentication; it refuses repeated parameters; it answers errors as
RFC 6749 §5.2 says (HTTP 400 or 401, JSON) where GitHub answers HTTP 200; it rotates refresh
tokens, names itself in the callback (`iss`, RFC 9207, its IssuerParameter extension) and revokes
tokens at an RFC 7009 endpoint. Its resource protector (RFC 6750) guards /api/v3/user and
/api/v3/user/repos.

Unlike GitHub, and like django-oauth-toolkit, its issuer is `<server>/o`, its endpoints live under
/o/, it takes the client secret only as HTTP Basic (the one client authentication RFC 6749 §2.3.1
makes every server take), and it has no `DELETE /applications/{client_id}/token`: a client finds all
of this in its metadata (RFC 8414), published at the path-inserted address (§3.1) or, with
`metadata_at="appended"`, at the issuer with the well-known path appended. Its client secret holds
characters that only a correctly encoded Basic header carries (RFC 6749 §2.3.1, Appendix B).

Written here, because Authlib leaves them to the application: in-memory storage, a consent that
approves (or denies) at once, RFC 8252's any-port rule for the loopback redirect, the metadata
document, and the data the API returns.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE, DeviceAuthorizationEndpoint, DeviceCodeGrant
from authlib.oauth2.rfc8628.models import DeviceCredentialDict
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask, jsonify
from werkzeug.serving import WSGIRequestHandler, make_server

from stand_in import DEMO_CALLBACK_URL, Counters, Settings
from stand_in.rest_api import repositories
from tests.helpers.marked_stand_in import SECRET_MARKER

CLIENT_ID = "interop-client"
# Leaks show, as the stand-in's do; "%2F" and "+" survive HTTP Basic only when form-url-encoded first.
CLIENT_SECRET = f"interop-{SECRET_MARKER}-client-secret%2F+"
ISSUER_PATH = "/o"  # django-oauth-toolkit's default: the issuer is <server>/o
WELL_KNOWN_PATH = "/.well-known/oauth-authorization-server"
SCOPES = ("read:user", "repo")
TOKEN_LIFETIME_SECONDS = 28800  # GitHub's eight hours, so a token expires only when a test says so
CODE_LIFETIME_SECONDS = 600
USER = {"login": "octocat", "id": 583231, "name": "The Octocat"}


@dataclass
class Client(ClientMixin):
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    redirect_uri: str = DEMO_CALLBACK_URL

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # RFC 8252 §7.3: a loopback redirect may use any port; everything else must match exactly.
        registered, given = urlsplit(self.redirect_uri), urlsplit(redirect_uri)
        return (given.scheme, given.hostname, given.path, given.query) == (
            registered.scheme, registered.hostname, registered.path, registered.query)

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # The secret as HTTP Basic only (RFC 6749 §2.3.1), never in the form body as GitHub takes it;
        # or none at all, which only the device flow's grant and endpoint offer (RFC 8628 §3.1, §3.4).
        return method in ("client_secret_basic", "none")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token", DEVICE_CODE_GRANT_TYPE)


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float = field(default_factory=lambda: time.time() + CODE_LIFETIME_SECONDS)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_code_challenge(self) -> str | None:
        return self.code_challenge

    def get_code_challenge_method(self) -> str | None:
        return self.code_challenge_method


@dataclass
class IssuedToken(TokenMixin):
    client_id: str
    access_token: str
    refresh_token: str | None
    scope: str
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.issued_at + self.expires_in < time.time()

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> dict:
        return USER

    def get_client(self) -> Client:
        return Client()


class AuthlibGitHub:
    """Authlib with its own issuer and paths, in a thread; the same face as LocalGitHub for the tests:
    `url`, `api_url`, `issuer`, `environment()`, `counters` (token_requests, refreshes, revocations)."""

    def __init__(self, approve: bool = True, callback_issuer: str | None = None, slow_downs: int = 0,
                 metadata_at: str | None = "inserted", revocation_endpoint: bool = True,
                 names_itself: bool = True) -> None:
        self.client = Client()
        self.approve = approve
        self.slow_downs = slow_downs  # how many early polls Authlib answers slow_down (RFC 8628 §3.5)
        self.metadata_at = metadata_at  # "inserted" (RFC 8414 §3.1), "appended", or None: no metadata
        self.revocation_endpoint = revocation_endpoint  # False: no RFC 7009 endpoint, and no other way
        self.device_credentials: dict[str, DeviceCredentialDict] = {}  # by device_code
        self.device_decisions: dict[str, bool] = {}  # by user_code: approved or denied
        self.counters = Counters()
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, IssuedToken] = {}  # by access token
        self.lock = threading.Lock()
        self.app = self.create_app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.api_url = self.url + "/api/v3"
        self.issuer = self.url + ISSUER_PATH
        self.callback_issuer = callback_issuer or self.issuer  # another value plays a mix-up
        self.names_itself = names_itself  # False: callbacks carry no `iss`, though the metadata promises one
        self.token_url = self.issuer + "/token"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)

    def environment(self) -> dict[str, str]:
        return {"GITHUB_CLIENT_ID": CLIENT_ID, "GITHUB_CLIENT_SECRET": CLIENT_SECRET, "GITHUB_SERVER_URL": self.url,
                "GITHUB_ISSUER": self.issuer}

    def metadata(self) -> dict[str, object]:
        """Its RFC 8414 document: what a client needs to find everything above."""
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.token_url,
            "device_authorization_endpoint": self.issuer + "/device",
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_CODE_GRANT_TYPE],
            "code_challenge_methods_supported": ["S256"],
        }
        if self.revocation_endpoint:
            document.update(revocation_endpoint=self.issuer + "/revoke",
                            revocation_endpoint_auth_methods_supported=["client_secret_basic"])
        return document

    def __enter__(self) -> AuthlibGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self._thread.join()
        self.server.server_close()

    # -- Authlib's wiring ---------------------------------------------------------------------

    def create_app(self) -> Flask:
        app = Flask("authlib-github")
        app.config.update(OAUTH2_REFRESH_TOKEN_GENERATOR=True, OAUTH2_TOKEN_EXPIRES_IN={
            "authorization_code": TOKEN_LIFETIME_SECONDS, "refresh_token": TOKEN_LIFETIME_SECONDS})
        server = AuthorizationServer(app, query_client=self.query_client, save_token=self.save_token)
        server.register_grant(self.code_grant(), [CodeChallenge(required=True)])
        server.register_grant(self.refresh_grant())
        server.register_extension(self.issuer_parameter())
        server.register_grant(self.device_grant())
        server.register_endpoint(self.device_endpoint())
        server.register_endpoint(self.revocation())
        protect = ResourceProtector()
        protect.register_token_validator(self.bearer_validator())
        metadata_path = {"inserted": WELL_KNOWN_PATH + ISSUER_PATH, "appended": ISSUER_PATH + WELL_KNOWN_PATH}

        if self.metadata_at is not None:
            @app.get(metadata_path[self.metadata_at])
            def metadata():
                return jsonify(self.metadata())

        @app.get(ISSUER_PATH + "/authorize")
        def authorize():
            try:  # Authlib's checks: client, redirect_uri, response_type, PKCE, repeated parameters
                grant = server.get_consent_grant(end_user=USER)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            return server.create_authorization_response(grant_user=USER if self.approve else None, grant=grant)

        @app.post(ISSUER_PATH + "/token")
        def access_token():
            with self.lock:
                self.counters.token_requests += 1
            return server.create_token_response()

        @app.post(ISSUER_PATH + "/device")
        def device_code():
            return server.create_endpoint_response(DeviceAuthorizationEndpoint.ENDPOINT_NAME)

        @app.get("/api/v3/user")
        @protect()
        def user():
            return jsonify(USER)

        @app.get("/api/v3/rate_limit")
        @protect(optional=True)
        def rate_limit():
            core = {"limit": 5000, "remaining": 4999, "used": 1, "reset": 0}
            return jsonify(resources={"core": core}, rate=core)

        @app.get("/api/v3/user/repos")
        @protect()
        def user_repos():
            include_private = "repo" in current_token.get_scope().split()
            return jsonify(repositories(Settings(), self.api_url, include_private))

        if self.revocation_endpoint:
            @app.post(ISSUER_PATH + "/revoke")
            def revoke():
                return server.create_endpoint_response(RevocationEndpoint.ENDPOINT_NAME)

        return app

    def query_client(self, client_id: str) -> Client | None:
        return self.client if client_id == CLIENT_ID else None

    def save_token(self, token: dict, oauth_request) -> None:
        with self.lock:
            self.tokens[token["access_token"]] = IssuedToken(
                client_id=oauth_request.client.get_client_id(), access_token=token["access_token"],
                refresh_token=token.get("refresh_token"), scope=token.get("scope", ""),
                expires_in=token["expires_in"])
            if oauth_request.payload.grant_type == "refresh_token":
                self.counters.refreshes += 1

    def code_grant(self) -> type:
        outer = self

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

            def save_authorization_code(self, code: str, oauth_request) -> None:
                data = oauth_request.payload.data
                outer.codes[code] = AuthorizationCode(
                    code=code, client_id=oauth_request.client.get_client_id(),
                    redirect_uri=oauth_request.payload.redirect_uri, scope=oauth_request.payload.scope or "",
                    code_challenge=data.get("code_challenge"), code_challenge_method=data.get("code_challenge_method"))

            def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
                found = outer.codes.get(code)
                if found and found.client_id == client.get_client_id() and found.expires_at > time.time():
                    return found
                return None

            def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
                outer.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: AuthorizationCode) -> dict:
                return USER

        return CodeGrant

    def refresh_grant(self) -> type:
        outer = self

        class RotatingRefreshGrant(grants.RefreshTokenGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]
            INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh returns a new refresh token

            def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken | None:
                for token in outer.tokens.values():
                    if token.refresh_token == refresh_token and not token.revoked:
                        return token
                return None

            def authenticate_user(self, credential: IssuedToken) -> dict:
                return USER

            def revoke_old_credential(self, credential: IssuedToken) -> None:
                credential.revoked = True  # the old refresh token, and its access token, are spent

        return RotatingRefreshGrant

    def decide_devices(self) -> None:
        """Play the person at /login/device: approve (or deny) every code waiting."""
        for credential in list(self.device_credentials.values()):
            self.device_decisions.setdefault(credential.get_user_code(), self.approve)

    def expire_device_codes(self) -> None:
        """Let every waiting code run out, as if the person took longer than expires_in."""
        for credential in self.device_credentials.values():
            credential["expires_at"] = time.time() - 1

    def device_endpoint(self) -> DeviceAuthorizationEndpoint:
        outer = self

        class DeviceEndpoint(DeviceAuthorizationEndpoint):
            def get_verification_uri(self) -> str:
                return f"{outer.issuer}/device/verify"

            def save_device_credential(self, client_id: str, scope: str, data: dict) -> None:
                outer.device_credentials[data["device_code"]] = DeviceCredentialDict(
                    client_id=client_id, scope=scope, expires_at=time.time() + data["expires_in"], **data)

        return DeviceEndpoint(None)

    def device_grant(self) -> type:
        outer = self

        class DeviceGrant(DeviceCodeGrant):
            def query_device_credential(self, device_code: str) -> DeviceCredentialDict | None:
                return outer.device_credentials.get(device_code)

            def query_user_grant(self, user_code: str) -> tuple[dict, bool] | None:
                decision = outer.device_decisions.get(user_code)
                return None if decision is None else (USER, decision)

            def should_slow_down(self, credential: DeviceCredentialDict) -> bool:
                with outer.lock:
                    if outer.slow_downs <= 0:
                        return False
                    outer.slow_downs -= 1
                    return True

        return DeviceGrant

    def issuer_parameter(self) -> IssuerParameter:
        outer = self

        class Issuer(IssuerParameter):
            def get_issuer(self) -> str | None:
                return outer.callback_issuer if outer.names_itself else None

        return Issuer()

    def revocation(self) -> RevocationEndpoint:
        outer = self

        class Revocation(RevocationEndpoint):  # RFC 7009; its client authentication: HTTP Basic only
            def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
                return next((token for token in outer.tokens.values()
                             if token_string in (token.access_token, token.refresh_token)), None)

            def revoke_token(self, token: IssuedToken, request) -> None:
                with outer.lock:
                    if not token.revoked:
                        outer.counters.revocations += 1
                    token.revoked = True  # the access token and its refresh token: the whole grant

        return Revocation(None)

    def bearer_validator(self) -> BearerTokenValidator:
        outer = self

        class Validator(BearerTokenValidator):
            def authenticate_token(self, token_string: str) -> IssuedToken | None:
                return outer.tokens.get(token_string)

        return Validator()


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object) -> None:
        pass  # request lines carry codes: keep them out of the test output, as the tool does
