"""Handing a passed upload to the pipeline: its own folder in the inbox, complete when it appears.

``inbox/_portal/<upload_id>/<center_code>_<fiscal_year>.<ext>`` and ``upload.json`` are written
under a hidden name (the pipeline ignores names starting with "."), synced, then renamed into place
in one step: no run ever sees half an upload, and no upload ever overwrites another.
"""

import os
import shutil
from pathlib import Path

from hikikomori.schemas.files import PORTAL_FOLDER, PORTAL_MANIFEST, PortalManifest

_BUILDING_PREFIX = ".incoming-"


def hand_over(inbox: Path, manifest: PortalManifest, file_name: str, content: bytes) -> Path:
    """Write the upload's folder into the inbox; ``file_name`` is built by the portal, never a user's."""
    portal = inbox / PORTAL_FOLDER
    portal.mkdir(parents=True, exist_ok=True)
    target = portal / manifest.upload_id
    if target.exists():
        raise FileExistsError(f"upload {manifest.upload_id} was handed over already")
    building = portal / f"{_BUILDING_PREFIX}{manifest.upload_id}"
    shutil.rmtree(building, ignore_errors=True)  # a try of this very upload that was interrupted
    os.mkdir(building)
    try:
        _write_synced(building / file_name, content)
        _write_synced(building / PORTAL_MANIFEST, manifest.to_json())
        _sync_folder(building)
        os.rename(building, target)
        _sync_folder(portal)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return target / file_name


def remove_interrupted(inbox: Path) -> None:
    """Folders a stopped server left half-built (never visible to a run): removed when the portal starts."""
    portal = inbox / PORTAL_FOLDER
    if portal.is_dir():
        for leftover in portal.glob(f"{_BUILDING_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)


def _write_synced(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
