"""Safe output locations and atomic writes.

Every model, checkpoint, index and report is written beside its target, then renamed into place, so an
interrupted run never leaves a half-written file behind. Temporary names carry the writer's process id
(``.NAME.hb<pid>-XXXX.tmp``); one left by a killed process is removed by the next write beside it.

Output directories are checked before any expensive work (:func:`prepare_output_dir`) and marked with
a small marker file naming their kind (:data:`MARKER`): a command only replaces an artefact of its own
kind; writing into any other non-empty directory needs ``--overwrite`` and never deletes what is there.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hybridbatch.errors import OutputError

#: Marker file of an artefact directory: ``{"kind": ..., "files": [...], "created": ...}``.
MARKER = ".hybridbatch.json"
_TEMP = re.compile(r"\.hb(\d+)-[A-Za-z0-9_]+\.tmp$")


# --- temporary files ----------------------------------------------------------------------
def _temp_prefix(name: str) -> str:
    return f".{name}.hb{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's live process
        pass
    return True


def clean_stale_temps(directory: str | Path, name: str | None = None) -> list[Path]:
    """Remove this module's temporaries (``.NAME.hb<pid>-XXXX.tmp``, optionally of one ``name``) in
    ``directory`` whose writer process is gone; a live writer's are left alone. Returns the removed."""
    directory = Path(directory)
    pattern = f".{glob.escape(name)}.hb*.tmp" if name else ".*.hb*.tmp"
    removed = []
    for temp in list(directory.glob(pattern)):
        match = _TEMP.search(temp.name)
        if match is None or _alive(int(match.group(1))):
            continue
        if temp.is_dir() and not temp.is_symlink():
            shutil.rmtree(temp, ignore_errors=True)
        else:
            with suppress(OSError):
                temp.unlink()
        removed.append(temp)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- atomic writes ------------------------------------------------------------------------
def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same directory, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented UTF-8 JSON to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def _temp_dir(parent: Path, name: str) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(name), suffix=".tmp", dir=parent))
    os.chmod(tmp, 0o777 & ~_umask())
    return tmp


