r"""TEXT toons: a piece of writing carried in the payload.

- Normalised: `content` in Unicode NFC with `\r\n` turned into `\n` and the ends
  stripped; `language` stripped and lower-cased.
- Valid when `content` is a non-empty string; `language`, when given, looks like a
  BCP 47 tag (`es`, `en-us`).
- Complexity by word count: LOW under 200 words, MEDIUM under 2,000, HIGH from 2,000.
- Category: CONTENT.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from toons.processing import rules

LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")


class TextType:
    """The TEXT rules."""

    name = "TEXT"
    category = "CONTENT"

    def normalise(self, payload: dict[str, Any]) -> dict[str, Any]:
        """NFC content with Unix line ends; a stripped, lower-case language."""
        result = rules.stripped(payload, "language", lower=("language",))
        content = result.get("content")
        if isinstance(content, str):
            result["content"] = unicodedata.normalize("NFC", content.replace("\r\n", "\n")).strip()
        return result

    def validate(self, payload: dict[str, Any]) -> list[str]:
        """Content and language rules."""
        content, language = payload.get("content"), payload.get("language")
        problems = []
        if not isinstance(content, str) or not content:
            problems.append("'content' must be a non-empty string")
        if language is not None and not (
            isinstance(language, str) and LANGUAGE.fullmatch(language)
        ):
            problems.append("'language' must be a language tag such as 'es' or 'en-us'")
        return problems

    def complexity(self, payload: dict[str, Any]) -> str:
        """Graded by word count."""
        content = payload.get("content")
        words = len(content.split()) if isinstance(content, str) else None
        return rules.grade(words, medium_from=200, high_from=2000)


TEXT = TextType()
