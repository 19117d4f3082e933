"""VIDEO toons: a clip at a URL.

- Normalised: `url` and `resolution` stripped, `resolution` lower-cased (`1080P` -> `1080p`).
- Valid when `url` is an http(s) URL and `duration` is a number of seconds in
  (0, 86,400]; `resolution`, when given, is one of the known names.
- Complexity by duration: LOW under 60 s, MEDIUM under 600 s, HIGH from 600 s.
- Category: MEDIA.
"""

from __future__ import annotations

from typing import Any

from toons.processing import rules

RESOLUTIONS = frozenset({"240p", "360p", "480p", "720p", "1080p", "1440p", "2160p", "4k", "8k"})
MAX_DURATION_S = 86_400


class VideoType:
    """The VIDEO rules."""

    name = "VIDEO"
    category = "MEDIA"

    def normalise(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Strip the URL and resolution; lower-case the resolution."""
        return rules.stripped(payload, "url", "resolution", lower=("resolution",))

    def validate(self, payload: dict[str, Any]) -> list[str]:
        """URL, duration and resolution rules."""
        return [
            *rules.check_url(payload),
            *rules.check_positive(
                payload, "duration", MAX_DURATION_S, integer=False, required=True
            ),
            *rules.check_choice(payload, "resolution", RESOLUTIONS),
        ]

    def complexity(self, payload: dict[str, Any]) -> str:
        """Graded by duration in seconds."""
        return rules.grade(rules.number(payload, "duration"), medium_from=60, high_from=600)


VIDEO = VideoType()
