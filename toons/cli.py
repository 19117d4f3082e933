"""The `toons` command: run the embedded engine, mint tokens, run benchmarks."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from toons import __version__, auth, logs
from toons.config import EngineSettings, auth_from_env, limits_from_env

DEFAULT_DATA_DIR = Path(os.environ.get("TOONS_DATA_DIR", ".toons"))
DEV_USER = "user123"


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="where the SQLite file and the JWT secret live (default: %(default)s)",
    )


def _target_options(parser: argparse.ArgumentParser) -> None:
    _data_dir_option(parser)
    parser.add_argument("--stack", help="work on this deployed Pulumi stack instead")
    parser.add_argument(
        "--timeout",
        type=float,
        default=600,
        help="seconds to wait for the jobs to settle (default: %(default)s)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toons", description=__doc__)
    parser.add_argument("--version", action="version", version=f"toons {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="run the whole system on this machine")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("TOONS_PORT", "8000")),
        help="0 picks a free port (default: %(default)s)",
    )
    local.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: one per core, %(default)s)",
    )
    local.add_argument(
        "--visibility-timeout",
        type=float,
        default=float(os.environ.get("TOONS_VISIBILITY_TIMEOUT_S", "30")),
        help="seconds a worker may hold a toon before another gets it (default: %(default)s)",
    )
    local.add_argument("--log-level", default=os.environ.get("TOONS_LOG_LEVEL", "INFO"))
    _data_dir_option(local)

    token = commands.add_parser("token", help="mint a bearer token for the local engine")
    token.add_argument("--sub", required=True, help="the userId the token speaks for")
    token.add_argument("--ttl", default="1h", help="lifetime: 90s, 15m, 1h, 7d (default: 1h)")
    _data_dir_option(token)

    replay = commands.add_parser("replay", help="count archived completion events again")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--job", help="replay one job's events (with --user)")
    which.add_argument("--from", dest="since", help="replay events from this ISO 8601 time")
    replay.add_argument("--to", dest="until", help="... up to this ISO 8601 time")
    replay.add_argument("--user", help="the job's owner (the token's sub)")
    _target_options(replay)

    redrive = commands.add_parser("redrive", help="send dead-lettered toons back to the queue")
    _target_options(redrive)

    reprocess = commands.add_parser("reprocess", help="run a finished job again as a new run")
    reprocess.add_argument("job", help="the jobId")
    reprocess.add_argument("--user", required=True, help="the job's owner (the token's sub)")
    _target_options(reprocess)

    bench = commands.add_parser("bench", help="measure speed and cost")
    benches = bench.add_subparsers(dest="bench", required=True)
    bench_local = benches.add_parser("local", help="processing rate: raw vs through toons local")
    bench_local.add_argument("--toons", type=int, default=10_000)
    bench_local.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="alternating raw and end-to-end runs; medians are reported",
    )
    bench_cost = benches.add_parser("cost", help="AWS cost per million toons, over moto")
    bench_cost.add_argument("--toons", type=int, default=1000)
    benches.add_parser("coldstart", help="import time of each Lambda handler vs boto3")
    bench_load = benches.add_parser("load", help="many clients at once against toons local")
    bench_load.add_argument("--clients", type=int, default=20)
    bench_load.add_argument("--duration", type=float, default=60, help="seconds")
    bench_load.add_argument("--min-toons", type=int, default=100)
    bench_load.add_argument("--max-toons", type=int, default=2000)
    return parser


def _auth_settings(data_dir: Path):
    from dataclasses import replace

    from toons.local.engine import jwt_secret

    return replace(auth_from_env(), secret=jwt_secret(data_dir))


def run_local(args: argparse.Namespace) -> int:
    """`toons local`: start, print how to use it, run until Ctrl-C or SIGTERM."""
    from toons.local.engine import DataDirBusy, LocalEngine

    logs.configure(args.log_level)
    settings = EngineSettings(
        data_dir=args.data_dir,
        workers=max(1, args.workers),
        visibility_timeout_s=args.visibility_timeout,
    )
    auth_settings = _auth_settings(args.data_dir)
    engine = LocalEngine(settings, auth_settings, limits_from_env(), args.host, args.port)
    try:
        server = engine.start()
    except (DataDirBusy, OSError) as exc:
        print(f"toons local: {exc}", file=sys.stderr)
        return 1

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: engine.stop_event.set())
    _print_banner(server.url, settings, auth_settings)
    engine.stop_event.wait()
    print("toons local: stopping", flush=True)
    engine.stop()
    return 0


def _print_banner(url: str, settings: EngineSettings, auth_settings) -> None:
    token = auth.mint(
        DEV_USER,
        auth_settings.secret,
        ttl_s=24 * 3600,
        issuer=auth_settings.issuer,
        audience=auth_settings.audience,
    )
    print(
        f"toons local listening on {url}\n"
        f"  data:    {settings.data_dir.resolve()}/toons.db\n"
        f"  workers: {settings.workers}\n"
        f"  dev token for '{DEV_USER}' (24h; mint others with `toons token --sub NAME`):\n\n"
        f"export TOKEN={token}\n"
        f'curl -s -X POST {url}/submit-job -H "Authorization: Bearer $TOKEN" '
        f"-H 'Content-Type: application/json' -d @data/test_request.json\n\n"
        f"Ctrl-C stops it; state survives restarts.",
        flush=True,
    )


def run_token(args: argparse.Namespace) -> int:
    """`toons token`: print a token the local engine accepts."""
    settings = _auth_settings(args.data_dir)
    try:
        ttl = auth.parse_ttl(args.ttl)
    except ValueError as exc:
        print(f"toons token: {exc}", file=sys.stderr)
        return 2
    print(auth.mint(args.sub, settings.secret, ttl, settings.issuer, settings.audience))
    return 0


def run_operation(args: argparse.Namespace) -> int:
    """`toons replay|redrive|reprocess`: act, say what was done, watch the jobs settle."""
    from toons import operations
    from toons.errors import ToonsError

    try:
        ops = _operations(args)
        return operations.run(args.command, ops, args, out=sys.stdout)
    except ToonsError as error:
        print(f"toons {args.command}: {error.message}", file=sys.stderr)
        return 1


def _operations(args: argparse.Namespace):
    from toons.operations import LocalOperations

    if args.stack:
        from toons.aws.operations import StackOperations

        return StackOperations.for_stack(args.stack)
    return LocalOperations(args.data_dir)


def run_bench(args: argparse.Namespace) -> int:
    """`toons bench ...`: run a benchmark and print its table and JSON line."""
    if args.bench == "load":
        from toons.bench import load

        return load.main(args.clients, args.duration, args.min_toons, args.max_toons)
    if args.bench == "cost":
        from toons.bench import cost

        return cost.main(args.toons)
    if args.bench == "coldstart":
        from toons.bench import coldstart

        return coldstart.main()
    from toons.bench import local

    return local.main(args.toons, args.repeat)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `toons` command."""
    args = _parser().parse_args(argv)
    commands = {
        "local": run_local,
        "token": run_token,
        "bench": run_bench,
        "replay": run_operation,
        "redrive": run_operation,
        "reprocess": run_operation,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
