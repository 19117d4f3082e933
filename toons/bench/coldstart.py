"""`toons bench coldstart`: how long importing each Lambda handler takes, against boto3.

Each module is imported in a fresh interpreter, several times over and interleaved
with `import boto3`, and the medians are compared. The target is at most 1.5 times
`import boto3` for every handler: the handlers import boto3 only on first use.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from toons.aws import wiring

PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str) -> float:
    """Seconds to import `module` in a fresh interpreter."""
    output = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output.strip())


def measure(repeat: int = 7) -> dict[str, float]:
    """Median import time of boto3 and of each handler module, interleaved."""
    modules = ["boto3", *sorted({fn.handler.rpartition(".")[0] for fn in wiring.FUNCTIONS})]
    samples: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(repeat):
        for module in modules:
            samples[module].append(import_seconds(module))
    return {module: statistics.median(times) for module, times in samples.items()}


def main(repeat: int = 7) -> int:
    """Print each module's median import time and its ratio to boto3, then JSON."""
    medians = measure(repeat)
    boto3_s = medians["boto3"]
    print(f"{'module (median of ' + str(repeat) + ')':<30}{'ms':>10}{'x boto3':>10}")
    for module, seconds in medians.items():
        print(f"{module:<30}{seconds * 1000:>10.1f}{seconds / boto3_s:>10.2f}")
    worst = max(seconds / boto3_s for module, seconds in medians.items() if module != "boto3")
    print(
        json.dumps(
            {
                "boto3_ms": round(boto3_s * 1000, 1),
                "handlers_ms": {m: round(s * 1000, 1) for m, s in medians.items() if m != "boto3"},
                "worst_ratio": round(worst, 3),
            }
        )
    )
    return 0
