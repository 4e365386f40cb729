"""Driver fusions of a few cell lines: a small hand-curated table, one published reference per row.

No package the project installs says which fusion oncogene a cell line carries (EFO names the line and its
disease, not its genotype), yet the mechanism of a kinase inhibitor in such a line runs through the fusion:
imatinib in K562 acts on BCR-ABL1, whatever else it binds. The table is kept small and honest: a row is a
line whose fusion is established in the literature cited, and whose growth the fusion drives. A line not in
it is simply not known to carry one (the record's own context may still name a fusion).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SOURCE = "curated cell-line table (vcr_core/knowledge/cell_lines.py)"


@dataclass(frozen=True)
class DriverFusion:
    cell_line: str
    fusion: str                   # "BCR-ABL1"
    genes: tuple[str, ...]        # the HGNC symbols joined, 5' partner first
    kinase: str                   # the partner whose kinase domain the fusion keeps (what a kinase inhibitor binds)
    reference: str                # the publication that shows the line carries the fusion

    @property
    def statement(self) -> str:
        return f"{self.cell_line} carries the driver fusion {self.fusion} ({self.reference})"


# cell line (folded) -> its driver fusion. Keep it short; every row needs a reference.
_TABLE = {
    "k562": DriverFusion("K562", "BCR-ABL1", ("BCR", "ABL1"), "ABL1",
                         "Grosveld G et al., Mol Cell Biol 1986;6:607-616: K562 carries a BCR breakpoint and makes a "
                         "chimeric BCR/ABL transcript; BCR-ABL1 drives CML (Daley GQ et al., Science 1990;247:824-830)"),
    "h3122": DriverFusion("H3122", "EML4-ALK", ("EML4", "ALK"), "ALK",
                          "Koivunen JP et al., Clin Cancer Res 2008;14:4275-4283: NCI-H3122 carries EML4-ALK (variant 1) "
                          "and its growth depends on ALK kinase activity"),
}


def _fold(name: str) -> str:
    return re.sub(r"[\s\-_]|\bcells?\b|^nci", "", str(name or "").casefold())


def driver_fusion(*names: str | None) -> DriverFusion | None:
    """The driver fusion of the first of ``names`` (cell line or cell type fields) the table knows, or None."""
    for n in names:
        if n and (hit := _TABLE.get(_fold(n))):
            return hit
    return None


def table_rows() -> list[DriverFusion]:
    """Every row (for the Knowledge page and the tests)."""
    return list(_TABLE.values())


__all__ = ["DriverFusion", "SOURCE", "driver_fusion", "table_rows"]
