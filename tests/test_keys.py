"""Signing keys: the setting wins; otherwise one key is made in DATA_DIR, kept private and reused."""

import multiprocessing
import stat

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


def _make_key_after(barrier, results) -> None:
    barrier.wait()
    results.put(keys.signing_key(None, "some_key"))


def test_processes_starting_at_once_all_get_the_one_key(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AUTH_COOKIE_KEY", raising=False)
    # Fresh interpreters (a forked child of a pytest-xdist worker would share, and garble, its channel to the
    # controller); they read the settings from the environment set above.
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(6), spawn.Queue()
    makers = [spawn.Process(target=_make_key_after, args=(barrier, results)) for _ in range(6)]
    for maker in makers:
        maker.start()
    made = [results.get(timeout=120) for _ in makers]
    for maker in makers:
        maker.join(120)
    assert len(set(made)) == 1 and len(made[0]) >= 48
    # The one key is there and no draft is left behind (the fresh interpreters may make other files of DATA_DIR).
    assert (tmp_path / "some_key").read_text().strip() == made[0]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".some_key")]
