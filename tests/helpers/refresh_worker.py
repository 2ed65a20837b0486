"""One of the processes in the refresh race: waits for "go" on stdin, then asks for a valid token.

Usage: python refresh_worker.py SETTINGS_JSON TOKEN_PATH. Prints "ready", then a hash of the token
it was handed (never the token), or the one-line error.
"""

import hashlib
import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from token_manager import AuthError, TokenStore  # noqa: E402

step1 = importlib.import_module("1_authorization_url")
step3 = importlib.import_module("3_github_request")

config = step1.load_config(env=json.loads(sys.argv[1]))
manager = step3.github_token_manager(config, TokenStore(Path(sys.argv[2])))
print("ready", flush=True)
sys.stdin.readline()
try:
    token = manager.valid_token()
except AuthError as error:
    print(f"error: {error}", flush=True)
    sys.exit(1)
print(hashlib.sha256(token.access_token.encode()).hexdigest(), flush=True)
