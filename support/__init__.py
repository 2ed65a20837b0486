"""The plumbing under the chapter: everything the steps need that is not OAuth itself.

Skip this package on a first read. Each chapter file says in one line *what* a defence is and
*why* it is there; the *how* (HTTP details, private files, locks, retries, terminal safety)
lives here, behind names that say what they do. This package never imports a chapter file.

    errors.py          the one error type, its step names, masking and safe terminal text
    settings.py        the OAuth app's settings, read and checked from the environment and .env
    endpoints.py       where a server's endpoints are, and its issuer: published, or GitHub's paths
    metadata.py        a server's metadata (RFC 8414), read at login, and when `iss` is required
    token.py           the token record: what a token endpoint answered, and when it expires
    token_store.py     the private token file: atomic 0600 writes, no symlinks, the lock
    token_endpoint.py  the POST to the token endpoint, read in GitHub's and RFC 6749's dialects
    loopback.py        the callback server's HTTP plumbing, the browser thread, the SSH hint
    api_http.py        REST API plumbing: headers, retries, failure messages, token variables
    revocation.py      the requests that revoke a token: RFC 7009's, or GitHub's own route
    page_cache.py      each API page's ETag, so that asking again costs no rate limit
    narration.py       what --explain says at each step
    cli.py             the command line: parser, validators, output, how a script reports errors
    demo.py            the offline demo against the stand-in
"""
