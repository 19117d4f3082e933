"""A stack's settings, read once from `pulumi.Config("toons")` with documented defaults.

Every other module of the program takes a `Settings` and reads no configuration itself.
Defaults that describe the topology (memory, timeouts, batch sizes, max receives) come
from `toons.aws.wiring`; the others are written in `load()` below. `Pulumi.<stack>.yaml`
overrides them per stack. docs/deploy.md documents every key in `KEYS` (a test checks it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi

from toons.aws import wiring

NAMESPACE = "toons"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORKER = "worker"

KEYS = (
    "jwtSecret",
    "codeAsset",
    "functions",
    "workerBatchSize",
    "workerBatchWindowS",
    "workerMaxConcurrency",
    "maxReceives",
    "logLevel",
    "logRetentionDays",
    "apiRateLimit",
    "apiBurstLimit",
    "kinesisMode",
    "kinesisShards",
    "pointInTimeRecovery",
    "archiveRetentionDays",
    "secretRecoveryWindowDays",
    "manageApiGatewayAccount",
    "alarmEmail",
    "alarmPeriodS",
    "alarmErrorThreshold",
    "alarmThrottleThreshold",
    "alarmIteratorAgeMs",
    "alarmJobsStuckThreshold",
    "alarmDeadLetterPeriods",
)

# The values CloudWatch Logs accepts for a retention period.
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192}
    | {2557, 2922, 3288, 3653}
)
KINESIS_MODES = ("ON_DEMAND", "PROVISIONED")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(ValueError):
    """A configuration value is missing, unknown or out of range."""


@dataclass(frozen=True, slots=True)
class FunctionSettings:
    """How much memory and time one function gets."""

    memory_mb: int
    timeout_s: int


@dataclass(frozen=True, slots=True)
class AlarmSettings:
    """When alarms fire and whom they tell."""

    period_s: int = 300
    error_threshold: int = 0
    throttle_threshold: int = 0
    iterator_age_ms: int = 60_000
    jobs_stuck_threshold: int = 0
    dead_letter_periods: int = 3
    email: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the program needs to know about one stack."""

    stack: str
    jwt_secret: pulumi.Output[str]
    code_asset: Path
    functions: Mapping[str, FunctionSettings]
    sources: Mapping[str, wiring.Source]
    max_receives: int
    log_level: str
    log_retention_days: int
    api_rate_limit: float
    api_burst_limit: int
    kinesis_mode: str
    kinesis_shards: int
    point_in_time_recovery: bool
    archive_retention_days: int
    secret_recovery_window_days: int
    manage_api_gateway_account: bool
    alarms: AlarmSettings

    def physical(self, logical: str) -> str:
        """The physical name of a resource in this stack: `toons-<stack>-<logical>`."""
        return f"{NAMESPACE}-{self.stack}-{logical}"

    @property
    def consumed_queues(self) -> set[str]:
        """The queues some function consumes (the others only hold messages)."""
        return {s.queue for s in self.sources.values() if isinstance(s, wiring.SqsSource)}

    @property
    def timeouts(self) -> dict[str, int]:
        """Each function's timeout in seconds, by wiring name."""
        return {name: fn.timeout_s for name, fn in self.functions.items()}


