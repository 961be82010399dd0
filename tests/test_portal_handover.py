"""Uploads handed to the pipeline: one folder each, complete when visible, taken oldest upload first."""

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from portal_support import HOKKAIDO, TOKYO, account, client_for, csv_bytes, portal_folders, upload_file
from support import query, run_audited, run_steps

from hikikomori.domain.fiscal_years import JAPAN
from hikikomori.pipeline import steps
from hikikomori.portal.handover import hand_over, remove_interrupted
from hikikomori.portal.models import Upload
from hikikomori.schemas.files import PortalManifest, discover_submissions, receive
from hikikomori.settings import Settings

START = datetime(2017, 6, 1, 10, 0, tzinfo=JAPAN)


def manifest(upload_id: str, center_code: str = TOKYO, at: datetime = START) -> PortalManifest:
    return PortalManifest(upload_id, "0" * 64, center_code, 2016, "x.csv", at.isoformat(), "tokyo")


def test_an_upload_folder_appears_complete_and_never_replaces_another(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    path = hand_over(inbox, manifest("a1"), "130001_2016.csv", b"data")

    assert path == inbox / "_portal" / "a1" / "130001_2016.csv" and path.read_bytes() == b"data"
    assert sorted(entry.name for entry in (inbox / "_portal").iterdir()) == ["a1"]  # nothing half-built left
    assert PortalManifest.read(path.parent) == manifest("a1")
    with pytest.raises(FileExistsError):
        hand_over(inbox, manifest("a1"), "130001_2016.csv", b"other")
    assert path.read_bytes() == b"data"

    (inbox / "_portal" / ".incoming-b2").mkdir()  # a server stopped while building this one
    (inbox / "_portal" / ".incoming-b2" / "130001_2016.csv").write_bytes(b"half")
    assert discover_submissions(inbox) == [path]  # a run never sees it
    remove_interrupted(inbox)
    assert sorted(entry.name for entry in (inbox / "_portal").iterdir()) == ["a1"]


def test_uploads_are_taken_in_upload_order_whatever_their_files_times(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    later = hand_over(inbox, manifest("later", at=START + timedelta(seconds=1)), "130001_2016.csv", b"2")
    earlier = hand_over(inbox, manifest("earlier", at=START), "130001_2016.csv", b"1")
    os.utime(earlier, (0, 2_000_000_000))  # the earlier upload's file looks newer on disk

    assert discover_submissions(inbox) == [earlier, later]


def test_the_manifests_center_is_the_folder_a_files_code_must_match(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    own = hand_over(inbox, manifest("own"), "130001_2016.csv", b"x")
    foreign = hand_over(inbox, manifest("foreign", HOKKAIDO), "130001_2016.csv", b"x")
    orphan = inbox / "_portal" / "orphan" / "130001_2016.csv"
    orphan.parent.mkdir()
    orphan.write_bytes(b"x")

    details = {path.parent.name: receive(path, inbox) for path in (own, foreign, orphan)}

    assert details["own"].name == "_portal/own/130001_2016.csv" and details["own"].folder == TOKYO
    assert details["foreign"].folder == HOKKAIDO  # refused as folder_mismatch by validation
    assert details["orphan"].folder == "_portal/orphan"  # no manifest: no center, refused


def test_two_uploads_before_a_run_become_versions_1_and_2_in_upload_order(portal: Settings) -> None:
    client = client_for(account("tokyo"))
    upload_file(client, "130001_2016.csv", csv_bytes(consultations=111))
    upload_file(client, "130001_2016.csv", csv_bytes(consultations=222))
    first, second = Upload.objects.order_by("uploaded_at")
    newer = datetime.now().timestamp() + 100  # the first upload's file looks newer on disk: order is the upload's
    os.utime(portal.inbox_dir / "_portal" / str(first.id) / "130001_2016.csv", (newer, newer))

    outcomes = run_audited(portal)

    assert [(item.file_name, item.outcome, item.version) for item in outcomes] == [
        (f"_portal/{first.id}/130001_2016.csv", "accepted", 1),
        (f"_portal/{second.id}/130001_2016.csv", "accepted", 2),
    ]
    totals = query(
        portal.warehouse_path,
        "select measure_total from intermediate.int_center_measure_totals where measure = 'consultations'",
    )
    assert totals.measure_total.tolist() == [222]  # the latest version counts
    assert not (portal.inbox_dir / "_portal").exists() or list((portal.inbox_dir / "_portal").iterdir()) == []


def test_a_folder_left_with_only_its_manifest_is_removed_by_the_next_run(portal: Settings) -> None:
    inbox = portal.inbox_dir
    left = inbox / "_portal" / "left"
    left.mkdir(parents=True)
    (left / "upload.json").write_bytes(manifest("left").to_json())

    run_steps(portal)

    assert not left.exists()


def test_a_portal_upload_needs_no_settling_time_a_dropped_file_does(portal: Settings, tmp_path: Path) -> None:
    from dataclasses import replace

    settling = replace(portal, limits=replace(portal.limits, settle_seconds=60))
    hand_over(portal.inbox_dir, manifest("fresh"), "130001_2016.csv", csv_bytes())
    dropped = portal.inbox_dir / HOKKAIDO / "010006_2016.csv"
    dropped.parent.mkdir(parents=True)
    dropped.write_bytes(csv_bytes(HOKKAIDO))

    received = steps.collect_submissions(settling)

    refusals = {item.name: item.refusal.rule if item.refusal else None for item in received}
    assert refusals == {"_portal/fresh/130001_2016.csv": None, "010006/010006_2016.csv": "file_still_being_written"}


def test_the_manifest_written_is_json_with_japan_time(portal: Settings) -> None:
    upload_file(client_for(account("tokyo")), "130001_2016.csv", csv_bytes())
    (folder,) = portal_folders(portal.inbox_dir)
    fields = json.loads((folder / "upload.json").read_bytes())
    assert datetime.fromisoformat(fields["uploaded_at"]).utcoffset() == timedelta(hours=9)
