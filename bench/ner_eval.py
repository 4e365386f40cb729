"""Score a NER backend on BC5CDR (exact-span P/R/F1 for Chemical and Disease) and on the Tahoe-100M
drug names (recall: each name alone and inside a sentence tagged Chemical and grounded), and measure
speed. Last line: one JSON object with chemical_f1, disease_f1, tahoe_recall, records_per_s, load_s.

    .venv/bin/python bench/ner_eval.py [--eval-dir ../shared/eval] [--backend dictionary]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def read_pubtator(path: Path):
    docs, cur = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if "|t|" in line:
            pmid, _, title = line.split("|", 2)
            cur = {"pmid": pmid, "text": title, "gold": set()}
            docs.append(cur)
        elif "|a|" in line:
            cur["text"] += " " + line.split("|", 2)[2]
        elif line.strip() and "\t" in line and cur is not None:
            c = line.split("\t")
            if len(c) >= 5 and c[1].isdigit():
                cur["gold"].add((int(c[1]), int(c[2]), c[4]))
    return docs


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", default=str(ROOT.parent / "shared" / "eval"))
    ap.add_argument("--backend", default="dictionary")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from vcr_core.preprocess import get_ner_backend

    ev = Path(args.eval_dir)
    get_ner_backend(args.backend)  # first load (builds the cache if needed)
    # cached load time, measured in a fresh process
    t = subprocess.run([sys.executable, "-c", f"import time; s=time.perf_counter(); import sys; sys.path.insert(0, {str(ROOT)!r}); "
                        f"from vcr_core.preprocess import get_ner_backend; get_ner_backend({args.backend!r}); print(time.perf_counter()-s)"],
                       capture_output=True, text=True, check=True)
    load_s = float(t.stdout.strip().splitlines()[-1])
    backend = get_ner_backend(args.backend)
    docs = read_pubtator(ev / "bc5cdr_sample.pubtator.txt")
    counts = {"Chemical": [0, 0, 0], "Disease": [0, 0, 0]}
    for d in docs:
        pred = {(e.start, e.end, e.type) for e in backend.tag(d["text"]) if e.type in counts}
        for typ, c in counts.items():
            g = {x for x in d["gold"] if x[2] == typ}
            p = {x for x in pred if x[2] == typ}
            c[0] += len(g & p)
            c[1] += len(p - g)
            c[2] += len(g - p)
    scores = {t: prf(*c) for t, c in counts.items()}
    names = [n.strip() for n in (ev / "tahoe100m_drug_names.txt").read_text().splitlines() if n.strip()]
    hits = 0
    misses = []
    for n in names:
        alone = [e for e in backend.tag(n) if e.type == "Chemical" and e.identifier]
        sent = f"Cells were treated with {n} for 24 hours."
        inside = [e for e in backend.tag(sent) if e.type == "Chemical" and e.identifier]
        if alone and inside:
            hits += 1
        else:
            misses.append(n)
    recall = hits / len(names)
    # speed: records per second on record-sized texts (perturbation + context parts)
    from vcr_core.records.model import parse_records
    recs, _ = parse_records(json.loads((ROOT / "data" / "demo_records.json").read_text()))
    texts = [(r.perturbation_text(), r.context_text()) for r in recs] * 400
    start = time.perf_counter()
    for a, b in texts:
        backend.tag(a)
        backend.tag(b)
    rps = len(texts) / (time.perf_counter() - start)
    print(f"BC5CDR ({len(docs)} abstracts): Chemical P={scores['Chemical'][0]:.3f} R={scores['Chemical'][1]:.3f} F1={scores['Chemical'][2]:.3f}; "
          f"Disease P={scores['Disease'][0]:.3f} R={scores['Disease'][1]:.3f} F1={scores['Disease'][2]:.3f}")
    print(f"Tahoe names: {hits}/{len(names)} tagged Chemical and grounded, alone and in a sentence; misses: {misses[:15]}")
    print(json.dumps({"chemical_f1": round(scores["Chemical"][2], 4), "disease_f1": round(scores["Disease"][2], 4),
                      "tahoe_recall": round(recall, 4), "records_per_s": round(rps, 1), "load_s": round(load_s, 3)}))


if __name__ == "__main__":
    main()
