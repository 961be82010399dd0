"""The ``hikikomori`` command. Imports are deferred so ``validate`` starts fast (no Prefect)."""

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hikikomori.settings import Settings, load_settings

if TYPE_CHECKING:
    from hikikomori.pipeline.governance import Decision

# The read-only commands (sql, report, docs, export, validate --warehouse) read the analysts' copy:
# the warehouse itself belongs to the run writing it (DuckDB lets a writer lock out every reader).
_READ_HELP = (
    "DuckDB file to read (default: the analysts' copy, data/warehouse/hikikomori_analytics.duckdb, "
    "or $HIKIKOMORI_ANALYTICS_WAREHOUSE)"
)


# Commands whose process ends at once after its last output (see ``console``).
_QUICK_EXIT_COMMANDS = frozenset({"run", "validate"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return int(args.command(args))


def console() -> None:
    """The installed ``hikikomori`` command: ``main`` in a process of its own.

    ``run`` and ``validate`` (what centers and schedulers wait for) end their process as soon as
    their work is written and their output flushed, without the interpreter's teardown of the
    ≈ 2,000 modules Prefect, pandas and DuckDB load (≈ 0.3–0.5 s measured): everything they write is
    closed and synced before they return, Prefect's queued events and logs are sent first. They
    also never import ``hypothesis``, a test-only dependency that pandera imports when it is
    installed (≈ 0.1 s), to offer data synthesis neither command uses.
    """
    argv = sys.argv[1:]
    quick = bool(argv) and argv[0] in _QUICK_EXIT_COMMANDS
    if quick:
        sys.modules.setdefault("hypothesis", None)  # type: ignore[arg-type]  # import hypothesis → ImportError
    code = main(argv)
    if quick:
        _exit_at_once(code)
    sys.exit(code)


def _exit_at_once(code: int) -> None:
    import logging
    import os

    if "prefect" in sys.modules:
        from hikikomori.flows.temporary_server import send_what_prefect_queued

        send_what_prefect_queued()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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
    run.add_argument(
        "--lock-timeout",
        type=float,
        metavar="SECONDS",
        help="how long to wait for another run to finish (default 1800, or $HIKIKOMORI_RUN_LOCK_TIMEOUT)",
    )
    run.add_argument(
        "--calendar",
        type=Path,
        metavar="FILE",
        help="deadline calendar CSV fiscal_year,deadline (or $HIKIKOMORI_CALENDAR); recorded in the warehouse, "
        "it stays in effect for later runs",
    )
    run.add_argument(
        "--rebuild",
        action="store_true",
        help="build the SQL models even when nothing they are built from changed since the last build",
    )
    run.set_defaults(command=_run)

    close = commands.add_parser("close-year", help="年度の確定（公表）/ close (publish) a fiscal year")
    close.add_argument("--fiscal-year", required=True, type=_fiscal_year, metavar="Y")
    close.add_argument("--note", required=True, help="why (recorded in ops.publications)")
    close.set_defaults(command=_close_year)

    revisions = commands.add_parser(
        "revisions", help="保留中の修正の一覧 / pending revisions of closed years, item by item (old → new)"
    )
    revisions.add_argument("--fiscal-year", type=_fiscal_year, metavar="Y", help="only this closed fiscal year")
    revisions.set_defaults(command=_revisions)

    accept = commands.add_parser(
        "accept-revision", help="修正の採用 / the center's latest pending version of a closed year counts from now on"
    )
    accept.add_argument("--fiscal-year", required=True, type=_fiscal_year, metavar="Y")
    accept.add_argument("--center", required=True, metavar="CODE", help="6-digit center code")
    accept.add_argument("--note", required=True, help="why (recorded in ops.revisions)")
    accept.set_defaults(command=_accept_revision)

    reopen = commands.add_parser(
        "reopen-year", help="確定の解除 / a closed fiscal year counts the latest versions again"
    )
    reopen.add_argument("--fiscal-year", required=True, type=_fiscal_year, metavar="Y")
    reopen.add_argument("--note", required=True, help="why (recorded in ops.revisions)")
    reopen.set_defaults(command=_reopen_year)

    for governance_command in (close, revisions, accept, reopen):
        governance_command.add_argument(
            "--warehouse", type=Path, help="DuckDB file (default: data/warehouse/hikikomori.duckdb)"
        )
        governance_command.add_argument(
            "--lock-timeout", type=float, metavar="SECONDS", help="how long to wait for a run to finish"
        )

    diff = commands.add_parser(
        "diff", help="版の比較（何が変わったか）/ what changed between two versions of a center's submission"
    )
    diff.add_argument("--center", required=True, metavar="CODE", help="6-digit center code")
    diff.add_argument("--fiscal-year", required=True, type=_fiscal_year, metavar="Y")
    diff.add_argument("--from", dest="old", type=int, metavar="V", help="older version (default: the counted one)")
    diff.add_argument("--to", dest="new", type=int, metavar="W", help="newer version (default: the latest)")
    diff.add_argument("--warehouse", type=Path, help="reads the analysts' copy beside this DuckDB file")
    diff.set_defaults(command=_diff)

    validate = commands.add_parser("validate", help="提出前チェック / pre-check submission files (writes nothing)")
    validate.add_argument("files", type=Path, nargs="+", metavar="FILE")
    validate.add_argument("--registry", type=Path, help="center registry CSV replacing the bundled one")
    validate.add_argument(
        "--warehouse",
        nargs="?",
        const=True,
        type=Path,
        metavar="FILE",
        help="compare with the previous fiscal year and warn on big changes: in the analysts' copy, or in FILE "
        "(opened read-only)",
    )
    validate.add_argument("--format", choices=("table", "json"), default="table", help="output (default: table)")
    validate.add_argument("--lang", choices=("ja", "en"), default="ja", help="language of the table (default: ja)")
    validate.add_argument(
        "--warning-factor",
        type=float,
        help="warn when a total changes by more than this factor from the previous year (default: 3)",
    )
    validate.set_defaults(command=_validate)

    template = commands.add_parser(
        "template", help="報告様式(Excel)の作成 / write the Excel form for a center and year"
    )
    which = template.add_mutually_exclusive_group(required=True)
    which.add_argument("--center", metavar="CODE", help="6-digit center code, e.g. 130001")
    which.add_argument("--all", action="store_true", help="one form per center open that fiscal year")
    template.add_argument("--fiscal-year", required=True, metavar="Y", help="2016, 平成28年度, H28, R6 …")
    template.add_argument("--out", type=Path, help="file (with --center) or folder (with --all)")
    template.add_argument("--registry", type=Path, help="center registry CSV replacing the bundled one")
    template.set_defaults(command=_template)

    report = commands.add_parser(
        "report", help="全国実績の報告書 / the national report (HTML, xlsx, publication tables)"
    )
    report.add_argument("--warehouse", type=Path, help=_READ_HELP)
    report.add_argument("--fiscal-year", type=int, metavar="Y", help="report up to this fiscal year (default: latest)")
    report.add_argument("--out", type=Path, help="output folder (default: report/ beside the file read)")
    report.set_defaults(command=_report)

    receipt = commands.add_parser(
        "receipt", help="受領証 / the receipt of a center's accepted file (its latest version, or --version N)"
    )
    receipt.add_argument("center", metavar="CODE", help="6-digit center code, e.g. 130001")
    receipt.add_argument("fiscal_year", type=_fiscal_year, metavar="Y", help="2016, 平成28年度, H28, R6 …")
    receipt.add_argument("--version", type=int, metavar="N", help="that version (default: the latest accepted)")
    receipt.add_argument("--format", choices=("text", "json"), default="text", help="output (default: text)")
    receipt.add_argument(
        "--out", type=Path, metavar="FILE", help="write it to FILE (text: UTF-8 with BOM, for Notepad) instead"
    )
    receipt.add_argument("--warehouse", type=Path, help=_READ_HELP)
    receipt.set_defaults(command=_receipt)

    sql = commands.add_parser("sql", help="読み取り専用の問い合わせ / run a query on the warehouse, read-only")
    sql.add_argument("query", metavar="QUERY")
    sql.add_argument("--warehouse", type=Path, help=_READ_HELP)
    sql.add_argument("--max-rows", type=int, default=100, help="rows to print (default 100)")
    sql.set_defaults(command=_sql)

    docs = commands.add_parser("docs", help="データ辞書の生成 / write the data dictionary from the warehouse comments")
    docs.add_argument("--warehouse", type=Path, help=_READ_HELP)
    docs.add_argument("--out", type=Path, default=Path("docs/warehouse.md"), help="default: docs/warehouse.md")
    docs.set_defaults(command=_docs)

    export = commands.add_parser(
        "export", help="マートをCSV・Parquetで書き出す / write every mart as CSV (for Excel) and Parquet"
    )
    export.add_argument("--warehouse", type=Path, help=_READ_HELP)
    export.add_argument("--out", type=Path, help="output folder (default: export/ beside the file read)")
    export.set_defaults(command=_export)

    serve = commands.add_parser(
        "serve", help="提出ポータルの起動 / serve the web portal in the foreground (Ctrl-C or SIGTERM stops it)"
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1, or $HIKIKOMORI_PORTAL_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8000, or $HIKIKOMORI_PORTAL_PORT)")
    serve.add_argument("--warehouse", type=Path, help="DuckDB file; the portal reads its analysts' copy, never it")
    serve.add_argument("--inbox", type=Path, help="where passed uploads are handed to the pipeline")
    serve.set_defaults(command=_serve)

    users = commands.add_parser("users", help="ポータルのアカウント / portal accounts")
    users.add_argument("--warehouse", type=Path, help="the portal's database sits beside this DuckDB file")
    actions = users.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="アカウント作成 / create an account")
    add.add_argument("username")
    role = add.add_mutually_exclusive_group(required=True)
    role.add_argument("--center", metavar="CODE", help="the center (6-digit code of the registry) it belongs to")
    role.add_argument("--ministry", action="store_true", help="a ministry account: sees every center")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.add_argument("--admin", action="store_true", help="(ministry) may also manage accounts on /admin/")
    add.set_defaults(command=_users_add)
    token = actions.add_parser("token", help="新しいAPIトークン / print a new API token (the old one stops working)")
    token.add_argument("username")
    token.set_defaults(command=_users_token)
    disable = actions.add_parser("disable", help="アカウント停止 / disable an account (logs it out everywhere)")
    disable.add_argument("username")
    disable.set_defaults(command=_users_disable)
    listing = actions.add_parser("list", help="アカウント一覧 / list the accounts")
    listing.set_defaults(command=_users_list)
    return parser


def _fiscal_year(text: str) -> int:
    """A fiscal year as staff write it (2016, 平成28年度, H28, R6 …), for argparse."""
    from hikikomori.domain.fiscal_years import parse_fiscal_year

    try:
        return parse_fiscal_year(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"年度を読めません / not a fiscal year: {text}") from None


def _run(args: argparse.Namespace) -> int:
    from hikikomori.flows.prefect_setup import configure_prefect_environment, server_startup_timeout
    from hikikomori.flows.temporary_server import prefect_api
    from hikikomori.pipeline.memory import collector_paused, run_objects_frozen
    from hikikomori.pipeline.stops import RunStopped, one_line, space_problem, stop_requested

    # SIGTERM (a scheduler, systemd, `kill`) stops the run as Ctrl-C does: recorded as failed in
    # ops.pipeline_runs, Prefect's temporary server stopped at exit, a one-line message, exit 128 + 15.
    # Inside the flow run Prefect's own handler does the same (raising its TerminationSignal).
    signal.signal(signal.SIGTERM, _stop)
    settings = load_settings(
        inbox=args.inbox,
        warehouse=args.warehouse,
        registry=args.registry,
        fiscal_years=tuple(args.fiscal_years),
        run_lock_timeout_seconds=args.lock_timeout,
        calendar=args.calendar,
        rebuild_models=args.rebuild,
    )
    try:
        configure_prefect_environment(settings)
        # A full disk under Prefect's home shows only as a server-start timeout: say it first.
        problem = space_problem(settings)
        if problem is not None:
            print(f"hikikomori run failed: {problem}", file=sys.stderr)
            return 2
        # Without a configured Prefect server, a temporary one starts now and boots while the run imports.
        with prefect_api(server_startup_timeout()) as temporary_server, run_objects_frozen() as freeze:
            with collector_paused():  # what the imports make is kept: pipeline/memory.py
                from hikikomori.flows.hikikomori_run import run_in_foreground
                from hikikomori.pipeline.run_summary import format_run_summary

                # Frozen before the collector resumes: else its first look walks all they made (0.09 s).
                freeze()

            if temporary_server is not None:
                temporary_server.wait_until_ready(server_startup_timeout())
            summary = run_in_foreground(settings)
    except (RunStopped, KeyboardInterrupt) as stop:
        print(f"hikikomori run stopped: {stop}", file=sys.stderr)
        return 128 + (stop.signal_number if isinstance(stop, RunStopped) else signal.SIGINT)
    except Exception as error:  # the pipeline itself failed: one readable line, non-zero exit
        stopped = stop_requested()  # a stop DuckDB reported as "Query interrupted"
        if stopped is not None:
            print(f"hikikomori run stopped: stopped by {signal.Signals(stopped).name}", file=sys.stderr)
            return 128 + stopped
        print(f"hikikomori run failed: {one_line(error)}", file=sys.stderr)
        return 2
    print(format_run_summary(summary))
    print(f"分析用コピー / analysts' copy (open read-only): {settings.analytics_path}")
    return 0


def _governance(args: argparse.Namespace, name: str, request: Callable[[Settings], str]) -> int:
    """Run a governance command: its output on success (exit 0), one line for a refused request (exit 1),
    one line for a failure of the pipeline itself (exit 2)."""
    from hikikomori.pipeline.governance import RequestRefused
    from hikikomori.pipeline.stops import one_line

    settings = load_settings(warehouse=args.warehouse, run_lock_timeout_seconds=args.lock_timeout)
    if not settings.warehouse_path.is_file():
        print(f"ウェアハウスがありません / warehouse not found: {settings.warehouse_path}", file=sys.stderr)
        return 1
    try:
        output = request(settings)
    except RequestRefused as refused:
        print(f"hikikomori {name}: {refused}", file=sys.stderr)
        return 1
    except Exception as error:  # the pipeline itself failed (lock timeout, quality gate …)
        print(f"hikikomori {name} failed: {one_line(error)}", file=sys.stderr)
        return 2
    print(output, end="" if output.endswith("\n") else "\n")
    return 0


def _on_wait(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _decision(args: argparse.Namespace, name: str, decide: Callable[[Settings], "Decision"]) -> int:
    """A governance command that records a decision: the decision, then where the new copy is."""
    from hikikomori.pipeline import governance

    return _governance(
        args,
        name,
        lambda settings: (
            governance.format_decision(decide(settings)) + f"\n分析用コピー / analysts' copy: {settings.analytics_path}"
        ),
    )


def _close_year(args: argparse.Namespace) -> int:
    from hikikomori.pipeline import governance

    return _decision(
        args,
        "close-year",
        lambda settings: governance.close_year(settings, args.fiscal_year, args.note, on_wait=_on_wait),
    )


def _accept_revision(args: argparse.Namespace) -> int:
    from hikikomori.pipeline import governance

    return _decision(
        args,
        "accept-revision",
        lambda settings: governance.accept_revision(
            settings, args.fiscal_year, args.center, args.note, on_wait=_on_wait
        ),
    )


def _reopen_year(args: argparse.Namespace) -> int:
    from hikikomori.pipeline import governance

    return _decision(
        args,
        "reopen-year",
        lambda settings: governance.reopen_year(settings, args.fiscal_year, args.note, on_wait=_on_wait),
    )


def _revisions(args: argparse.Namespace) -> int:
    from hikikomori.pipeline import governance

    return _governance(
        args,
        "revisions",
        lambda settings: governance.format_revisions(
            governance.list_revisions(settings, args.fiscal_year, on_wait=_on_wait)
        ),
    )


def _diff(args: argparse.Namespace) -> int:
    from hikikomori.domain.reference import load_reference_data
    from hikikomori.pipeline.governance import RequestRefused, compare_versions, format_comparison
    from hikikomori.warehouse import DatabaseError
    from hikikomori.warehouse.connection import connect

    settings = load_settings(warehouse=args.warehouse)
    if not settings.analytics_path.is_file():
        print(
            f"分析用コピーがありません（hikikomori run の後に作られます）/ no analysts' copy yet: "
            f"{settings.analytics_path}",
            file=sys.stderr,
        )
        return 1
    center = load_reference_data(settings.reference_dir, settings.registry_path).centers.get(args.center)
    try:
        with connect(settings.analytics_path, read_only=True) as connection:
            comparison = compare_versions(connection, args.center, args.fiscal_year, args.old, args.new)
    except RequestRefused as refused:
        print(f"hikikomori diff: {refused}", file=sys.stderr)
        return 1
    except DatabaseError as error:
        print(f"分析用コピーを読めません / cannot read the analysts' copy: {error}", file=sys.stderr)
        return 1
    print(format_comparison(comparison, center.center_name if center else ""), end="")
    return 0


def _stop(signal_number: int, frame: object) -> None:
    from hikikomori.pipeline.stops import RunStopped, note_stop

    note_stop(signal_number)
    raise RunStopped(signal_number)


def _validate(args: argparse.Namespace) -> int:
    from hikikomori.pipeline.precheck import WarehouseUnavailableError, format_json, format_table, precheck

    settings = load_settings(registry=args.registry, change_warning_factor=args.warning_factor)
    if isinstance(args.warehouse, Path) and args.warehouse.suffix.lower() in {".csv", ".xlsx"}:
        print(
            f"--warehouse の後は DuckDB ファイルです（{args.warehouse} は提出ファイル）。提出ファイルを先に"
            " / --warehouse takes a DuckDB file, not a submission: write the files first "
            "(hikikomori validate FILE... --warehouse)",
            file=sys.stderr,
        )
        return 1
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        from hikikomori.domain.text import printable

        print(f"ファイルが見つかりません / file not found: {printable(', '.join(missing))}", file=sys.stderr)
        return 1
    warehouse = None
    if args.warehouse is not None:
        warehouse = _readable(None if args.warehouse is True else args.warehouse, settings)
        if warehouse is None:
            return 1
    try:
        results = precheck(list(args.files), settings, warehouse)
    except WarehouseUnavailableError as error:
        print(f"ウェアハウスを開けません / cannot open the warehouse: {error}", file=sys.stderr)
        return 1
    print(format_json(results) if args.format == "json" else format_table(results, args.lang), end="")
    return 0 if all(result.valid for result in results) else 1


def _template(args: argparse.Namespace) -> int:
    from hikikomori.domain.fiscal_years import fiscal_year_label, parse_fiscal_year
    from hikikomori.domain.reference import load_reference_data
    from hikikomori.schemas.template import centers_open_in, template_file_name, write_template

    settings = load_settings(registry=args.registry)
    reference = load_reference_data(settings.reference_dir, settings.registry_path)
    try:
        fiscal_year = parse_fiscal_year(args.fiscal_year)
        fiscal_year_label(fiscal_year)  # the form shows the era label: 平成元年度 (1989) onwards
    except ValueError:
        print(f"年度を読めません / not a fiscal year: {args.fiscal_year}", file=sys.stderr)
        return 2
    if args.all:
        folder = args.out or Path(".")
        centers = centers_open_in(reference, fiscal_year)
        for center in centers:
            write_template(reference, center, fiscal_year, folder / template_file_name(center.center_code, fiscal_year))
        print(f"{len(centers)} 件の様式を作成しました / wrote {len(centers)} form(s) to {folder}")
        return 0
    chosen = reference.centers.get(args.center)
    if chosen is None:
        print(f"団体コード {args.center} はセンター名簿にありません / not in the registry", file=sys.stderr)
        return 2
    if chosen.opened_fiscal_year > fiscal_year:
        print(
            f"{chosen.center_name} のセンターは {chosen.opened_fiscal_year} 年度開所です / "
            f"center opened in FY{chosen.opened_fiscal_year}, after FY{fiscal_year}",
            file=sys.stderr,
        )
        return 2
    path = write_template(
        reference, chosen, fiscal_year, args.out or Path(template_file_name(chosen.center_code, fiscal_year))
    )
    print(f"様式を作成しました / wrote {path}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from hikikomori.report.national import build_report
    from hikikomori.warehouse import DatabaseError
    from hikikomori.warehouse.migrate import MigrationError

    settings = load_settings()
    source = _readable(args.warehouse, settings)
    if source is None:
        return 1
    try:
        files = build_report(source, args.out or source.parent / "report", args.fiscal_year)
    except MigrationError as error:
        print(error, file=sys.stderr)
        return 1
    except DatabaseError as error:
        print(_cannot_read(source, error, settings), file=sys.stderr)
        return 1
    print(f"報告書 / report: {files.html}")
    print(f"表 / tables: {files.workbook}")
    print(f"公表用 / publication: {', '.join(str(path) for path in files.publication)}")
    print(f"データ品質 / data-quality results: {files.quality_page}")
    return 0


def _receipt(args: argparse.Namespace) -> int:
    from hikikomori.pipeline.receipts import accepted_receipts, receipt_json, receipt_text
    from hikikomori.warehouse import DatabaseError

    settings = load_settings()
    source = _readable(args.warehouse, settings)
    if source is None:
        return 1
    try:
        receipts = accepted_receipts(source, args.center, args.fiscal_year)
    except DatabaseError as error:
        print(_cannot_read(source, error, settings), file=sys.stderr)
        return 1
    chosen = [item for item in receipts if args.version in (None, item.version)][-1:]
    if not chosen:
        accepted = ", ".join(str(item.version) for item in receipts) or "なし / none"
        version_ja, version_en = ("版", "version")
        if args.version is not None:
            version_ja, version_en = f"第{args.version}版", f"version {args.version}"
        print(
            f"{args.center} の {args.fiscal_year} 年度に受け付けた{version_ja}はありません / no accepted {version_en} "
            f"of {args.center} for FY{args.fiscal_year} in {source} (受け付けた版 / accepted versions: {accepted})",
            file=sys.stderr,
        )
        return 1
    content = receipt_json(chosen[0]) if args.format == "json" else receipt_text(chosen[0])
    if args.out is not None:
        args.out.write_bytes(content)
        print(f"受領証を書きました / wrote {args.out}")
    else:
        sys.stdout.write(content.decode("utf-8-sig"))
    return 0


def _sql(args: argparse.Namespace) -> int:
    from hikikomori.warehouse import DatabaseError
    from hikikomori.warehouse.connection import connect
    from hikikomori.warehouse.queries import show_query

    settings = load_settings()
    source = _readable(args.warehouse, settings)
    if source is None:
        return 1
    try:
        connection = connect(source, read_only=True)
    except DatabaseError as error:
        print(_cannot_read(source, error, settings), file=sys.stderr)
        return 1
    try:
        with connection:
            show_query(connection, args.query, args.max_rows)
    except DatabaseError as error:
        print(f"問い合わせに失敗しました / query failed: {error}", file=sys.stderr)
        return 1
    return 0


def _export(args: argparse.Namespace) -> int:
    from hikikomori.report.export import export_marts
    from hikikomori.warehouse import DatabaseError
    from hikikomori.warehouse.migrate import MigrationError

    settings = load_settings()
    source = _readable(args.warehouse, settings)
    if source is None:
        return 1
    out = args.out or source.parent / "export"
    try:
        exported = export_marts(source, out)
    except MigrationError as error:
        print(error, file=sys.stderr)
        return 1
    except DatabaseError as error:
        print(_cannot_read(source, error, settings), file=sys.stderr)
        return 1
    for mart in exported:
        print(f"  marts.{mart.name}: {mart.rows:,} 行 / rows → {mart.csv.name}, {mart.parquet.name}")
    print(f"{len(exported)} 表を書き出しました（CSV は UTF-8 BOM 付き）/ wrote {len(exported)} marts to {out}")
    return 0


def _readable(explicit: Path | None, settings: Settings) -> Path | None:
    """What a read-only command reads: the file given with --warehouse, else the analysts' copy.

    None (after saying why on stderr) when that file does not exist.
    """
    if explicit is not None:
        if explicit.is_file():
            return explicit
        print(f"ウェアハウスがありません / warehouse not found: {explicit}", file=sys.stderr)
        return None
    if settings.analytics_path.is_file():
        return settings.analytics_path
    print(
        f"分析用コピーがまだありません（hikikomori run が成功すると作られます）/ no analysts' copy yet at "
        f"{settings.analytics_path}: a successful `hikikomori run` publishes it (--warehouse FILE reads another file)",
        file=sys.stderr,
    )
    return None


def _cannot_read(source: Path, error: Exception, settings: Settings) -> str:
    message = f"開けません / cannot open {source}: {error}"
    if source != settings.analytics_path:
        message += (
            f"\n--warehouse を付けなければ分析用コピーを読みます（実行中も読めます）/ without --warehouse the command "
            f"reads the analysts' copy, which a run never locks: {settings.analytics_path}"
        )
    return message


def _docs(args: argparse.Namespace) -> int:
    from hikikomori.warehouse.dictionary import example_queries, write_dictionary
    from hikikomori.warehouse.models import load_project

    settings = load_settings()
    source = _readable(args.warehouse, settings)
    if source is None:
        return 1
    docs = load_project(settings.sql_dir).docs
    write_dictionary(source, args.out, example_queries(settings.example_queries_dir), docs)
    print(f"データ辞書 / data dictionary: {args.out}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from hikikomori.portal.server import serve

    settings = load_settings(warehouse=args.warehouse, inbox=args.inbox)
    host = args.host or settings.portal.host
    port = args.port if args.port is not None else settings.portal.port
    settings = replace(settings, portal=replace(settings.portal, host=host, port=port))
    print(f"提出ポータル / portal: http://{host}:{port}/  (Ctrl-C で停止 / to stop)", flush=True)
    serve(settings, host, port)
    return 0


def _portal_ready(args: argparse.Namespace) -> Settings:
    """Django set up for the portal database beside the warehouse, its tables up to date."""
    from hikikomori.portal.config import migrate, setup

    settings = load_settings(warehouse=args.warehouse)
    setup(settings)
    migrate()
    return settings


def _users_add(args: argparse.Namespace) -> int:
    settings = _portal_ready(args)  # Django set up before any portal module is imported
    from hikikomori.portal.accounts import AccountError, create_account
    from hikikomori.portal.uploads import reference_data

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if args.admin and not args.ministry:
        print("--admin は --ministry と一緒に使います / --admin needs --ministry", file=sys.stderr)
        return 1
    try:
        user, generated = create_account(
            reference_data(settings),
            args.username,
            center_code=args.center,
            password=password,
            admin=args.admin,
        )
    except AccountError as error:
        print(error, file=sys.stderr)
        return 1
    where = f"団体 {user.center_code}" if user.center_code else "厚生労働省 / ministry"
    print(f"アカウントを作成しました / created {user.username} ({where})")
    if generated is not None:
        print(f"パスワード（この一度だけ表示します）/ password (shown once): {generated}")
    return 0


def _users_token(args: argparse.Namespace) -> int:
    _portal_ready(args)
    from hikikomori.portal.accounts import AccountError, issue_token

    try:
        print(issue_token(args.username))
    except AccountError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def _users_disable(args: argparse.Namespace) -> int:
    _portal_ready(args)
    from hikikomori.portal.accounts import AccountError, disable_account

    try:
        disable_account(args.username)
    except AccountError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"停止しました / disabled {args.username}")
    return 0


def _users_list(args: argparse.Namespace) -> int:
    settings = _portal_ready(args)
    from hikikomori.portal.accounts import list_accounts
    from hikikomori.portal.uploads import reference_data

    print("username\trole\tcenter\tcenter_name\tactive\tadmin\tapi_token\tlast_login")
    for row in list_accounts(reference_data(settings)):
        flags = ["yes" if flag else "no" for flag in (row.active, row.admin, row.has_token)]
        print("\t".join([row.username, row.role, row.center_code, row.center_name, *flags, row.last_login]))
    return 0


if __name__ == "__main__":
    console()
