"""The receipt a center gets back for an accepted file, to compare with what it meant to send.

A receipt is read from the warehouse's record of the file (``hikikomori receipt``), never kept apart
from it: the version, time and totals it shows are the ones counted.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hikikomori.domain.fiscal_years import JAPAN, describe_fiscal_year
from hikikomori.domain.labels import label
from hikikomori.domain.text import printable, printable_json
from hikikomori.domain.vocabulary import Measure
from hikikomori.schemas.validation import Totals
from hikikomori.warehouse import queries
from hikikomori.warehouse.connection import connect


@dataclass(frozen=True)
class AcceptanceReceipt:
    file_name: str
    center_code: str
    fiscal_year: int
    content_sha256: str
    received_at: datetime
    version: int
    totals: Totals

    def as_record(self) -> dict[str, object]:
        return {
            "file": self.file_name,
            "center_code": self.center_code,
            "fiscal_year": self.fiscal_year,
            "content_sha256": self.content_sha256,
            "received_at": self.received_at.astimezone(JAPAN).isoformat(),
            "version": self.version,
            "totals": self.totals,
        }


def accepted_receipts(warehouse: Path, center_code: str, fiscal_year: int) -> list[AcceptanceReceipt]:
    """The receipt of every accepted version of a center's fiscal year, oldest first (read-only)."""
    with connect(warehouse, read_only=True) as connection:
        versions = queries.accepted_versions(connection, center_code, fiscal_year)
    return [
        AcceptanceReceipt(file_name, center_code, fiscal_year, sha256, received_at, version, totals)
        for version, file_name, sha256, received_at, totals in versions
    ]


def receipt_json(receipt: AcceptanceReceipt) -> bytes:
    return (printable_json(receipt.as_record(), indent=2) + "\n").encode("utf-8")


def receipt_text(receipt: AcceptanceReceipt) -> bytes:
    """A short Japanese-first summary; UTF-8 with BOM so Windows' Notepad shows Japanese intact."""
    lines = [
        "受領証（受け付けました）/ receipt: the file was accepted",
        f"ファイル / file: {printable(receipt.file_name)}",
        f"団体コード / center: {receipt.center_code}",
        f"年度 / fiscal year: {describe_fiscal_year(receipt.fiscal_year)}",
        f"受付日時 / received at: {receipt.received_at.astimezone(JAPAN):%Y-%m-%d %H:%M:%S} (JST)",
        f"版 / version: {receipt.version}（同じ団体・年度の{receipt.version}回目の受付）",
        f"SHA-256: {receipt.content_sha256}",
        "読み取った合計 / totals read:",
        *(
            f"  {_total_label(measure)} ({measure}): {receipt.totals[measure]:,}"
            for measure in Measure
            if measure in receipt.totals
        ),
        "送ったつもりの数字と違う場合は、修正したファイルを送り直してください（新しい版になります）。",
        "If these differ from what you meant to send, send a corrected file: it becomes the next version.",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _total_label(measure: Measure) -> str:
    """What a total read from the file is: referrals are summed over their categories."""
    return f"{label(measure).ja}（区分の合計）" if measure is Measure.REFERRALS else label(measure).ja
