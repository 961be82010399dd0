"""Every rule a submission can break, each defined once: one object in ``RULES``.

A rule has its code (stable: error reports, the warehouse and the API carry it), the message a center
reads and how to fix it, in Japanese then English (templates over the file's ``{value}`` and
``{expected}``), and the submission column whose cell it points at. By kind:

- ``Rule``: about the file as a whole, its name, shape or workbook cells, raised by the reader
  (``schemas/files.py``), or a required row that is absent (``item_missing``, raised by the batch
  validation in ``schemas/validation.py``).
- ``ValueRule``: about one cell's text alone; ``valid`` judges one text. The text layer of the
  pandera schemas runs it once per distinct text (``schemas/submission.py``).
- ``ContextRule``: about parsed values in their context (the file's name, the registry, the run
  date, the fiscal year's form, the file's other rows); ``holds`` judges every row of the typed frame
  at once, ``expected`` gives the value a failing row's message compares against.

``schemas/submission.py`` builds the pandera schemas from this catalogue, so a check cannot exist
without its message; ``docs/center_guide.md``'s table of rules is generated from it.
"""

from collections.abc import Callable, Hashable, Mapping
from dataclasses import KW_ONLY, asdict, dataclass
from typing import Any

import pandas as pd

from hikikomori.domain.center_codes import has_valid_check_digit, is_six_digits
from hikikomori.domain.counts import CountProblem, count_problem
from hikikomori.domain.fiscal_years import FIRST_LABELLED_FISCAL_YEAR, describe_fiscal_year, parse_fiscal_year
from hikikomori.domain.reference import TOTAL_CATEGORY
from hikikomori.domain.text import normalize_text, normalize_width, printable
from hikikomori.domain.vocabulary import FileOutcome, Measure

MEASURES = frozenset(Measure)  # the codes a measure cell may hold (StrEnum members are their text)

# A row of the typed frame (``schemas/submission.py``: SUBMISSION_ROWS_IN_CONTEXT), column → value.
TypedRow = Mapping[Hashable, Any]
RowsCheck = Callable[[pd.DataFrame], "pd.Series[bool]"]


@dataclass(frozen=True)
class Rule:
    """A rule about the file as a whole (its name, encoding, shape …); the reader raises it."""

    code: str
    message_ja: str
    message_en: str
    fix_ja: str
    fix_en: str
    _: KW_ONLY
    column: str | None = None  # the submission column its issues point at, when it is always the same
    # What becomes of a file refused for this reason: REJECTED, quarantined with its error report (the
    # file's own fault); DEFERRED, left in the inbox for a later run (not the center's fault, or not
    # judged yet); GONE, no longer in the inbox to take.
    outcome: FileOutcome = FileOutcome.REJECTED


@dataclass(frozen=True, kw_only=True)
class ValueRule(Rule):
    """A rule about one cell's text, whatever the rest of the file says."""

    column: str
    valid: Callable[[str], bool]  # the cell's text as written → whether the rule holds


def _no_expected_value(row: TypedRow) -> str | None:
    return None


@dataclass(frozen=True, kw_only=True)
class ContextRule(Rule):
    """A rule about a parsed value in its context (file name, registry, run date, form, other rows)."""

    column: str
    holds: RowsCheck  # the typed frame → for each row, whether the rule holds
    expected: Callable[[TypedRow], str | None] = _no_expected_value  # what a failing row is compared with


def _unknown(*columns: "pd.Series[Any]") -> "pd.Series[bool]":
    """Rows where any of the compared values is null: another rule already reports them."""
    result = columns[0].isna()
    for column in columns[1:]:
        result = result | column.isna()
    return result


def _check_digit_valid_if_six_digits(text: str) -> bool:
    code = normalize_width(text)
    return not is_six_digits(code) or has_valid_check_digit(code)


def _is_fiscal_year(text: str) -> bool:
    try:
        parse_fiscal_year(text)
    except ValueError:
        return False
    return True


