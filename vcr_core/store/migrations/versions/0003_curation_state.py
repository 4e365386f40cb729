"""curation for a team: claim and trace state rows kept with the judgment log, trace leases

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'claim_state',
        sa.Column('claim_id', sa.Integer(), sa.ForeignKey('claim.id'), primary_key=True),
        sa.Column('trace_id', sa.Integer(), sa.ForeignKey('trace.id'), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('verdict', sa.String(), nullable=True),
        sa.Column('status', sa.String(), nullable=False, server_default='uncurated'),
        sa.Column('opinions', sa.JSON(), nullable=True),
        sa.Column('last_curator', sa.String(), nullable=True),
        sa.Column('last_judgment', sa.String(), nullable=True),
    )
    op.create_index('ix_claim_state_trace_id', 'claim_state', ['trace_id'])
    op.create_table(
        'trace_state',
        sa.Column('trace_id', sa.Integer(), sa.ForeignKey('trace.id'), primary_key=True),
        sa.Column('version', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('status', sa.String(), nullable=False, server_default='uncurated'),
        sa.Column('opinions', sa.JSON(), nullable=True),
        sa.Column('curators', sa.JSON(), nullable=True),
        sa.Column('n_judgments', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('last_curator', sa.String(), nullable=True),
    )
    op.create_index('ix_trace_state_status', 'trace_state', ['status'])
    op.create_table(
        'trace_lease',
        sa.Column('trace_id', sa.Integer(), sa.ForeignKey('trace.id'), primary_key=True),
        sa.Column('curator', sa.String(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
    )
    op.create_index('ix_trace_lease_expires_at', 'trace_lease', ['expires_at'])
    # Curation rows of one trace are read in id order on every judgment.
    op.create_index('ix_curation_trace_id_id', 'curation', ['trace_id', 'id'])
    # Existing judgments get their state rows: the log is the truth.
    _rebuild_state(op.get_bind())


# --- A frozen copy of the state computation as it was at this revision (curation/log.py may change
# later; a migration must keep computing what it computed when it was written).

_ROW_KEYS = ("id", "target", "trace_id", "claim_id", "curator", "judgment", "verdict", "tag", "note")
_curation = sa.table("curation", *[sa.column(k) for k in _ROW_KEYS])
_JSON = ("opinions", "curators")  # JSON columns: the type serialises the dicts and lists on insert
_claim_state = sa.table("claim_state", *[sa.column(k, sa.JSON if k in _JSON else None) for k in (
    "claim_id", "trace_id", "version", "verdict", "status", "opinions", "last_curator", "last_judgment")])
_trace_state = sa.table("trace_state", *[sa.column(k, sa.JSON if k in _JSON else None) for k in (
    "trace_id", "version", "status", "opinions", "curators", "n_judgments", "last_curator")])


def _consensus(opinions: dict, value_key: str, rule: str) -> tuple[str, str | None]:
    if not opinions:
        return "uncurated", None
    ordered = sorted(opinions.values(), key=lambda o: o["id"])
    if rule == "one":
        return "decided", ordered[-1][value_key]
    if len(ordered) == 1:
        return "needs_second", ordered[-1][value_key]
    a, b = ordered[-2][value_key], ordered[-1][value_key]
    return ("decided", a) if a == b else ("conflict", None)


def _compute_state(trace_id: int, rows: list[dict], rule: str) -> tuple[dict, dict]:
    rows = sorted(rows, key=lambda r: r["id"])
    claims: dict = {}
    for r in rows:
        if r["target"] != "claim" or r["claim_id"] is None:
            continue
        c = claims.setdefault(r["claim_id"], {"claim_id": r["claim_id"], "trace_id": trace_id, "opinions": {}})
        c["opinions"][r["curator"]] = {"id": r["id"], "judgment": r["judgment"], "verdict": r["verdict"],
                                       "tag": r["tag"], "note": r["note"]}
        c.update(version=r["id"], last_curator=r["curator"], last_judgment=r["judgment"])
    for c in claims.values():
        status, verdict = _consensus(c["opinions"], "verdict", rule)
        c.update(status=status, verdict=verdict)
    trace_rows = [r for r in rows if r["target"] == "trace"]
    reset = max((i for i, r in enumerate(trace_rows) if r["judgment"] == "needs_review"), default=-1)
    opinions = {r["curator"]: {"id": r["id"], "judgment": r["judgment"], "note": r["note"]}
                for r in trace_rows[reset + 1:]}
    if trace_rows and reset == len(trace_rows) - 1:
        status = "needs_review"
    else:
        kind, judgment = _consensus(opinions, "judgment", rule)
        status = {"uncurated": "uncurated", "needs_second": "needs_second", "conflict": "conflict"}.get(kind, judgment)
        if status != "conflict" and any(c["status"] == "conflict" for c in claims.values()):
            status = "conflict"
    trace = {"trace_id": trace_id, "version": rows[-1]["id"] if rows else 0, "status": status,
             "opinions": opinions, "curators": sorted({r["curator"] for r in rows}), "n_judgments": len(rows),
             "last_curator": rows[-1]["curator"] if rows else None}
    return trace, claims


def _rebuild_state(conn) -> None:
    import os

    rule = (os.environ.get("CONSENSUS") or "one").strip().lower()
    rule = rule if rule in ("one", "two_agree") else "one"
    conn.execute(_claim_state.delete())
    conn.execute(_trace_state.delete())
    by_trace: dict[int, list[dict]] = {}
    for r in conn.execute(sa.select(*[_curation.c[k] for k in _ROW_KEYS]).order_by(_curation.c.trace_id, _curation.c.id)):
        by_trace.setdefault(r.trace_id, []).append(dict(r._mapping))
    for tid, rows in by_trace.items():
        trace, claims = _compute_state(tid, rows, rule)
        conn.execute(_trace_state.insert(), [trace])
        if claims:
            conn.execute(_claim_state.insert(), list(claims.values()))


def downgrade() -> None:
    op.drop_index('ix_curation_trace_id_id', table_name='curation')
    op.drop_table('trace_lease')
    op.drop_table('trace_state')
    op.drop_table('claim_state')
