"""Signing keys: the setting wins; otherwise one key is made in DATA_DIR, kept private and reused."""

import stat
import subprocess
import sys
from pathlib import Path

from backend.core import keys
from backend.core.settings import get_settings


def test_the_setting_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AUTH_COOKIE_KEY", "from-the-environment")
    assert keys.signing_key(get_settings().auth_cookie_key, "some_key") == "from-the-environment"
    assert not (tmp_path / "some_key").exists()


def test_a_key_is_made_once_readable_by_its_owner_only(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("AUTH_COOKIE_KEY", raising=False)
    first = keys.signing_key(get_settings().auth_cookie_key, "some_key")
    assert len(first) >= 48 and keys.signing_key(None, "some_key") == first
    assert stat.S_IMODE((tmp_path / "data" / "some_key").stat().st_mode) == 0o600
    assert keys.signing_key(None, "other_key") != first


_MAKER = """
import sys
from backend.core import keys
print("ready", flush=True)
sys.stdin.readline()
print(keys.signing_key(None, "some_key"), flush=True)
"""


def test_processes_starting_at_once_all_get_the_one_key(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AUTH_COOKIE_KEY", raising=False)
    # Fresh interpreters, not multiprocessing: a forked child of a pytest-xdist worker would garble its channel to
    # the controller, and a spawned one re-runs whatever script an AppTest last left as __main__.
    root = Path(__file__).resolve().parent.parent
    makers = [
        subprocess.Popen(
            [sys.executable, "-c", _MAKER], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    for maker in makers:  # every interpreter has imported the code and waits for the word
        assert maker.stdout.readline().strip() == "ready"
    for maker in makers:
        maker.stdin.write("go\n")
        maker.stdin.flush()
    made = [maker.communicate(timeout=120)[0].strip() for maker in makers]
    assert [maker.returncode for maker in makers] == [0] * 6
    assert len(set(made)) == 1 and len(made[0]) >= 48
    # The one key is there and no draft is left behind (the fresh interpreters may make other files of DATA_DIR).
    assert (tmp_path / "some_key").read_text().strip() == made[0]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".some_key")]