def _count_is_not(problem: CountProblem) -> Callable[[str], bool]:
    return lambda text: count_problem(text) is not problem


def _category_known_or_judged_elsewhere(rows: pd.DataFrame) -> "pd.Series[bool]":
    """Known on the year's form, or already reported (other form, blank, unknown measure or form)."""
    holds = rows["category"].notna() | rows["category_in_other_form"] | rows["measure"].isna() | rows["form"].isna()
    # Blank or not is asked of the few rows still in question, not of every row's text (0.04 s at 10,000 files).
    in_question = ~holds
    holds[in_question] = (rows.loc[in_question, "category_text"].str.strip() == "").to_numpy(dtype=bool)
    return holds


def _referral_total_is_the_sum(rows: pd.DataFrame) -> "pd.Series[bool]":
    """A referral total row equals the sum of the file's categories (when both are known)."""
    is_total = (rows["measure"] == Measure.REFERRALS) & (rows["category"] == TOTAL_CATEGORY)
    comparable = is_total.fillna(False) & rows["count"].notna() & rows["referral_category_sum"].notna()
    return ~comparable | (rows["count"] == rows["referral_category_sum"]).fillna(True)


def _count_within_the_maximum(rows: pd.DataFrame) -> "pd.Series[bool]":
    """At most the settings' maximum per item (``InputLimits.max_count``); an unreadable count is judged elsewhere."""
    return rows["count"].isna() | (rows["count"] <= rows["max_count"])


def _form_year(row: TypedRow) -> str | None:
    """The fiscal year whose form a category is judged on: the row's, else the file's."""
    for year in (row["fiscal_year"], row["expected_fiscal_year"]):
        if pd.notna(year):
            return describe_fiscal_year(int(year))
    return None


