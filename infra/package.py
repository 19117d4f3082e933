"""The Lambda code asset: one reproducible zip for every function.

    python -m infra.package build/lambda.zip

It holds the `toons` and `handlers` packages and the pure-Python dependencies the
functions import (PyJWT, aws-lambda-powertools), installed for Lambda's arm64 Python
3.12; boto3 is left out because the runtime provides it. The same tree gives the same
bytes: entries sorted, timestamps and permissions fixed, no bytecode. Dependencies are
pinned to the versions installed where the build runs, so the zip carries what the
tests ran against. Build it before `pulumi preview` / `pulumi up`; the program reads it
from `toons:codeAsset` (default `build/lambda.zip`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path

PACKAGES = ("toons", "handlers")
DEPENDENCIES = ("PyJWT", "aws-lambda-powertools")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
FILE_MODE = 0o644 << 16
SKIPPED_SUFFIXES = {".pyc", ".pyo"}

Installer = Callable[[Path], None]


def requirements() -> list[str]:
    """The dependencies, pinned to the installed versions when they are installed."""
    pinned = []
    for name in DEPENDENCIES:
        try:
            pinned.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pinned.append(name)
    return pinned


def pip_install(target: Path) -> None:
    """Install the dependencies into `target` as Lambda's arm64 Python 3.12 needs them."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            "--platform",
            "manylinux2014_aarch64",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            "3.12",
            *requirements(),
        ],
        check=True,
    )


def build(
    output: Path,
    *,
    source_root: Path = PROJECT_ROOT,
    packages: Sequence[str] = PACKAGES,
    install: Installer | None = pip_install,
) -> Path:
    """Write the zip of `packages` (from `source_root`) plus what `install` puts beside them.

    `install` receives an empty directory to fill; pass None to leave dependencies out.
    """
    missing = [p for p in packages if not (source_root / p / "__init__.py").is_file()]
    if missing:
        raise FileNotFoundError(f"no package {missing} under {source_root}")

    with tempfile.TemporaryDirectory(prefix="toons-deps-") as deps:
        if install is not None:
            install(Path(deps))
        # pip's console scripts land in bin/; nothing imports them.
        entries = {n: f for n, f in _files(Path(deps)) if not n.startswith("bin/")}
        for package in packages:
            entries.update(_files(source_root / package, prefix=package))

        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        _write(partial, entries)
        partial.replace(output)
    return output


def _files(root: Path, prefix: str = "") -> Iterator[tuple[str, Path]]:
    """(name in the zip, file) for every file under `root` that belongs in the asset."""
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_dir() or path.suffix in SKIPPED_SUFFIXES or "__pycache__" in relative.parts:
            continue
        yield "/".join(filter(None, (prefix, relative.as_posix()))), path


def _write(output: Path, entries: dict[str, Path]) -> None:
    with zipfile.ZipFile(output, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = FILE_MODE
            info.create_system = 3  # Unix, whatever the build machine is
            archive.writestr(info, entries[name].read_bytes(), zipfile.ZIP_DEFLATED, 9)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m infra.package OUTPUT [--source-root DIR] [--no-deps]`: build, print the path."""
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__)
    parser.add_argument("output", type=Path, help="where to write the zip, e.g. build/lambda.zip")
    parser.add_argument(
        "--source-root",
        type=Path,
        default=PROJECT_ROOT,
        help="the directory holding the packages (default: this checkout)",
    )
    parser.add_argument(
        "--no-deps",
        action="store_true",
        help="leave the dependencies out (a quick look at the tree, not for deploying)",
    )
    args = parser.parse_args(argv)
    try:
        path = build(
            args.output,
            source_root=args.source_root,
            install=None if args.no_deps else pip_install,
        )
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        print(f"infra.package: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