def load(config: pulumi.Config | None = None, stack: str | None = None) -> Settings:
    """The current stack's settings, validated; raises `SettingsError` on a bad value."""
    config = config or pulumi.Config(NAMESPACE)
    stack = stack or pulumi.get_stack()
    code_asset = Path(config.get("codeAsset") or "build/lambda.zip")

    settings = Settings(
        stack=stack,
        jwt_secret=config.require_secret("jwtSecret"),
        code_asset=code_asset if code_asset.is_absolute() else PROJECT_ROOT / code_asset,
        functions=_functions(config.get_object("functions") or {}),
        sources=_sources(config),
        max_receives=_int(config, "maxReceives", wiring.queue("work").max_receives),
        log_level=(config.get("logLevel") or "INFO").upper(),
        log_retention_days=_int(config, "logRetentionDays", 14),
        api_rate_limit=_float(config, "apiRateLimit", 50.0),
        api_burst_limit=_int(config, "apiBurstLimit", 100),
        kinesis_mode=(config.get("kinesisMode") or "PROVISIONED").upper(),
        kinesis_shards=_int(config, "kinesisShards", 1),
        point_in_time_recovery=_bool(config, "pointInTimeRecovery", False),
        archive_retention_days=_int(config, "archiveRetentionDays", 7),
        secret_recovery_window_days=_int(config, "secretRecoveryWindowDays", 7),
        manage_api_gateway_account=_bool(config, "manageApiGatewayAccount", True),
        alarms=_alarms(config),
    )
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    """Refuse values AWS would refuse later, with the key at fault in the message."""
    _check(settings.log_level in LOG_LEVELS, "logLevel", f"one of {LOG_LEVELS}")
    _check(
        settings.log_retention_days in RETENTION_DAYS,
        "logRetentionDays",
        f"one of {sorted(RETENTION_DAYS)}",
    )
    _check(settings.kinesis_mode in KINESIS_MODES, "kinesisMode", f"one of {KINESIS_MODES}")
    _check(settings.kinesis_shards >= 1, "kinesisShards", "at least 1")
    _check(settings.max_receives >= 1, "maxReceives", "at least 1")
    _check(settings.api_rate_limit > 0, "apiRateLimit", "positive")
    _check(settings.api_burst_limit >= 1, "apiBurstLimit", "at least 1")
    _check(settings.archive_retention_days >= 1, "archiveRetentionDays", "at least 1 day")
    _check(
        settings.secret_recovery_window_days == 0
        or 7 <= settings.secret_recovery_window_days <= 30,
        "secretRecoveryWindowDays",
        "0 or 7 to 30",
    )
    period = settings.alarms.period_s
    _check(period in (10, 20, 30) or period % 60 == 0, "alarmPeriodS", "10, 20, 30 or n*60")
    _check(settings.alarms.dead_letter_periods >= 1, "alarmDeadLetterPeriods", "at least 1")
    for name, fn in settings.functions.items():
        _check(128 <= fn.memory_mb <= 10_240, f"functions.{name}.memoryMb", "128 to 10240")
        _check(1 <= fn.timeout_s <= 900, f"functions.{name}.timeoutS", "1 to 900")
    worker = settings.sources[WORKER]
    if isinstance(worker, wiring.SqsSource):
        _check(1 <= worker.batch_size <= 10_000, "workerBatchSize", "1 to 10000")
        _check(0 <= worker.window_s <= 300, "workerBatchWindowS", "0 to 300")
        _check(
            worker.batch_size <= 10 or worker.window_s >= 1,
            "workerBatchWindowS",
            "at least 1 when workerBatchSize is above 10",
        )
        _check(2 <= worker.max_concurrency <= 1000, "workerMaxConcurrency", "2 to 1000")


def _functions(overrides: Mapping[str, Mapping[str, int]]) -> dict[str, FunctionSettings]:
    known = {fn.name for fn in wiring.FUNCTIONS}
    unknown = sorted(set(overrides) - known)
    _check(not unknown, "functions", f"keyed by function names {sorted(known)}, not {unknown}")
    result = {}
    for fn in wiring.FUNCTIONS:
        override = overrides.get(fn.name) or {}
        extra = sorted(set(override) - {"memoryMb", "timeoutS"})
        _check(not extra, f"functions.{fn.name}", f"only memoryMb and timeoutS, not {extra}")
        result[fn.name] = FunctionSettings(
            memory_mb=int(override.get("memoryMb", fn.memory_mb)),
            timeout_s=int(override.get("timeoutS", fn.timeout_s)),
        )
    return result


def _sources(config: pulumi.Config) -> dict[str, wiring.Source]:
    """Each consumer's event source as wiring declares it, with the worker's overrides."""
    sources = {fn.name: fn.source for fn in wiring.FUNCTIONS if fn.source is not None}
    declared = sources[WORKER]
    sources[WORKER] = dataclasses.replace(
        declared,
        batch_size=_int(config, "workerBatchSize", declared.batch_size),
        window_s=_int(config, "workerBatchWindowS", declared.window_s),
        max_concurrency=_int(config, "workerMaxConcurrency", declared.max_concurrency),
    )
    return sources


def _alarms(config: pulumi.Config) -> AlarmSettings:
    defaults = AlarmSettings()
    return AlarmSettings(
        period_s=_int(config, "alarmPeriodS", defaults.period_s),
        error_threshold=_int(config, "alarmErrorThreshold", defaults.error_threshold),
        throttle_threshold=_int(config, "alarmThrottleThreshold", defaults.throttle_threshold),
        iterator_age_ms=_int(config, "alarmIteratorAgeMs", defaults.iterator_age_ms),
        jobs_stuck_threshold=_int(config, "alarmJobsStuckThreshold", defaults.jobs_stuck_threshold),
        dead_letter_periods=_int(config, "alarmDeadLetterPeriods", defaults.dead_letter_periods),
        email=config.get("alarmEmail") or None,
    )


def _int(config: pulumi.Config, key: str, default: int) -> int:
    value = config.get_int(key)
    return default if value is None else value


def _float(config: pulumi.Config, key: str, default: float) -> float:
    value = config.get_float(key)
    return default if value is None else value


def _bool(config: pulumi.Config, key: str, default: bool) -> bool:
    value = config.get_bool(key)
    return default if value is None else value


def _check(condition: bool, key: str, expected: str) -> None:
    if not condition:
        raise SettingsError(f"{NAMESPACE}:{key} must be {expected}")