_RULES: tuple[Rule, ...] = (
    # The file as a whole
    Rule(
        "file_name",
        "ファイル名が「団体コード_年度.csv」または「.xlsx」の形ではありません",
        "file name must be <center_code>_<fiscal_year>.csv or .xlsx",
        "例: 130001_2016.csv のように、6桁の団体コードと西暦の年度を「_」でつないでください",
        "name the file like 130001_2016.csv: the 6-digit center code, an underscore, the Western fiscal year",
    ),
    Rule(
        "file_name_characters",
        "ファイル名またはフォルダ名に使えない文字 {value} が含まれています",
        "the file or folder name contains characters that are not allowed: {value}",
        "半角の英数字と「_」「.」「-」だけを使い、例: 130001_2016.csv のように名前を付けてください",
        "use only ASCII letters, digits, _ . and -, e.g. 130001_2016.csv",
    ),
    Rule(
        "file_symlink",
        "受付フォルダのこの項目はシンボリックリンク（リンク先: {value}）です。リンク先は読み込みません",
        "this inbox entry is a symbolic link (to {value}); links are never followed",
        "リンクではなく、ファイルそのものを置いてください",
        "put the file itself in the inbox, not a link to it",
    ),
    Rule(
        "file_still_being_written",
        "ファイルが書き込み中の可能性があります（{value}）。今回は取り込まず、受付フォルダに残して次回の実行で読み込みます",
        "the file may still be being written ({value}): left in the inbox for the next run",
        "対処は不要です。書き込みが終わったファイルは次回の実行で受け付けます",
        "nothing to do: the file is taken in by the next run once it is complete",
        outcome=FileOutcome.DEFERRED,
    ),
    Rule(
        "file_partial",
        "名前が「.part」で終わるファイルは書き込み中として扱い、受付フォルダに残しました",
        "a name ending in .part marks a file still being written: left in the inbox",
        "書き込みが終わったら、名前から .part を外してください（次の実行で受け付けます）",
        "rename it without .part once it is complete; the next run takes it in",
        outcome=FileOutcome.DEFERRED,
    ),
    Rule(
        "file_inaccessible",
        "システムが受付フォルダのこの項目を開けません（{value}）。受付フォルダに残し、次回の実行で読み直します",
        "the system cannot open this inbox entry ({value}): it stays in the inbox and is read again next run",
        "サーバーの管理者が、ファイルとフォルダの読み取り権限を確認してください",
        "the server's administrator should check the permissions of the file and its folder",
        outcome=FileOutcome.DEFERRED,
    ),
    Rule(
        "file_vanished",
        "読み込む前に、ファイルが受付フォルダから消えました（移動または削除されました: {value}）",
        "the file disappeared from the inbox before it was read (moved or deleted: {value})",
        "取り込む必要がある場合は、もう一度受付フォルダに置いてください",
        "put it in the inbox again if it should be taken in",
        outcome=FileOutcome.GONE,
    ),
    Rule(
        "file_too_deep",
        "ファイルが受付フォルダの深すぎる場所（{value}）にあります",
        "the file is too deep in the inbox ({value})",
        "受付フォルダの直下か、団体コードのフォルダ（例: 130001/）の直下に置いてください",
        "put it directly in the inbox or directly in its center's folder (e.g. 130001/)",
    ),
    Rule(
        "file_unreadable",
        "ファイルを読み取れません（{value}）",
        "the file cannot be read ({value})",
        "Excelで開けるか確かめて保存し直してください。直らない場合は、このエラーレポートを添えて事務局に連絡してください",
        "check that it opens in Excel and save it again; if that does not help, send this error report to the office",
    ),
    Rule(
        "file_not_checked",
        "システムがこのファイルを検査できませんでした（{value}）。受付フォルダに残し、次回の実行で検査し直します",
        "the system failed while checking this file ({value}): left in the inbox and checked again next run",
        "サーバーの管理者が、このメッセージを開発担当に伝えてください（ファイルの誤りではありません）",
        "the server's administrator should report this message to the developers (not an error in the file)",
        outcome=FileOutcome.DEFERRED,
    ),
    Rule(
        "file_not_stored",
        "保管フォルダ（archive / quarantine）に書き込めませんでした（{value}）。"
        "受付フォルダに残し、次回の実行で取り込み直します",
        "could not be written to the archive or quarantine ({value}): left in the inbox for the next run",
        "サーバーの管理者が、ディスクの空き容量と保管フォルダの権限を確認してください",
        "the server's administrator should check the free disk space and the folders' permissions",
        outcome=FileOutcome.DEFERRED,
    ),
    Rule(
        "file_not_recorded",
        "ウェアハウスに記録できませんでした（{value}）。受付フォルダに残し、次回の実行で取り込み直します",
        "could not be recorded in the warehouse ({value}): left in the inbox for the next run",
        "サーバーの管理者が、このメッセージを開発担当に伝えてください",
        "the server's administrator should report this message to the developers",
        outcome=FileOutcome.DEFERRED,
    ),
    Rule(
        "file_not_removed",
        "取込と記録は完了しましたが、受付フォルダから削除できませんでした（{value}）。"
        "次回の実行は記録済みのファイルとして削除だけを試みます",
        "taken in and recorded, but it could not be removed from the inbox ({value}); "
        "the next run recognises it and only retries the removal",
        "サーバーの管理者が、ファイルとフォルダの権限（変更不可の属性を含む）を確認してください",
        "the server's administrator should check the permissions of the file and its folder (and the immutable flag)",
        outcome=FileOutcome.DEFERRED,
    ),
    Rule(
        "file_changed_after_read",
        "読み込んだ後にファイルが変更されたため、受付フォルダに残しました（{value}）。新しい内容は次回の実行で取り込みます",
        "the file changed after it was read ({value}): left in the inbox, its new content is taken in next run",
        "対処は不要です",
        "nothing to do",
        outcome=FileOutcome.DEFERRED,
    ),
    Rule(
        "file_too_large",
        "ファイルが大きすぎます（{value} バイト、上限 {expected} バイト）",
        "the file is {value} bytes, over the limit of {expected} bytes",
        "1団体・1年度分だけを、テンプレートの形で保存してください",
        "send one center's one fiscal year only, in the template's layout",
    ),
    Rule(
        "too_many_rows",
        "行数が上限の {expected} 行を超えています",
        "the file has more than {expected} rows",
        "1団体・1年度分だけを、テンプレートの形で保存してください",
        "send one center's one fiscal year only, in the template's layout",
    ),
    Rule(
        "folder_mismatch",
        "フォルダ {expected} に別の団体 {value} のファイルがあります",
        "file for center {value} is in the folder of center {expected}",
        "自団体のフォルダに、自団体のファイルだけを置いてください",
        "put only your own center's files in your center's folder",
    ),
    Rule(
        "file_empty",
        "ファイルが空です",
        "the file is empty",
        "テンプレートに入力して保存し直してください",
        "fill in the template and save it again",
    ),
    Rule(
        "file_not_text",
        "CSVとして読めません（文字ではないデータが含まれています）",
        "not a CSV text file (contains binary data)",
        "ExcelでCSV形式を選んで保存し直してください",
        "save it again from Excel choosing a CSV format",
    ),
    Rule(
        "file_encoding",
        "文字コードを判別できません",
        "the text is neither UTF-8 nor CP932 (Shift_JIS)",
        "Excelで「CSV (コンマ区切り)」または「CSV UTF-8」を選んで保存してください",
        "save it from Excel as 'CSV (Comma delimited)' or 'CSV UTF-8'",
    ),
    Rule(
        "file_mixed_encoding",
        "1つのファイルに UTF-8 の行と CP932 (Shift_JIS) の行が混在しています（この行から CP932）",
        "the file mixes UTF-8 and CP932 (Shift_JIS) lines (CP932 from this line)",
        "全体を同じ文字コードで保存し直してください（Excelで開いて「CSV UTF-8」で保存）",
        "save the whole file in one encoding (open it in Excel and save as CSV UTF-8)",
    ),
    Rule(
        "csv_malformed",
        "CSVとして解析できません（{value}）",
        "cannot be parsed as CSV: {value}",
        "ExcelでCSV形式を選んで保存し直してください",
        "save it again from Excel as CSV",
    ),
    Rule(
        "xlsx_unreadable",
        "Excelファイルとして開けません（{value}）",
        "cannot be opened as an .xlsx workbook ({value})",
        "配布したテンプレートに入力し、.xlsx 形式で保存してください",
        "fill in the template you were sent and save it as .xlsx",
    ),
    Rule(
        "xlsx_too_large",
        "Excelファイルの展開後のサイズが大きすぎます（{value} バイト、上限 {expected} バイト）",
        "the workbook unpacks to {value} bytes, over the limit of {expected} bytes",
        "配布したテンプレートに入力し、.xlsx 形式で保存してください",
        "fill in the distributed template and save it as .xlsx",
    ),
    Rule(
        "xlsx_macros",
        "マクロ（VBA）を含むブックは受け付けません（{value}）",
        "workbooks with macros (VBA) are not accepted ({value})",
        "マクロなしの .xlsx 形式（Excelブック）で保存してください",
        "save as a macro-free .xlsx workbook",
    ),
    Rule(
        "xlsx_external_links",
        "他のファイルへの外部リンクを含むブックは受け付けません（{value}）",
        "workbooks with links to other files are not accepted ({value})",
        "「データ」→「リンクの編集」でリンクを解除し、値だけにしてから保存してください",
        "break the links (Data → Edit Links) so that only values remain, then save",
    ),
    Rule(
        "header_missing",
        "見出し行に必要な列 {value} がありません",
        "header lacks column(s) {value}",
        "1行目を center_code,fiscal_year,measure,category,count にしてください",
        "make the header row center_code,fiscal_year,measure,category,count",
    ),
    Rule(
        "header_unknown",
        "見出し行に不明な列 {value} があります",
        "header has unknown column(s) {value}",
        "1行目を center_code,fiscal_year,measure,category,count にしてください",
        "make the header row center_code,fiscal_year,measure,category,count",
    ),
    Rule(
        "header_duplicate",
        "見出し行に列 {value} が2回以上あります",
        "header repeats column(s) {value}",
        "同じ見出しの列を1つにしてください",
        "keep one column per heading",
    ),
    Rule(
        "row_above_header",
        "見出し行（{expected} 行目）より上にデータの行があります",
        "a data row is above the header row (row {expected})",
        "見出し行（center_code,fiscal_year,…）を先頭にし、データはすべてその下に入力してください",
        "put the header row (center_code,fiscal_year,…) first and every data row below it",
    ),
    Rule(
        "no_data_rows",
        "データ行がありません",
        "the file has a header but no data rows",
        "各項目の行を入力してください",
        "enter a row for each item",
    ),
    Rule(
        "row_length",
        "この行の列数 ({value}) が見出しの列数 ({expected}) と違います",
        "this row has {value} fields but the header has {expected}",
        '「1,323」のようにカンマを含む数値は "1,323" と引用符で囲むか、カンマなしで入力してください',
        "quote numbers with commas ('1,323' in double quotes) or type them without commas",
    ),
    Rule(
        "cell_formula",
        "セルに数式が入っています",
        "the cell holds a formula",
        "数式ではなく数値を直接入力してください",
        "type the number itself, not a formula",
    ),
    Rule(
        "cell_date",
        "セルに日付が入っています",
        "the cell holds a date",
        "セルの書式を「標準」または「数値」にして入力し直してください",
        "set the cell format to General or Number and type the number again",
    ),
    # One value
    ValueRule(
        "center_code_format",
        "団体コードは6桁の数字です",
        "center_code must be 6 digits",
        "先頭の0も含めて6桁で入力してください（Excelで先頭の0が消えていないか確認してください）",
        "type all 6 digits, leading zero included (check Excel did not drop it)",
        column="center_code",
        valid=lambda text: is_six_digits(normalize_width(text)),
    ),
    ValueRule(
        "center_code_check_digit",
        "団体コードの検査数字（6桁目）が正しくありません",
        "center_code has a wrong check digit",
        "全国地方公共団体コードを確認してください",
        "check the local government code",
        column="center_code",
        valid=_check_digit_valid_if_six_digits,
    ),
    ContextRule(
        "center_not_registered",
        "団体コード {value} はセンター名簿にありません",
        "center {value} is not in the center registry",
        "団体コードを確認してください",
        "check the center code",
        column="center_code",
        holds=lambda rows: rows["center_code"].isna() | rows["center_opened_fiscal_year"].notna(),
    ),
    ContextRule(
        "center_not_open",
        "{value} のセンターは {expected} に開所したため、この年度は報告対象外です",
        "center {value} opened in FY{expected}, after this fiscal year",
        "年度を確認してください",
        "check the fiscal year",
        column="center_code",
        holds=lambda rows: (
            _unknown(rows["fiscal_year"], rows["center_opened_fiscal_year"])
            | (rows["fiscal_year"] >= rows["center_opened_fiscal_year"])
        ),
        expected=lambda row: describe_fiscal_year(int(row["center_opened_fiscal_year"])),
    ),
    ContextRule(
        "center_code_mismatch",
        "団体コード {value} がファイル名の {expected} と一致しません",
        "center_code {value} differs from the file name's {expected}",
        "1つのファイルには1団体・1年度分だけを入力してください",
        "put one center and one fiscal year in each file",
        column="center_code",
        holds=lambda rows: (
            _unknown(rows["center_code"], rows["expected_center_code"])
            | (rows["center_code"] == rows["expected_center_code"])
        ),
        expected=lambda row: str(row["expected_center_code"]),
    ),
    ValueRule(
        "fiscal_year_format",
        "年度の書き方が正しくありません",
        "fiscal_year is not a recognised form",
        "2016、平成28年度、H28、令和6年度、R6 のいずれかの形で入力してください",
        "write it as 2016, 平成28年度, H28, 令和6年度 or R6",
        column="fiscal_year",
        valid=_is_fiscal_year,
    ),
    ContextRule(
        "fiscal_year_mismatch",
        "年度 {value} がファイル名の {expected} と一致しません",
        "fiscal year {value} differs from the file name's {expected}",
        "1つのファイルには1団体・1年度分だけを入力してください",
        "put one center and one fiscal year in each file",
        column="fiscal_year",
        holds=lambda rows: (
            _unknown(rows["fiscal_year"], rows["expected_fiscal_year"])
            | (rows["fiscal_year"] == rows["expected_fiscal_year"])
        ),
        expected=lambda row: str(row["expected_fiscal_year"]),
    ),
    ContextRule(
        "fiscal_year_not_ended",
        "{value} はまだ終わっていない年度です（提出できるのは {expected} まで）",
        "fiscal year {value} has not ended yet (latest accepted: FY{expected})",
        "年度が終わってから（4月1日以降に）提出してください",
        "send it after the fiscal year has ended (from April 1)",
        column="fiscal_year",
        holds=lambda rows: rows["fiscal_year"].isna() | (rows["fiscal_year"] <= rows["last_ended_fiscal_year"]),
        expected=lambda row: describe_fiscal_year(int(row["last_ended_fiscal_year"])),
    ),
    ContextRule(
        "fiscal_year_out_of_range",
        "年度 {value} は受付の範囲外です（{expected} 以降）",
        "fiscal year {value} is out of range (from FY{expected})",
        "年度を確認してください",
        "check the fiscal year",
        column="fiscal_year",
        holds=lambda rows: rows["fiscal_year"].isna() | (rows["fiscal_year"] >= FIRST_LABELLED_FISCAL_YEAR),
        expected=lambda row: describe_fiscal_year(FIRST_LABELLED_FISCAL_YEAR),
    ),
    ValueRule(
        "measure_unknown",
        "measure 列の値 {value} は使えません",
        "measure {value} is not one of consultations, referrals, supporter_activities",
        "consultations、referrals、supporter_activities のいずれかを入力してください",
        "use consultations, referrals or supporter_activities",
        column="measure",
        valid=lambda text: text.strip() in MEASURES,
    ),
    ValueRule(
        "category_blank",
        "category 列が空です",
        "category is blank",
        "区分のコードまたは日本語名を入力してください",
        "enter the category code or its Japanese label",
        column="category",
        valid=lambda text: bool(normalize_text(text)),
    ),
    ContextRule(
        "category_unknown",
        "category 列の値 {value} はこの項目の区分にありません",
        "category {value} is not a category of this measure on the FY{expected} form",
        "テンプレートの区分名（またはコード）をそのまま使ってください",
        "use the template's category labels (or codes) exactly",
        column="category",
        holds=_category_known_or_judged_elsewhere,
        expected=_form_year,
    ),
    ContextRule(
        "category_other_form",
        "区分 {value} は {expected} の様式にはありません",
        "category {value} belongs to the other years' form, not the FY{expected} form",
        "平成27年度(2015)までは9区分、平成28年度(2016)以降は21区分の様式です",
        "up to FY2015 the form has 9 groups; from FY2016, 21 categories",
        column="category",
        holds=lambda rows: rows["category"].notna() | ~rows["category_in_other_form"] | rows["measure"].isna(),
        expected=_form_year,
    ),
    ContextRule(
        "category_duplicate",
        "区分 {value} が2回以上あります（最初は {expected} 行目）",
        "category {value} appears more than once (first on row {expected})",
        "同じ区分の行を1つにまとめてください",
        "keep one row per category",
        column="category",
        holds=lambda rows: rows["first_row_of_category"].isna() | (rows["first_row_of_category"] == rows["row_number"]),
        expected=lambda row: str(row["first_row_of_category"]),
    ),
    Rule(
        "item_missing",
        "必須の項目 {value} の行がありません",
        "required item {value} is missing",
        "テンプレートのすべての区分を、0件でも入力してください",
        "enter every category of the template, 0 when there were none",
        column="category",
    ),
    ValueRule(
        "count_blank",
        "件数が空欄です",
        "count is blank",
        "0件の場合は 0 を入力してください",
        "enter 0 when there were none",
        column="count",
        valid=_count_is_not(CountProblem.BLANK),
    ),
    ValueRule(
        "count_negative",
        "件数にマイナスの値は使えません",
        "count must not be negative",
        "0以上の整数を入力してください",
        "enter a whole number of 0 or more",
        column="count",
        valid=_count_is_not(CountProblem.NEGATIVE),
    ),
    ValueRule(
        "count_fraction",
        "件数に小数は使えません",
        "count must be a whole number",
        "整数で入力してください",
        "enter a whole number",
        column="count",
        valid=_count_is_not(CountProblem.FRACTION),
    ),
    ValueRule(
        "count_not_a_number",
        "件数が数値ではありません",
        "count is not a number",
        "半角または全角の数字だけを入力してください（例: 1323 または 1,323）",
        "enter digits only (e.g. 1323 or 1,323)",
        column="count",
        valid=_count_is_not(CountProblem.NOT_A_NUMBER),
    ),
    ContextRule(
        "count_too_large",
        "件数 {value} が1項目の上限 {expected} を超えています",
        "count {value} is over the maximum of {expected} per item",
        "件数を確認してください（桁の打ち間違いなど）",
        "check the count (an extra digit?)",
        column="count",
        holds=_count_within_the_maximum,
        expected=lambda row: f"{int(row['max_count']):,}",
    ),
    ContextRule(
        "referral_total_mismatch",
        "referrals の合計 {value} が各区分の和 {expected} と一致しません",
        "referrals total {value} differs from the sum of its categories {expected}",
        "各区分の件数か合計行を直してください（合計行は省略もできます）",
        "correct the category counts or the total row (the total row may be left out)",
        column="count",
        holds=_referral_total_is_the_sum,
        expected=lambda row: str(row["referral_category_sum"]),
    ),
)
RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}
VALUE_RULES = tuple(rule for rule in _RULES if isinstance(rule, ValueRule))
CONTEXT_RULES = tuple(rule for rule in _RULES if isinstance(rule, ContextRule))


