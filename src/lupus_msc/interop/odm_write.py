"""An ODM 1.3.2 Snapshot file written as a stream, subject by subject (issue 8, CDISC).

The root ``ODM`` element (default namespace ``http://www.cdisc.org/ns/odm/v1.3``, ``FileType``
Snapshot, ``FileOID``, ``CreationDateTime`` in UTC with its offset, ``ODMVersion`` 1.3.2) and
the ``Study`` metadata are written first; each batch's ``SubjectData`` elements are serialised
one by one (``ElementTree.tostring``) into the open ``ClinicalData``; ``close`` ends both. The
memory an export needs is one batch's, whatever the registry's size.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from xml.sax.saxutils import quoteattr

from lupus_msc.interop import odm
from lupus_msc.interop.sdtm import Domain
from lupus_msc.interop.sdtm_write import ORIGINATOR, version_text

FILE_NAME = "odm.xml"


class OdmWriter:
    """``odm.xml`` in ``out``: metadata now, subjects as ``add`` gives them, closed by ``close``."""

    def __init__(
        self,
        out: Path,
        study_oid: str,
        visit_numbers: Mapping[str, int],
        created: dt.datetime | None = None,
    ) -> None:
        out.mkdir(parents=True, exist_ok=True)
        moment = (created or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
        self.path = out / FILE_NAME
        self.visit_numbers = dict(visit_numbers)
        self.subjects = 0
        attributes = {
            "xmlns": odm.NAMESPACE,
            "FileType": "Snapshot",
            "FileOID": f"{study_oid}.ODM.{moment:%Y%m%dT%H%M%SZ}",
            "CreationDateTime": moment.isoformat(),
            "ODMVersion": odm.ODM_VERSION,
            "Originator": ORIGINATOR,
            "SourceSystem": ORIGINATOR,
            "SourceSystemVersion": version_text(),
        }
        self._file = self.path.open("w", encoding="utf-8")
        self._file.write('<?xml version="1.0" encoding="UTF-8"?>\n<ODM')
        self._file.write("".join(f" {name}={quoteattr(v)}" for name, v in attributes.items()))
        self._file.write(">\n")
        study = odm.study(study_oid, self.visit_numbers)
        self._file.write(ET.tostring(study, encoding="unicode") + "\n")
        data = f"<ClinicalData StudyOID={quoteattr(study_oid)} "
        self._file.write(data + f"MetaDataVersionOID={quoteattr(f'MDV.{study_oid}')}>\n")

    def add(self, domains: Mapping[str, Domain]) -> None:
        for subject in odm.subjects(domains, self.visit_numbers):
            self._file.write(ET.tostring(subject, encoding="unicode") + "\n")
            self.subjects += 1

    def close(self) -> Path:
        self._file.write("</ClinicalData>\n</ODM>\n")
        self._file.close()
        return self.path

    def __enter__(self) -> OdmWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if not self._file.closed:
            self._file.close()
