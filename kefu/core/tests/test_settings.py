import os
import subprocess
import sys


def test_embedded_mode_starts_on_a_fresh_checkout(tmp_path):
    """`make run` on a clean clone: the SQLite folder does not exist yet."""
    var_dir = tmp_path / "not" / "there" / "yet"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(DJANGO_SETTINGS_MODULE="kefu.settings.dev", KEFU_VAR_DIR=str(var_dir))
    done = subprocess.run(
        [sys.executable, "-m", "kefu", "migrate", "--noinput"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (var_dir / "kefu.sqlite3").is_file()