@dataclass(frozen=True)
class Issue:
    """One problem in one submission file. ``row`` is as numbered in a spreadsheet (header = 1)."""

    file: str
    rule: str  # a code of RULES
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    value: str | None = None
    expected: str | None = None

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise KeyError(f"no rule {self.rule!r} in hikikomori.schemas.rules.RULES")

    @property
    def message_ja(self) -> str:
        """The message with the value shown safely (control characters escaped): it reaches terminals."""
        return RULES[self.rule].message_ja.format(value=_shown(self.value), expected=_shown(self.expected))

    @property
    def message_en(self) -> str:
        return RULES[self.rule].message_en.format(value=_shown(self.value), expected=_shown(self.expected))

    @property
    def outcome(self) -> FileOutcome:
        """What becomes of a file refused for this issue (``Rule.outcome``)."""
        return RULES[self.rule].outcome

    @property
    def fix_ja(self) -> str:
        return RULES[self.rule].fix_ja

    @property
    def fix_en(self) -> str:
        return RULES[self.rule].fix_en

    def as_record(self) -> dict[str, object]:
        """Every field as stored (``file`` and ``value`` as the file had them) and the messages."""
        return {
            **asdict(self),
            "message_ja": self.message_ja,
            "message_en": self.message_en,
            "fix_ja": self.fix_ja,
            "fix_en": self.fix_en,
        }


def _shown(text: str | None) -> str | None:
    return None if text is None else printable(text)
