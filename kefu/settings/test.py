import os

os.environ.setdefault("KEFU_SECRET_KEY", "test-secret-key-not-for-production-0123456789")

from .base import *  # noqa: E402,F401,F403
from .base import DATABASES  # noqa: E402

# Tests hash many passwords; Argon2 stays first so the production hasher is
# exercised, with cheap parameters (see kefu.accounts.hashers).
PASSWORD_HASHERS = ["kefu.accounts.hashers.FastArgon2PasswordHasher"]
KEFU_SWEEP_SECONDS = 0.2

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not shared-cache memory: shared-cache SQLite locks whole tables and
    # ignores the busy timeout, which is not how the embedded mode runs.
    import tempfile

    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"kefu-test-{os.getpid()}.sqlite3")
    }
