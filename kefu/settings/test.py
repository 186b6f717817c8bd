import os

os.environ.setdefault("KEFU_SECRET_KEY", "test-secret-key-not-for-production-0123456789")

from .base import *  # noqa: E402,F401,F403
from .base import DATABASES  # noqa: E402

# Tests hash many passwords; Argon2 stays first so the production hasher is
# exercised, with cheap parameters (see kefu.accounts.hashers).
PASSWORD_HASHERS = ["kefu.accounts.hashers.FastArgon2PasswordHasher"]
KEFU_SWEEP_SECONDS = 0.2
