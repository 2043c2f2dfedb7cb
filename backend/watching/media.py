"""Sample video the app generates itself: a few short clips that stand in for every title's stream, and
trailers (previews) that guests may play. `python -m backend.watching.media` makes them under static/generated/
(served at /app/static/generated/) with imageio-ffmpeg's bundled ffmpeg: a test pattern, a title card
and a tone. Idempotent: files that exist with the current spec are kept.

A clip represents the whole running time of whatever plays, at a fixed speed-up (a 45-minute episode
plays in CLIP_SECONDS): the player reports positions scaled to the real running time (backend/watching/progress.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import database
from backend.core.settings import run_cli

STATIC_DIR = database.PROJECT_ROOT / "static"
GENERATED_DIR = STATIC_DIR / "generated"
URL_PREFIX = "app/static/generated"  # relative to the app's base URL
CLIP_SECONDS = 30
TRAILER_SECONDS = 12
CLIP_COUNT = 4
TRAILER_COUNT = 2
WIDTH, HEIGHT, FPS = 320, 180, 15
SPEC_VERSION = 2  # bump to regenerate every file


@dataclass(frozen=True)
class Media:
    name: str  # file name under static/generated/
    label: str  # the text on its title card
    seconds: int
    pattern: str  # ffmpeg source filter
    tone_hz: int

    @property
    def url(self) -> str:
        return f"{URL_PREFIX}/{self.name}"

    @property
    def path(self) -> Path:
        return GENERATED_DIR / self.name


PATTERNS = ("testsrc2", "smptebars", "testsrc", "rgbtestsrc")
CLIPS = tuple(
    Media(
        f"clip-{n}-v{SPEC_VERSION}.webm",
        f"Reelhouse sample clip {n}",
        CLIP_SECONDS,
        PATTERNS[(n - 1) % len(PATTERNS)],
        220 + 110 * n,
    )
    for n in range(1, CLIP_COUNT + 1)
)
TRAILERS = tuple(
    Media(
        f"trailer-{n}-v{SPEC_VERSION}.webm",
        f"Reelhouse trailer {n}",
        TRAILER_SECONDS,
        PATTERNS[(n + 1) % len(PATTERNS)],
        660 + 110 * n,
    )
    for n in range(1, TRAILER_COUNT + 1)
)


def clip_for(show_id: str) -> Media:
    """The sample clip that stands in for a title (the same one every time)."""
    return CLIPS[zlib.crc32(show_id.encode()) % len(CLIPS)]


def trailer_for(show_id: str) -> Media:
    return TRAILERS[zlib.crc32(f"trailer/{show_id}".encode()) % len(TRAILERS)]


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _command(media: Media, target: Path, *, with_text: bool) -> list[str]:
    video = f"{media.pattern}=size={WIDTH}x{HEIGHT}:rate={FPS}:duration={media.seconds}"
    if with_text:
        video += (
            f",drawtext=text='{media.label}':fontcolor=white:fontsize=16:box=1:boxcolor=black@0.6:"
            "x=(w-text_w)/2:y=(h-text_h)/2"
        )
    audio = f"sine=frequency={media.tone_hz}:sample_rate=24000:duration={media.seconds},volume=0.15"
    return [
        ffmpeg(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        video,
        "-f",
        "lavfi",
        "-i",
        audio,
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libvpx",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-b:v",
        "150k",
        "-g",
        str(2 * FPS),
        "-c:a",
        "libvorbis",
        "-b:a",
        "48k",
        "-shortest",
        "-f",
        "webm",
        str(target),
    ]


def generate(media: Media) -> bool:
    """Make one file unless it exists; returns whether it was made. Written to a temporary name first, so an
    interrupted run never leaves half a file under the real name."""
    if media.path.is_file() and media.path.stat().st_size > 0:
        return False
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    partial = media.path.with_name(f".{media.path.name}.{os.getpid()}.part")
    try:
        result = subprocess.run(_command(media, partial, with_text=True), capture_output=True, text=True)
        if result.returncode != 0:  # an ffmpeg without fonts: the pattern, timer-less, still works
            subprocess.run(_command(media, partial, with_text=False), capture_output=True, text=True, check=True)
        partial.replace(media.path)
    finally:
        partial.unlink(missing_ok=True)
    return True


def generate_all() -> dict:
    """Every clip and trailer; a summary of what was made."""
    started = time.perf_counter()
    everything = CLIPS + TRAILERS
    made = [m.name for m in everything if generate(m)]
    for stale in set(GENERATED_DIR.glob("*.webm")) - {m.path for m in everything}:  # an older spec's files
        stale.unlink()
    return {
        "files": len(everything),
        "generated": len(made),
        "bytes": sum(m.path.stat().st_size for m in everything),
        "directory": str(GENERATED_DIR),
        "seconds": round(time.perf_counter() - started, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.watching.media", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    summary = generate_all()
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{summary['files']} sample clips and trailers in {summary['directory']} "
            f"({summary['generated']} made now, {summary['bytes'] / 1024:.0f} KiB, {summary['seconds']} s)"
        )
    return 0


if __name__ == "__main__":
    run_cli(main)
