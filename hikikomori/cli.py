"""The ``hikikomori`` command. Imports are deferred so ``validate`` starts fast (no Prefect)."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from hikikomori.settings import load_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return int(args.command(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hikikomori",
        description="ひきこもり地域支援センター 実績報告の集計パイプライン / national reporting pipeline",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="受付・検証・取込・集計 / take in the inbox and rebuild the national tables")
    run.add_argument("--inbox", type=Path, help="submission inbox (default: data/inbox, or $HIKIKOMORI_INBOX)")
    run.add_argument("--warehouse", type=Path, help="DuckDB file (default: data/warehouse/hikikomori.duckdb)")
    run.add_argument("--registry", type=Path, help="center registry CSV replacing the bundled one")
    run.add_argument(
        "--fiscal-year",
        dest="fiscal_years",
        type=int,
        nargs="+",
        default=[],
        metavar="Y",
        help="only take in files for these fiscal years (others stay in the inbox)",
    )
    run.set_defaults(command=_run)

    validate = commands.add_parser("validate", help="提出前チェック / pre-check submission files (writes nothing)")
    validate.add_argument("files", type=Path, nargs="+", metavar="FILE")
    validate.add_argument("--registry", type=Path, help="center registry CSV replacing the bundled one")
    validate.set_defaults(command=_validate)
    return parser


def _run(args: argparse.Namespace) -> int:
    from hikikomori.prefect_setup import configure_prefect_environment

    settings = load_settings(
        inbox=args.inbox,
        warehouse=args.warehouse,
        registry=args.registry,
        fiscal_years=tuple(args.fiscal_years),
    )
    configure_prefect_environment(settings)
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.hikikomori_run import hikikomori_run
    from hikikomori.run_report import format_run_summary

    try:
        # A heartbeat thread per flow run costs about a second and guards nothing in a CLI run.
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            summary = hikikomori_run(
                inbox=str(settings.inbox_dir),
                warehouse=str(settings.warehouse_path),
                registry=str(settings.registry_path),
                fiscal_years=list(settings.fiscal_years),
            )
    except Exception as error:  # the pipeline itself failed: one readable line, non-zero exit
        print(f"hikikomori run failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    print(format_run_summary(summary))
    return 0


def _validate(args: argparse.Namespace) -> int:
    # Only what validation needs: hikikomori.pipeline would bring DuckDB, and start-up is the pre-check's cost.
    from hikikomori.error_reports import issues_text
    from hikikomori.reference import load_reference_data
    from hikikomori.submission_files import receive
    from hikikomori.validation import validate_files

    settings = load_settings(registry=args.registry)
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        print(f"ファイルが見つかりません / file not found: {', '.join(missing)}", file=sys.stderr)
        return 1
    received = [receive(path.resolve(), path.resolve().parent) for path in args.files]
    reference = load_reference_data(settings.reference_dir, settings.registry_path)
    results = validate_files(received, reference, settings.as_of)
    for result in results:
        if result.accepted:
            print(f"{result.received.name}: OK 問題はありません / valid")
        else:
            print(issues_text(result.received.name, result.issues), end="")
    return 0 if all(result.accepted for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
