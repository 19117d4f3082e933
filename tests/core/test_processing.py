"""Processing one toon: each built-in type's rules, the enrichment and the fingerprint."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.core.samples import SEED_IMAGE, SEED_TEXT, SEED_VIDEO, builtin_registry, work_item
from toons.model import JobKey, Outcome, timestamp
from toons.processing import PROCESSOR_VERSION, UnknownToonType, canonical_json, process_toon

ISO_MILLIS_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def process(kind: str, payload: dict, **item: object):
    return process_toon(work_item(kind, payload, **item), builtin_registry())


def enrichment(kind: str, payload: dict) -> dict:
    return process(kind, payload).processed_data["enrichment"]


def normalised(kind: str, payload: dict) -> dict:
    return process(kind, payload).processed_data["payload"]


def problems(kind: str, payload: dict) -> tuple[str, ...]:
    return process(kind, payload).validation_errors


# -- the seed's examples ----------------------------------------------------------------


def test_seed_image_is_valid_low_media() -> None:
    result = process("IMAGE", SEED_IMAGE["payload"], toon_id="TOON-001")

    assert result.outcome is Outcome.PROCESSED
    assert result.is_valid
    assert result.validation_errors == ()
    assert result.processed_data["enrichment"] == {
        "processedBy": "ToonProcessor-v1.0",
        "complexity": "LOW",
        "category": "MEDIA",
    }


def test_seed_video_is_valid_medium_media() -> None:
    result = process("VIDEO", SEED_VIDEO["payload"], toon_id="TOON-002")

    assert result.is_valid
    assert result.processed_data["enrichment"]["complexity"] == "MEDIUM"
    assert result.processed_data["enrichment"]["category"] == "MEDIA"


def test_seed_spanish_text_is_valid_low_content() -> None:
    result = process("TEXT", SEED_TEXT["payload"], toon_id="TOON-003")

    assert result.is_valid
    assert result.processed_data["enrichment"]["complexity"] == "LOW"
    assert result.processed_data["enrichment"]["category"] == "CONTENT"


def test_processed_data_holds_toon_id_type_payload_metadata_and_enrichment() -> None:
    result = process("IMAGE", SEED_IMAGE["payload"], toon_id="TOON-001")

    assert set(result.processed_data) == {"toonId", "type", "payload", "metadata", "enrichment"}
    assert result.processed_data["toonId"] == "TOON-001"
    assert result.processed_data["type"] == "IMAGE"
    assert result.processed_data["payload"] == SEED_IMAGE["payload"]


def test_result_locates_the_toon_in_its_job_and_run() -> None:
    key = JobKey("user-9", "JOB-9")
    result = process("TEXT", {"content": "hola"}, toon_id="T-4", index=4, key=key, run=2)

    assert (result.key, result.run, result.index, result.toon_id) == (key, 2, 4, "T-4")
    assert result.type == "TEXT"


# -- enrichment, metadata, fingerprint, timing ---------------------------------------------


def test_processed_by_names_the_processor_version() -> None:
    assert (
        enrichment("TEXT", {"content": "x"})["processedBy"] == f"ToonProcessor-v{PROCESSOR_VERSION}"
    )


def test_processed_by_follows_a_custom_version() -> None:
    item = work_item("TEXT", {"content": "x"})
    result = process_toon(item, builtin_registry(), version="2.3")

    assert result.processed_data["enrichment"]["processedBy"] == "ToonProcessor-v2.3"


def test_original_size_is_the_canonical_byte_length_of_the_toon_as_sent() -> None:
    item = work_item("IMAGE", dict(SEED_IMAGE["payload"]), toon_id="TOON-001")
    result = process_toon(item, builtin_registry())

    assert result.processed_data["metadata"]["originalSize"] == len(
        canonical_json(item.toon.to_dict())
    )
    assert result.processed_data["metadata"]["originalSize"] == 131


def test_original_size_counts_utf8_bytes_not_characters() -> None:
    ascii_size = process("TEXT", {"content": "a"})
    accented_size = process("TEXT", {"content": "á"})

    grown = accented_size.processed_data["metadata"]["originalSize"]
    assert grown == ascii_size.processed_data["metadata"]["originalSize"] + 1


def test_has_payload_is_true_for_a_non_empty_payload() -> None:
    assert process("TEXT", {"content": "x"}).processed_data["metadata"]["hasPayload"] is True


def test_has_payload_is_false_for_an_empty_payload() -> None:
    assert process("IMAGE", {}).processed_data["metadata"]["hasPayload"] is False


def test_fingerprint_is_sha256_of_the_canonical_processed_data() -> None:
    result = process("VIDEO", SEED_VIDEO["payload"])

    assert result.fingerprint == hashlib.sha256(canonical_json(result.processed_data)).hexdigest()
    assert result.processed_json == canonical_json(result.processed_data).decode()


def test_fingerprint_does_not_depend_on_payload_key_order() -> None:
    forward = {"url": "https://x.test/a.png", "width": 10, "height": 20, "format": "png"}
    backward = dict(reversed(forward.items()))

    assert process("IMAGE", forward).fingerprint == process("IMAGE", backward).fingerprint


def test_fingerprint_changes_with_the_content() -> None:
    assert (
        process("TEXT", {"content": "uno"}).fingerprint
        != process("TEXT", {"content": "dos"}).fingerprint
    )


def test_fingerprint_changes_with_the_processor_version() -> None:
    item = work_item("TEXT", {"content": "uno"})

    assert (
        process_toon(item, builtin_registry(), version="1.0").fingerprint
        != process_toon(item, builtin_registry(), version="1.1").fingerprint
    )


def test_processed_at_is_iso_utc_with_milliseconds_and_z() -> None:
    assert ISO_MILLIS_Z.fullmatch(process("TEXT", {"content": "x"}).processed_at)


def test_duration_is_a_non_negative_number_of_milliseconds() -> None:
    duration = process("TEXT", {"content": "x"}).duration_ms

    assert isinstance(duration, float)
    assert duration >= 0


def test_timestamp_converts_other_zones_to_utc_milliseconds() -> None:
    moment = datetime(2025, 11, 27, 21, 0, 5, 123456, tzinfo=timezone(timedelta(hours=1)))

    assert timestamp(moment) == "2025-11-27T20:00:05.123Z"


def test_timestamp_keeps_zero_milliseconds() -> None:
    assert timestamp(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2025-01-02T03:04:05.000Z"


def test_unknown_type_raises_unknown_toon_type() -> None:
    with pytest.raises(UnknownToonType, match="AUDIO"):
        process("AUDIO", {})


def test_type_lookup_at_processing_is_case_insensitive_and_reports_the_canonical_name() -> None:
    result = process("image", SEED_IMAGE["payload"])

    assert result.type == "IMAGE"
    assert result.processed_data["type"] == "IMAGE"


# -- IMAGE -------------------------------------------------------------------------------------


def test_image_url_and_format_are_stripped_and_format_lower_cased() -> None:
    payload = {"url": "  https://x.test/a.JPG  ", "format": "  JPEG ", "alt": "  kept  "}

    assert normalised("IMAGE", payload) == {
        "url": "https://x.test/a.JPG",
        "format": "jpeg",
        "alt": "  kept  ",
    }


def test_image_normalisation_leaves_the_sent_payload_untouched() -> None:
    payload = {"url": " https://x.test/a.png ", "format": "PNG"}
    process("IMAGE", payload)

    assert payload == {"url": " https://x.test/a.png ", "format": "PNG"}


def test_image_without_url_is_processed_but_invalid() -> None:
    result = process("IMAGE", {"width": 10, "height": 10})

    assert result.outcome is Outcome.PROCESSED
    assert not result.is_valid
    assert result.validation_errors == ("'url' is required",)


@pytest.mark.parametrize(
    "url", ["ftp://x.test/a.png", "x.test/a.png", "https://", "", "javascript:1"]
)
def test_image_with_a_non_http_url_is_invalid(url: str) -> None:
    assert problems("IMAGE", {"url": url}) == ("'url' must be an http or https URL",)


def test_image_with_a_non_string_url_is_invalid() -> None:
    assert problems("IMAGE", {"url": 42}) == ("'url' must be a string",)


def test_image_with_http_url_and_no_size_or_format_is_valid() -> None:
    result = process("IMAGE", {"url": "http://x.test/a"})

    assert result.is_valid
    assert result.processed_data["enrichment"]["complexity"] == "LOW"


@pytest.mark.parametrize("side", ["width", "height"])
@pytest.mark.parametrize("value", [0, -1, 100_001])
def test_image_side_out_of_range_is_invalid(side: str, value: int) -> None:
    payload = {"url": "https://x.test/a.png", side: value}

    assert problems("IMAGE", payload) == (f"'{side}' must be greater than 0 and at most 100000",)


@pytest.mark.parametrize("value", [1920.0, "1920", True, [1920]])
def test_image_side_that_is_not_an_integer_is_invalid(value: object) -> None:
    assert problems("IMAGE", {"url": "https://x.test/a", "width": value}) == (
        "'width' must be an integer",
    )


def test_image_sides_at_the_bounds_are_valid() -> None:
    assert problems("IMAGE", {"url": "https://x.test/a", "width": 1, "height": 100_000}) == ()


def test_image_with_an_unknown_format_is_invalid() -> None:
    (problem,) = problems("IMAGE", {"url": "https://x.test/a", "format": "psd"})

    assert problem.startswith("'format' must be one of avif, bmp, gif")


def test_image_format_is_checked_after_lower_casing() -> None:
    assert problems("IMAGE", {"url": "https://x.test/a", "format": " WEBP "}) == ()


def test_image_reports_every_broken_rule() -> None:
    found = problems("IMAGE", {"width": 0, "height": "x", "format": "psd"})

    assert len(found) == 4


@pytest.mark.parametrize(
    ("width", "height", "grade"),
    [
        (1920, 1080, "LOW"),
        (1999, 2000, "LOW"),
        (2000, 2000, "MEDIUM"),
        (3999, 3000, "MEDIUM"),
        (4000, 3000, "HIGH"),
        (100_000, 100_000, "HIGH"),
    ],
)
def test_image_complexity_is_graded_by_megapixels(width: int, height: int, grade: str) -> None:
    payload = {"url": "https://x.test/a", "width": width, "height": height}

    assert enrichment("IMAGE", payload)["complexity"] == grade


@pytest.mark.parametrize(
    "payload", [{}, {"width": 5000}, {"height": 5000}, {"width": "5000", "height": 5000}]
)
def test_image_complexity_is_low_when_the_size_is_unknown(payload: dict) -> None:
    assert enrichment("IMAGE", payload)["complexity"] == "LOW"


@pytest.mark.parametrize("value", [[], {}, ["png"]])
def test_image_format_of_an_unhashable_kind_is_invalid_not_a_crash(value: object) -> None:
    (problem,) = problems("IMAGE", {"url": "https://x.test/a", "format": value})

    assert problem.startswith("'format' must be one of")


@pytest.mark.parametrize("url", ["http://[", "https://[::1/a", "http://\uff03x.test/"])
def test_image_url_that_urlsplit_refuses_is_invalid_not_a_crash(url: str) -> None:
    assert problems("IMAGE", {"url": url}) == ("'url' must be an http or https URL",)


def test_image_side_too_large_for_a_float_is_invalid_not_a_crash() -> None:
    result = process("IMAGE", {"url": "https://x.test/a", "width": 10**400, "height": 10})

    assert result.validation_errors == ("'width' must be greater than 0 and at most 100000",)
    assert result.processed_data["enrichment"]["complexity"] == "LOW"


# -- VIDEO -------------------------------------------------------------------------------------


def test_video_url_and_resolution_are_stripped_and_resolution_lower_cased() -> None:
    payload = {"url": " https://x.test/v.mp4\n", "resolution": " 1080P ", "duration": 5}

    assert normalised("VIDEO", payload) == {
        "url": "https://x.test/v.mp4",
        "resolution": "1080p",
        "duration": 5,
    }


def test_video_without_duration_is_invalid() -> None:
    assert problems("VIDEO", {"url": "https://x.test/v"}) == ("'duration' is required",)


def test_video_without_url_is_processed_but_invalid() -> None:
    result = process("VIDEO", {"duration": 10})

    assert result.outcome is Outcome.PROCESSED
    assert result.validation_errors == ("'url' is required",)


@pytest.mark.parametrize("duration", [0, -5, 86_400.5, 86_401])
def test_video_duration_out_of_range_is_invalid(duration: float) -> None:
    assert problems("VIDEO", {"url": "https://x.test/v", "duration": duration}) == (
        "'duration' must be greater than 0 and at most 86400",
    )


@pytest.mark.parametrize("duration", [0.5, 12.25, 86_400])
def test_video_duration_may_be_fractional_up_to_a_day(duration: float) -> None:
    assert problems("VIDEO", {"url": "https://x.test/v", "duration": duration}) == ()


@pytest.mark.parametrize("duration", ["120", True, [120], {}])
def test_video_duration_that_is_not_a_number_is_invalid(duration: object) -> None:
    assert problems("VIDEO", {"url": "https://x.test/v", "duration": duration}) == (
        "'duration' must be a number",
    )


def test_video_with_an_unknown_resolution_is_invalid() -> None:
    (problem,) = problems(
        "VIDEO", {"url": "https://x.test/v", "duration": 1, "resolution": "1080i"}
    )

    assert problem.startswith("'resolution' must be one of 1080p")


@pytest.mark.parametrize("resolution", ["4K", "720p", " 2160P "])
def test_video_known_resolutions_are_valid_in_any_case(resolution: str) -> None:
    payload = {"url": "https://x.test/v", "duration": 1, "resolution": resolution}

    assert problems("VIDEO", payload) == ()


@pytest.mark.parametrize(
    ("duration", "grade"),
    [(1, "LOW"), (59.9, "LOW"), (60, "MEDIUM"), (120, "MEDIUM"), (599, "MEDIUM"), (600, "HIGH")],
)
def test_video_complexity_is_graded_by_duration(duration: float, grade: str) -> None:
    assert enrichment("VIDEO", {"duration": duration})["complexity"] == grade


def test_video_complexity_is_low_when_the_duration_is_unknown() -> None:
    assert enrichment("VIDEO", {"duration": "long"})["complexity"] == "LOW"


def test_video_resolution_of_an_unhashable_kind_is_invalid_not_a_crash() -> None:
    payload = {"url": "https://x.test/v", "duration": 1, "resolution": {"h": 1080}}

    (problem,) = problems("VIDEO", payload)
    assert problem.startswith("'resolution' must be one of")


def test_video_duration_too_large_for_a_float_is_invalid_not_a_crash() -> None:
    result = process("VIDEO", {"url": "https://x.test/v", "duration": 10**400})

    assert result.validation_errors == ("'duration' must be greater than 0 and at most 86400",)


# -- TEXT --------------------------------------------------------------------------------------


def test_text_content_is_nfc_with_unix_line_ends_and_stripped() -> None:
    payload = {"content": "  Cafe\u0301\r\nlinea dos \n", "language": " ES-MX "}

    assert normalised("TEXT", payload) == {"content": "Café\nlinea dos", "language": "es-mx"}


def test_text_keeps_other_fields() -> None:
    assert normalised("TEXT", {"content": "x", "author": " A "})["author"] == " A "


@pytest.mark.parametrize("content", ["", "   \r\n ", None, 7, ["a"]])
def test_text_without_non_empty_string_content_is_invalid(content: object) -> None:
    payload = {} if content is None else {"content": content}

    assert problems("TEXT", payload) == ("'content' must be a non-empty string",)


@pytest.mark.parametrize("language", ["es", "en-us", " EN-GB ", "spa", "zh-hant-tw"])
def test_text_language_tags_are_valid(language: str) -> None:
    assert problems("TEXT", {"content": "x", "language": language}) == ()


@pytest.mark.parametrize("language", ["e", "english", "en_us", "en-", "", 5, ["es"]])
def test_text_malformed_language_is_invalid(language: object) -> None:
    assert problems("TEXT", {"content": "x", "language": language}) == (
        "'language' must be a language tag such as 'es' or 'en-us'",
    )


@pytest.mark.parametrize(
    ("words", "grade"),
    [(1, "LOW"), (199, "LOW"), (200, "MEDIUM"), (1999, "MEDIUM"), (2000, "HIGH")],
)
def test_text_complexity_is_graded_by_word_count(words: int, grade: str) -> None:
    assert enrichment("TEXT", {"content": " ".join(["palabra"] * words)})["complexity"] == grade


def test_text_complexity_is_low_without_content() -> None:
    assert enrichment("TEXT", {})["complexity"] == "LOW"
