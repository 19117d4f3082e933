"""Realistic sample toons of every built-in type, reproducible from a seed."""

from __future__ import annotations

import random
from typing import Any

WORDS = (
    "toon", "frame", "scene", "story", "panel", "color", "light", "motion", "sound", "voice",
    "line", "shape", "sketch", "layer", "studio", "draft", "render", "cut", "pose", "hero",
)  # fmt: skip


def _image(rng: random.Random) -> dict[str, Any]:
    width, height = rng.choice([(640, 480), (1280, 720), (1920, 1080), (3840, 2160), (6000, 4000)])
    return {
        "url": f"https://cdn.example.com/img/{rng.randrange(10**6)}.jpg",
        "width": width,
        "height": height,
        "format": rng.choice(["jpeg", "png", "webp"]),
    }


def _video(rng: random.Random) -> dict[str, Any]:
    return {
        "url": f"https://cdn.example.com/vid/{rng.randrange(10**6)}.mp4",
        "duration": rng.choice([15, 45, 120, 300, 900, 3600]),
        "resolution": rng.choice(["720p", "1080p", "2160p"]),
    }


def _text(rng: random.Random) -> dict[str, Any]:
    words = rng.choice([8, 40, 250, 600])
    return {
        "content": " ".join(rng.choice(WORDS) for _ in range(words)),
        "language": rng.choice(["es", "en", "pt-br"]),
    }


MAKERS = {"IMAGE": _image, "VIDEO": _video, "TEXT": _text}


def sample_toons(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` toons cycling IMAGE, VIDEO, TEXT, with ids TOON-00001 and up."""
    rng = random.Random(seed)
    kinds = list(MAKERS)
    return [
        {"toonId": f"TOON-{n + 1:05d}", "type": kinds[n % 3], "payload": MAKERS[kinds[n % 3]](rng)}
        for n in range(count)
    ]


def sample_job(job_id: str, count: int, seed: int = 7) -> dict[str, Any]:
    """A submit body with `count` sample toons."""
    return {"jobId": job_id, "toons": sample_toons(count, seed)}
