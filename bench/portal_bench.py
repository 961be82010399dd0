"""``make bench-portal``: how fast the portal answers an upload, alone and with every center at once.

Everything happens in a fresh temporary folder:

- a warehouse built from the bundled examples (FY2012–2018) and its analysts' copy, so each verdict
  also compares the upload with the center's previous year, as in production;
- 67 center accounts with API tokens, created in this process in the portal's database;
- ``hikikomori serve`` as a subprocess (its defaults: 2 processes × 4 threads), warmed up;
- one upload at a time: ``--single`` verdicts per format (CSV, and the Excel form filled in), each a
  ``POST /api/v1/submissions`` on a kept-alive loopback connection; p50, p95, max;
- every center at once: 67 threads, one per center, released together by a barrier, each posting its
  FY2019 file on its own connection; every answer must be 201; ``--rounds`` rounds; p50, p95, max
  over all answers, and each round's slowest.

Targets (docs/performance.md): one verdict's p95 ≤ 300 ms on a warm server; 67 at once all answered,
p95 < 1 s. Ratios to the targets are printed (≤ 1 meets them).

Usage: make bench-portal (or .venv-bench/bin/python bench/portal_bench.py) [--single 200] [--rounds 5] [--keep]
"""

import argparse
import http.client
import io
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
EXAMPLES = REPOSITORY / "examples" / "submissions"
AS_OF = "2026-11-26"
UPLOAD_YEAR = 2019
SINGLE_TARGET_MS = 300
CONCURRENT_TARGET_MS = 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", type=int, default=200, help="sequential uploads per format (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of all centers at once (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hikikomori-portal-bench-"))
    environment = {
        **os.environ,
        "HIKIKOMORI_AS_OF": AS_OF,
        "HIKIKOMORI_SETTLE_SECONDS": "0",
        "HIKIKOMORI_WAREHOUSE": str(root / "warehouse" / "hikikomori.duckdb"),
        "HIKIKOMORI_INBOX": str(root / "inbox"),
    }
    os.environ.update(environment)
    process = None
    try:
        started = time.perf_counter()
        tokens, files = prepare(root)
        print(f"prepared in {time.perf_counter() - started:.1f} s: warehouse from the examples, 67 accounts")
        process, port = serve(environment, root)
        load = os.getloadavg()[0]
        warm(port, tokens, files)
        single = {fmt: sequential(port, tokens, files, fmt, args.single) for fmt in ("csv", "xlsx")}
        rounds = [all_at_once(port, tokens, files) for _ in range(args.rounds)]
        report(single, rounds, load, os.getloadavg()[0])
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        if args.keep:
            print(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def prepare(root: Path) -> tuple[dict[str, str], dict[str, dict[str, bytes]]]:
    """The examples' warehouse and analysts' copy; 67 accounts with tokens; each center's FY2019 file."""
    from hikikomori.pipeline import operations
    from hikikomori.pipeline import steps as pipeline
    from hikikomori.portal.config import migrate, setup
    from hikikomori.settings import load_settings

    settings = load_settings()
    shutil.copytree(EXAMPLES, settings.inbox_dir)
    with operations.audited_run(settings, "bench", "bench", on_wait=print):
        received = pipeline.collect_submissions(settings)
        pipeline.load_submissions(pipeline.validate_submissions(received, settings), settings, "bench")
        pipeline.rebuild_models(settings)
    setup(settings)
    migrate()
    from hikikomori.portal.accounts import create_account, issue_token
    from hikikomori.portal.uploads import reference_data
    from hikikomori.schemas.template import build_template

    reference = reference_data(settings)
    tokens, files = {}, {}
    for code, center in sorted(reference.centers.items()):
        create_account(reference, f"center-{code}", center_code=code)
        tokens[code] = issue_token(f"center-{code}")
        files[code] = {"csv": _csv(reference, code), "xlsx": _xlsx(build_template(reference, center, UPLOAD_YEAR))}
    return tokens, files


def _csv(reference: object, code: str) -> bytes:
    categories = [item.category for item in reference.form_categories("detailed")]  # type: ignore[attr-defined]
    lines = ["center_code,fiscal_year,measure,category,count", f"{code},{UPLOAD_YEAR},consultations,total,1500"]
    lines += [f"{code},{UPLOAD_YEAR},referrals,{category},{index}" for index, category in enumerate(categories)]
    return ("\n".join(lines) + "\n").encode()


def _xlsx(workbook: object) -> bytes:
    sheet = workbook.worksheets[0]  # type: ignore[attr-defined]
    for row in range(6, sheet.max_row + 1):
        sheet[f"E{row}"] = row
    buffer = io.BytesIO()
    workbook.save(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


def serve(environment: dict[str, str], root: Path) -> tuple[subprocess.Popen[bytes], int]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (root / "serve.log").open("wb")
    hikikomori = Path(sys.executable).parent / "hikikomori"
    process = subprocess.Popen([str(hikikomori), "serve", "--port", str(port)], env=environment, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2):
                return process, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the portal did not start: see serve.log")


def post(connection: http.client.HTTPConnection, token: str, name: str, content: bytes) -> tuple[int, float]:
    boundary = "portal-bench-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    started = time.perf_counter()
    connection.request(
        "POST",
        "/api/v1/submissions",
        body,
        {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    response = connection.getresponse()
    response.read()
    return response.status, (time.perf_counter() - started) * 1000


def warm(port: int, tokens: dict[str, str], files: dict[str, dict[str, bytes]]) -> None:
    """Each server process imports and caches what a verdict needs before anything is timed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for code in list(tokens)[:10]:
        for fmt in ("csv", "xlsx"):
            status, _ = post(connection, tokens[code], f"{code}_{UPLOAD_YEAR}.{fmt}", files[code][fmt])
            assert status == 201, status


def sequential(
    port: int, tokens: dict[str, str], files: dict[str, dict[str, bytes]], fmt: str, count: int
) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    codes = sorted(tokens)
    times = []
    for index in range(count):
        code = codes[index % len(codes)]
        status, elapsed = post(connection, tokens[code], f"{code}_{UPLOAD_YEAR}.{fmt}", files[code][fmt])
        assert status == 201, status
        times.append(elapsed)
    return times


def all_at_once(port: int, tokens: dict[str, str], files: dict[str, dict[str, bytes]]) -> list[float]:
    codes = sorted(tokens)
    barrier = threading.Barrier(len(codes))
    answers: dict[str, tuple[int, float]] = {}

    def upload(code: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.connect()  # connected before the barrier: the time is the upload's, not the handshake's
        barrier.wait()
        answers[code] = post(connection, tokens[code], f"{code}_{UPLOAD_YEAR}.csv", files[code]["csv"])

    threads = [threading.Thread(target=upload, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = {status for status, _ in answers.values()}
    assert len(answers) == len(codes) and statuses == {201}, statuses
    return [elapsed for _, elapsed in answers.values()]


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share) - 1]


def report(single: dict[str, list[float]], rounds: list[list[float]], load_before: float, load_after: float) -> None:
    print(f"\nload average {load_before:.2f} before, {load_after:.2f} after")
    print("\none upload at a time (warm server, loopback, kept-alive connection)")
    print("| format | uploads | p50 ms | p95 ms | max ms | p95 / 300 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for fmt, times in single.items():
        p95 = percentile(times, 95)
        print(
            f"| {fmt} | {len(times)} | {statistics.median(times):.0f} | {p95:.0f} | {max(times):.0f} "
            f"| {p95 / SINGLE_TARGET_MS:.2f} |"
        )
    every = [elapsed for times in rounds for elapsed in times]
    print(f"\n67 centers at once, {len(rounds)} rounds (every answer 201)")
    print("| answers | p50 ms | p95 ms | max ms | p95 / 1000 ms | slowest per round ms |")
    print("|---:|---:|---:|---:|---:|---|")
    p95 = percentile(every, 95)
    slowest = ", ".join(f"{max(times):.0f}" for times in rounds)
    print(
        f"| {len(every)} | {statistics.median(every):.0f} | {p95:.0f} | {max(every):.0f} "
        f"| {p95 / CONCURRENT_TARGET_MS:.2f} | {slowest} |"
    )


if __name__ == "__main__":
    sys.exit(main())
