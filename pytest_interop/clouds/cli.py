"""``interop cleanup``: remove what crashed runs left behind on a cloud.

Only resources that carry our run-id tag and name prefix are touched: those of one run
(``--run-id``), those of any run older than an age (``--older-than 2h``), or those a run's
journal names (``--journal``). Without one of these the command refuses to act.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_interop.errors import ConfigurationError
from pytest_interop.outputs import refuse_non_regular
from pytest_interop.resources import CleanupSummary, LedgerRecord, read_journal

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> float:
    """``90s``, ``30m``, ``2h``, ``1d`` (a bare number is seconds)."""
    match = _AGE.match(text or "")
    if not match:
        raise ConfigurationError(f"--older-than {text!r}: give an age such as 30m, 2h or 1d")
    return float(match.group(1)) * _SECONDS[match.group(2)]


def journal_records(
    path: Path, *, cloud_name: str, run_id: str | None = None
) -> list[LedgerRecord]:
    if not path.exists():
        raise ConfigurationError(f"--journal {path}: no such file")
    refuse_non_regular(path, "--journal")  # a directory, a FIFO: one line, not a traceback
    try:
        records = list(read_journal(path))
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigurationError(
            f"--journal {path}: cannot read it ({reason}); give the .jsonl file a run wrote "
            "in its journal directory"
        ) from None
    return [
        record
        for record in records
        if record.detail.get("cloud") == cloud_name
        and (run_id is None or record.detail.get("run_id") == run_id)
    ]


def cleanup_cloud(
    cloud: Any,
    *,
    run_id: str | None = None,
    older_than_seconds: float | None = None,
    journal: Iterable[LedgerRecord] = (),
) -> CleanupSummary:
    """Clean ``cloud`` (an adapter): journal records first, then everything tagged.

    Journal records are newest first, as the ledger would have removed them; the tag sweep
    then catches what the journal could not identify (a create that never answered).
    """
    records = list(journal)
    if run_id is None and older_than_seconds is None and not records:
        raise ConfigurationError("cleanup needs --run-id, --older-than or --journal")
    summary = CleanupSummary()
    run_ids = {run_id} if run_id else {str(r.detail.get("run_id")) for r in records}
    for record in records:
        try:
            removed = cloud.delete_record(record)
        except Exception as exc:
            summary.leaked.append(f"{record.describe()}: {type(exc).__name__}: {exc}")
            continue
        (summary.deleted if removed else summary.already_gone).append(record.describe())
    if older_than_seconds is not None and run_id is None:
        summary = summary.merge(cloud.cleanup_leftovers(older_than_seconds=older_than_seconds))
    else:
        for one in sorted(run_ids):
            summary = summary.merge(
                cloud.cleanup_leftovers(run_id=one, older_than_seconds=older_than_seconds)
            )
    return summary


def cleanup_spec(
    spec: Any,
    *,
    run_id: str | None = None,
    older_than_seconds: float | None = None,
    journal_path: Path | None = None,
) -> CleanupSummary:
    """Connect to the cloud a CloudSpec names (without a ledger) and clean it."""
    from pytest_interop.clouds.registry import make_cloud

    records = (
        journal_records(journal_path, cloud_name=spec.name, run_id=run_id) if journal_path else []
    )
    cloud = make_cloud(spec, None)
    try:
        check = getattr(cloud, "check", None)
        if check is not None:
            check()  # a wrong password is one line and exit 2, not a traceback
        return cleanup_cloud(
            cloud, run_id=run_id, older_than_seconds=older_than_seconds, journal=records
        )
    finally:
        cloud.close()


def _run(args: argparse.Namespace) -> int:
    from pytest_interop.clouds.registry import resolve_cloud

    if not (args.run_id or args.older_than or args.journal):
        raise ConfigurationError(
            "cleanup touches only tagged leftovers: give --run-id, --older-than or --journal"
        )
    older = parse_age(args.older_than) if args.older_than else None
    from pytest_interop.stale_dirs import remove_stale_key_dirs

    for directory in remove_stale_key_dirs():
        print(f"removed   stale key directory {directory}")
    spec = resolve_cloud(args.cloud)
    summary = cleanup_spec(
        spec,
        run_id=args.run_id,
        older_than_seconds=older,
        journal_path=Path(args.journal) if args.journal else None,
    )
    for line in summary.deleted:
        print(f"deleted   {line}")
    for line in summary.already_gone:
        print(f"gone      {line}")
    for line in summary.leaked:
        print(f"FAILED    {line}")
    for line in summary.skipped:
        print(f"skipped   {line}")
    skipped = f", {len(summary.skipped)} skipped" if summary.skipped else ""
    print(
        f"{args.cloud}: {len(summary.deleted)} deleted, {len(summary.already_gone)} already "
        f"gone, {len(summary.leaked)} could not be deleted{skipped}"
    )
    return 0 if summary.ok else 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cleanup",
        help="remove the leftovers of crashed runs (only what carries our run-id tag)",
        description=__doc__,
    )
    parser.add_argument("--cloud", required=True, help="the cloud, named as for --cloud")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--run-id", help="remove what this run created")
    which.add_argument(
        "--older-than", metavar="AGE", help="remove any run's leftovers older than AGE (2h)"
    )
    parser.add_argument("--journal", metavar="PATH", help="a run's ledger journal to replay")
    parser.set_defaults(func=_run)
