"""The expression verifier: ``regulates_expression`` claims against differential-expression results
attached to a batch (CSV or Parquet: perturbation, context or cell line, gene, log2FC, adjusted p).

The results measure the record's perturbation against its control in the same context, so they speak only
for claims the perturbation causes (directions along the graph, :mod:`.graph`): a claim whose cause is an
actor the context applies ("Soluble factor addition of TNF": TNF -> RELA -> NFKBIA up), or a root claim
while the context applies one, describes the context's own effect, which the results do not measure;
such a claim is unverifiable here, whatever the data say."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, delete, select

from ..kernel.settings import get_settings
from ..store import Batch, ExpressionRow, Trace, Verdict, session_scope
from ..store import Record as RecordRow
from .base import CONTRADICTED, SUPPORTED, UNVERIFIABLE, ClaimContext, ClaimVerdict
from .evidence import Expression

NAME, VERSION = "expression", "3"  # 3: genes matched by their HGNC symbol too
COLUMNS = {
    "perturbation": ("perturbation", "drug", "compound", "perturbagen", "treatment"),
    "context": ("context", "cell_line", "cell line", "cell_type", "cell type", "cell"),
    "gene": ("gene", "gene_symbol", "symbol", "gene_name"),
    "log2fc": ("log2fc", "log2foldchange", "logfc", "log2_fold_change", "lfc"),
    "padj": ("padj", "adj_p", "p_adj", "fdr", "adj.p.val", "qvalue", "q_value", "adjusted_p"),
}


def table_names(gene: str) -> list[str]:
    """The names (upper case) a claim's gene may have in a results table: as the claim writes it, then its
    HGNC symbol ("c-Myc" -> MYC), read from the claim's stored grounding first (a curator's re-grounding
    included), else from the gene vocabularies. A family ("MEK") stays its name: one row cannot speak for
    all its members."""
    from ..knowledge.genes import resolve

    out = [gene.strip().upper()]
    hit = resolve(gene)
    if hit is not None and hit.kind == "gene" and len(hit.symbols) == 1:
        out.append(next(iter(hit.symbols)).upper())
    return list(dict.fromkeys(out))


class ExpressionFileError(ValueError):
    """The expression file cannot be read; the message names the problem."""


def read_expression_table(path: str | Path) -> pd.DataFrame:
    """Read and normalise a CSV/TSV/Parquet table to the columns perturbation, context, gene, log2fc, padj."""
    path = Path(path)
    if not path.is_file():
        raise ExpressionFileError(f"{path} does not exist")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, sep=None, engine="python")
    except Exception as exc:  # noqa: BLE001 - any reader error becomes a plain message
        raise ExpressionFileError(f"{path.name} could not be read as CSV or Parquet: {exc}") from exc
    lower = {str(c).strip().lower(): c for c in df.columns}
    out = pd.DataFrame()
    for col, names in COLUMNS.items():
        src = next((lower[n] for n in names if n in lower), None)
        if src is None and col not in ("context", "padj"):
            raise ExpressionFileError(f"{path.name} has no {col} column (accepted names: {', '.join(names)})")
        out[col] = df[src] if src is not None else None
    for col in ("log2fc", "padj"):
        if out[col].notna().any():
            num = pd.to_numeric(out[col], errors="coerce")
            bad = out[col].notna() & num.isna()
            if bad.any():
                row = int(bad.idxmax()) + 2
                raise ExpressionFileError(f"{path.name}: {col} on line {row} is not a number ({out[col][bad.idxmax()]!r})")
            out[col] = num
    if out["log2fc"].isna().any():
        raise ExpressionFileError(f"{path.name}: log2FC is missing on line {int(out['log2fc'].isna().idxmax()) + 2}")
    return out


def attach_expression(engine: Engine, batch_id: int, path: str | Path, *, replace: bool = True) -> int:
    """Store a table's rows for a batch (replacing what was attached before); returns the row count."""
    df = read_expression_table(path)
    with session_scope(engine) as session:
        if session.get(Batch, batch_id) is None:
            raise ExpressionFileError(f"there is no batch {batch_id}")
        if replace:
            session.exec(delete(ExpressionRow).where(ExpressionRow.batch_id == batch_id))
        # Verdicts made against earlier data of this batch are stale: drop them so they are redone.
        stale = select(Trace.id).join(RecordRow, RecordRow.id == Trace.record_id).where(RecordRow.batch_id == batch_id)
        session.exec(delete(Verdict).where(Verdict.verifier == NAME, Verdict.trace_id.in_(stale)))
        for r in df.itertuples(index=False):
            session.add(ExpressionRow(batch_id=batch_id, perturbation=str(r.perturbation), gene=str(r.gene),
                                      context=None if pd.isna(r.context) else str(r.context), log2fc=float(r.log2fc),
                                      padj=None if pd.isna(r.padj) else float(r.padj), source=Path(path).name))
    return len(df)


