"""One of the processes in the refresh race: waits for "go" on stdin, then asks for a valid token.

Usage: python refresh_worker.py SETTINGS_JSON TOKEN_PATH. Prints "ready", then a hash of the token
it was handed (never the token), or the one-line error.
"""

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from support.errors import AuthError  # noqa: E402
from support.settings import load_config  # noqa: E402
from support.token_store import TokenStore  # noqa: E402
import token_manager  # noqa: E402

config = load_config(env=json.loads(sys.argv[1]))
manager = token_manager.github_token_manager(config, TokenStore(Path(sys.argv[2])))
print("ready", flush=True)
sys.stdin.readline()
try:
    token = manager.valid_token()
except AuthError as error:
    print(f"error: {error}", flush=True)
    sys.exit(1)
print(hashlib.sha256(token.access_token.encode()).hexdigest(), flush=True)
