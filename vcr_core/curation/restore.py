"""Judgments a restore left in the side copy (``<db>.before-restore-<time>``), brought back.

Its own module because it follows the brought-back rows through the log, re-groundings and reuse alike
(:mod:`.log`, :mod:`.grounding`, :mod:`.reuse`), which import one another only downwards.
"""
from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from ..store import Claim, Curation, locked_transaction, session_scope, write_lock
from .consensus import consensus_rule
from .log import rebuild_state


def bring_back_judgments(engine: Engine, side_copy: str, rule: str | None = None) -> dict[str, int]:
    """Copy back the judgments that the side copy of a restore (``<db>.before-restore-<time>``) holds and
    the database does not, on the traces and claims the database holds (the same claim: same trace, same
    hash), with their own ids and times; then recompute the state, which orders judgments by time. So a
    judgment made after the backup decides again as it did, and one made before newer judgments does not
    override them. Brought-back claim judgments decide their cores again wherever they hold, and brought-back
    re-groundings set the claim's grounding and core again (:func:`_follow_brought_back`). Returns
    {"brought_back", "left", "cores"}: those on traces or claims the database does not hold stay only in the
    side copy; ``cores``: how many cores' reuse was brought up to date. Bringing the same side copy back twice
    adds nothing."""
    import sqlite3
    from pathlib import Path

    from ..store.backup import RECOVERABLE_SQL, BackupError, inspect_file, sqlite_path

    live = sqlite_path(engine)
    if live is None:
        raise BackupError("bringing judgments back from a side copy works on SQLite databases only")
    side = Path(side_copy).expanduser()
    inspect_file(side)
    cols = [c.name for c in Curation.__table__.columns]
    names = ", ".join(f'"{c}"' for c in cols)
    with write_lock(engine):
        conn = sqlite3.connect(str(live), timeout=60, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=60000")
            conn.execute("ATTACH DATABASE ? AS side", (str(side),))
            conn.execute("BEGIN IMMEDIATE")
            try:
                total = conn.execute("SELECT count(*) FROM side.curation WHERE id NOT IN (SELECT id FROM main.curation)"
                                     ).fetchone()[0]
                picked = ", ".join(f's."{c}"' for c in cols)
                sql = RECOVERABLE_SQL.format(side="side", live="main")
                followed = conn.execute(sql.replace("SELECT count(*)", "SELECT s.target, s.trace_id, s.claim_id, s.claim_snapshot")
                                        ).fetchall()
                n = conn.execute(f"INSERT INTO main.curation ({names}) {sql.replace('SELECT count(*)', f'SELECT {picked}')}").rowcount
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()
    cores = 0
    if n:
        rebuild_state(engine, rule)
        cores = _follow_brought_back(engine, followed, consensus_rule(rule))
    return {"brought_back": n, "left": total - n, "cores": cores}


def _follow_brought_back(engine: Engine, rows: list[tuple], rule: str) -> int:
    """After judgments were brought back (``rows``: their target, trace, claim and snapshot as stored):
    re-apply the re-groundings among them to their claims, then bring the reuse of every core they touch
    up to date (a claim judgment's core; a re-grounded claim's old and new cores), appending the `curated`
    verdicts the restore took away. The machine verdicts a re-grounding recomputed are not brought back:
    ``vcr verify`` recomputes them. Returns how many cores were brought up to date."""
    import json as _json

    from .grounding import TARGET as REGROUND
    from .grounding import reapply_groundings
    from .reuse import identify_and_reuse, propagate

    identify_and_reuse(engine)  # claims restored without cores (saved before they existed) get theirs first
    regrounded = sorted({tid for target, tid, _cid, _snap in rows if target == REGROUND})
    cores: set[str] = set()
    for target, _tid, _cid, snap in rows:
        if target == REGROUND and snap:
            cores.add((_json.loads(snap) if isinstance(snap, str) else snap).get("old_core"))
    if regrounded:
        with session_scope(engine) as s:
            for tid in regrounded:
                reapply_groundings(s, tid)
    claim_ids = sorted({cid for target, _tid, cid, _snap in rows if cid is not None and target in ("claim", REGROUND)})
    with engine.connect() as conn:
        for i in range(0, len(claim_ids), 500):
            cores.update(r[0] for r in conn.execute(select(Claim.__table__.c.core)
                                                     .where(Claim.__table__.c.id.in_(claim_ids[i:i + 500]))))
    cores.discard(None)
    with locked_transaction(engine) as conn:
        for core in sorted(cores):
            propagate(conn, core, rule)
    return len(cores)