def _is_perturbation(record):
    from .record import _is_actor

    return lambda name: any(_is_actor(p, name) for p in record.perturbations)


class ExpressionVerifier:
    """Gene-by-gene check of claimed expression changes against attached results."""

    name, version = NAME, VERSION
    needs_engine = True  # reads the batch's attached expression rows
    batch_scoped = True  # its verdicts depend on the batch's attached data
    graph_scoped = True  # and on who causes the claim in its own graph (the context's factor is not measured)
    source = "the batch's attached differential-expression results"  # named in every unverifiable verdict (runner.note_sources)

    def __init__(self, engine: Engine, padj: float | None = None, min_abs_log2fc: float | None = None) -> None:
        s = get_settings()
        self.engine = engine
        self.padj = s.expression_padj if padj is None else padj
        self.min_lfc = s.expression_min_abs_log2fc if min_abs_log2fc is None else min_abs_log2fc

    def applies(self, node) -> bool:
        return node.action == "regulates_expression"

    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        genes = ctx.node.args.get("gene_list")
        genes = [g for g in (genes if isinstance(genes, list) else [genes]) if isinstance(g, str) and g.strip()]
        direction = str(ctx.node.args.get("direction") or "").strip().lower()
        if not genes or direction not in ("up", "down"):
            return ClaimVerdict(UNVERIFIABLE, 0.0, [], "the claim names no genes or no direction")
        other = self._context_cause(ctx)
        if other:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [], f"the attached results measure {', '.join(p.label for p in ctx.record.perturbations)} "
                                f"against its control; this claim is the context's own effect ({other}), which they do not measure")
        perts = {p.label.lower() for p in ctx.record.perturbations} | {(p.name or "").lower() for p in ctx.record.perturbations}
        perts.discard("")
        cells = {(c or "").lower() for c in (ctx.record.context.cell_line, ctx.record.context.cell_type)} - {""}
        names = {g: table_names(g) for g in genes}
        with Session(self.engine) as session:
            rows = session.exec(select(ExpressionRow).where(
                ExpressionRow.batch_id == ctx.batch_id, func.lower(ExpressionRow.perturbation).in_(perts),
                func.upper(ExpressionRow.gene).in_(sorted({n for ns in names.values() for n in ns})))).all()
        if cells and any(r.context for r in rows):
            rows = [r for r in rows if not r.context or r.context.lower() in cells] or rows
        if not rows:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [], "no expression results for these genes and this perturbation are attached to the batch")
        by_gene = {r.gene.upper(): r for r in rows}
        agree = opposite = 0
        evidence = []
        for g in genes:
            r = next((by_gene[n] for n in names[g] if n in by_gene), None)
            if r is None:
                evidence.append(Expression(gene=g, log2fc=None, padj=None, call="no data"))
                continue
            significant = (r.padj is not None and r.padj < self.padj) and abs(r.log2fc) > self.min_lfc
            moved = "up" if r.log2fc > 0 else "down"
            call = "not significant" if not significant else ("as claimed" if moved == direction else "opposite")
            agree += call == "as claimed"
            opposite += call == "opposite"
            evidence.append(Expression(gene=g, log2fc=r.log2fc, padj=r.padj, context=r.context, call=call))
        n = len(genes)
        if agree > n / 2:
            return ClaimVerdict(SUPPORTED, agree / n, evidence, f"{agree} of {n} genes move {direction} significantly")
        if opposite > n / 2:
            return ClaimVerdict(CONTRADICTED, opposite / n, evidence, f"{opposite} of {n} genes move significantly the other way")
        return ClaimVerdict(UNVERIFIABLE, 0.0, evidence, f"{agree} of {n} genes as claimed, {opposite} opposite: no majority")

    def _context_cause(self, ctx: ClaimContext) -> str | None:
        """Why the claim is the context's own effect (an actor the context applies causes it), or None."""
        from .graph import _mentions, attribute, context_actors

        is_pert = _is_perturbation(ctx.record)
        others = [o for o in context_actors(ctx.record, ctx.explanation) if not is_pert(o)]
        if not others:
            return None
        att = attribute(ctx.explanation, ctx.record, ctx.node, is_pert)
        if att.kind == "unknown":
            return att.reason
        if att.kind == "other" and att.actor and any(_mentions(att.actor, o) for o in others):
            return att.reason
        return None
