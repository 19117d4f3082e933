"""IMAGE toons: a picture at a URL.

- Normalised: `url` and `format` stripped, `format` lower-cased.
- Valid when `url` is an http(s) URL; `width` and `height`, when given, are integers in
  1..100,000; `format`, when given, is a known image format.
- Complexity by pixel count (`width * height`): LOW under 4 MP, MEDIUM under 12 MP,
  HIGH from 12 MP; LOW when the size is unknown.
- Category: MEDIA.
"""

from __future__ import annotations

from typing import Any

from toons.processing import rules

FORMATS = frozenset({"jpeg", "jpg", "png", "gif", "webp", "bmp", "tiff", "svg", "avif", "heic"})
MAX_SIDE = 100_000


class ImageType:
    """The IMAGE rules."""

    name = "IMAGE"
    category = "MEDIA"

    def normalise(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Strip the URL and format; lower-case the format."""
        return rules.stripped(payload, "url", "format", lower=("format",))

    def validate(self, payload: dict[str, Any]) -> list[str]:
        """URL, dimensions and format rules."""
        return [
            *rules.check_url(payload),
            *rules.check_positive(payload, "width", MAX_SIDE, integer=True, required=False),
            *rules.check_positive(payload, "height", MAX_SIDE, integer=True, required=False),
            *rules.check_choice(payload, "format", FORMATS),
        ]

    def complexity(self, payload: dict[str, Any]) -> str:
        """Graded by megapixels."""
        width, height = rules.number(payload, "width"), rules.number(payload, "height")
        megapixels = width * height / 1e6 if width and height else None
        return rules.grade(megapixels, medium_from=4, high_from=12)


IMAGE = ImageType()