def _recover_old(path: Path) -> Path:
    """The ``.NAME.old`` of a swap; restored to ``path`` when a crash left only the old copy."""
    old = path.with_name(f".{path.name}.old")
    if old.exists() and not path.exists():
        os.replace(old, path)
    return old


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling directory; on success it replaces ``path`` in one rename.

    An existing ``path`` is moved aside first and removed after the swap, so a crash leaves either the
    old or the new directory, never a mix (the next call restores or removes the aside copy). Only for
    directories this package created; user-facing outputs go through :func:`artefact_directory`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(path.parent, path.name)
    old = _recover_old(path)
    tmp = _temp_dir(path.parent, path.name)
    try:
        yield tmp
        _swap(tmp, path, old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(tmp: Path, path: Path, old: Path) -> None:
    moved = False
    if path.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
        moved = True
    os.replace(tmp, path)
    if moved:
        shutil.rmtree(old, ignore_errors=True)


# --- output locations ---------------------------------------------------------------------
def read_marker(path: str | Path) -> dict[str, Any] | None:
    """The marker of an artefact directory (``None`` when absent or unreadable)."""
    try:
        meta = json.loads((Path(path) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("kind"), str) else None


def mark_artefact(path: str | Path, kind: str, files: Iterable[str] | None = None) -> Path:
    """Write the marker naming ``kind`` and the entries ``files`` (default: all) that make up ``path``."""
    path = Path(path)
    names = sorted(files if files is not None else _visible(path))
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return atomic_write_json(path / MARKER, {"kind": kind, "files": names, "created": created})


def _visible(path: Path) -> list[str]:
    """Entries of ``path`` other than the marker and this module's temporaries."""
    return sorted(p.name for p in path.iterdir() if p.name != MARKER and not _TEMP.search(p.name))


def _check_location(path: Path, flag: str, want_dir: bool) -> None:
    """Common checks: not empty, not the working directory or above it, no file on the way, writable."""
    if path.is_symlink() and not path.exists():
        raise OutputError(f"{flag} {path}: is a broken symbolic link")
    resolved = path.expanduser().resolve()
    if want_dir and (resolved == Path.cwd().resolve() or resolved in Path.cwd().resolve().parents):
        raise OutputError(
            f"{flag} {path}: refusing to write into the current directory or above it; "
            "name a new subdirectory"
        )
    existing = resolved
    while not existing.exists():
        existing = existing.parent
    if existing != resolved and not existing.is_dir():
        raise OutputError(f"{flag} {path}: {existing} is a file, not a directory")
    if want_dir and existing == resolved and not resolved.is_dir():
        raise OutputError(f"{flag} {path}: is an existing file; give a directory")
    if not want_dir and existing == resolved and resolved.is_dir():
        raise OutputError(f"{flag} {path}: is a directory; give a file name")
    probe_dir = resolved if resolved.is_dir() else existing if existing != resolved else resolved.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=_temp_prefix("probe"), suffix=".tmp", dir=probe_dir)
    except OSError as exc:
        raise OutputError(f"{flag} {path}: cannot write in {probe_dir} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)


def prepare_output_dir(path: str | Path, kind: str, overwrite: bool = False, *, flag: str = "--out") -> Path:
    """Validate the output directory of a ``kind`` artefact before any expensive work; return it.

    Refused (:class:`OutputError` naming ``flag``): an empty path, the working directory, an existing
    file, a path under a file, an unwritable location, and a non-empty directory that is not an
    artefact of the same ``kind`` unless ``overwrite``. Nothing is created or deleted here; stale
    temporaries of killed writers are cleaned up.
    """
    if not str(path).strip():
        raise OutputError(f"{flag}: empty path")
    path = Path(path)
    _check_location(path, flag, want_dir=True)
    if path.is_dir():
        clean_stale_temps(path)
        clean_stale_temps(path.parent, path.name)
        marker = read_marker(path)
        found = _visible(path)
        if found and (marker is None or marker["kind"] != kind) and not overwrite:
            held = ", ".join(found[:3]) + (f", … {len(found) - 3} more" if len(found) > 3 else "")
            what = f"holds a hybridbatch {marker['kind']}" if marker else f"is not empty (holds {held})"
            raise OutputError(
                f"{flag} {path}: directory {what}, not a hybridbatch {kind}; "
                "pass --overwrite to write into it (nothing there is deleted)"
            )
    return path


def prepare_output_file(path: str | Path, overwrite: bool = False, *, flag: str = "--out") -> Path:
    """Validate an output file before any expensive work: as :func:`prepare_output_dir`, and an
    existing file is only replaced with ``overwrite``."""
    if not str(path).strip():
        raise OutputError(f"{flag}: empty path")
    path = Path(path)
    _check_location(path, flag, want_dir=False)
    if path.exists() and not path.is_file():
        raise OutputError(f"{flag} {path}: is not a regular file")
    if path.exists() and not overwrite:
        raise OutputError(f"{flag} {path}: file exists; pass --overwrite to replace it")
    return path


@contextmanager
def artefact_directory(path: str | Path, kind: str) -> Iterator[Path]:
    """Yield a temporary directory to fill; on success its entries become the ``kind`` artefact ``path``.

    A new ``path``, or one holding only a previous artefact's own files, is replaced in one rename
    (atomic). Into any other existing directory (validated by :func:`prepare_output_dir`) the entries
    are renamed one by one, marker last, and nothing else there is touched.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: is an existing file; give a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    merge = path.is_symlink() or (path.is_dir() and not _only_own_files(path))
    parent = path if merge else path.parent
    clean_stale_temps(parent, kind if merge else path.name)
    old = _recover_old(path)
    tmp = _temp_dir(parent, kind if merge else path.name)
    try:
        yield tmp
        names = [p.name for p in tmp.iterdir() if p.name != MARKER]
        mark_artefact(tmp, kind, names)
        if merge:
            _merge(tmp, path)
            tmp.rmdir()
        else:
            _swap(tmp, path, old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def marked_output(path: str | Path, kind: str) -> Iterator[Path]:
    """For writers that write file by file (atomically) into ``path``: on success, mark it as a ``kind``
    artefact owning the entries it added (plus those a previous ``kind`` marker owned)."""
    path = Path(path)
    before = set(_visible(path)) if path.is_dir() else set()
    marker = read_marker(path) if path.is_dir() else None
    owned = set(marker.get("files", [])) if marker and marker["kind"] == kind else set()
    yield path
    after = set(_visible(path))
    mark_artefact(path, kind, (after - before) | (owned & after))


def _only_own_files(path: Path) -> bool:
    """Whether ``path`` is a marked artefact holding nothing but the files its marker lists."""
    marker = read_marker(path)
    return marker is not None and set(_visible(path)) <= set(marker.get("files", []))


def _merge(src: Path, dst: Path) -> None:
    """Rename every entry of ``src`` into ``dst`` (directories merged recursively), the marker last."""
    for entry in sorted(src.iterdir(), key=lambda p: p.name == MARKER):
        target = dst / entry.name
        if entry.is_dir() and target.is_dir():
            _merge(entry, target)
            entry.rmdir()
        elif target.is_dir():
            raise OutputError(f"{target}: is a directory; cannot replace it with a file")
        else:
            os.replace(entry, target)


@contextmanager
def sibling_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``.<name>.lock`` beside ``path`` (one builder of ``path`` at a time,
    across processes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
