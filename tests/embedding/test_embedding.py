"""The embedder: loaded once per process, thread-safe, and cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from rag.embedding import get_embedder, model_fingerprint
from rag.settings import Settings

FRESH = """
import json, sys
from rag.embedding import get_embedder
from rag.settings import Settings
before = sorted(m for m in ("torch", "sentence_transformers", "chromadb") if m in sys.modules)
emb = get_embedder(Settings().embedding_model, 1)
v = emb.encode(["Koan Maru"])
after_load = "sklearn" in sys.modules
from sentence_transformers.util.similarity import pairwise_distances
import numpy as np
d = float(pairwise_distances(np.ones((1, 3)), np.zeros((1, 3)))[0, 0])
import sklearn.metrics
print(json.dumps({"before": before, "sklearn_after_load": after_load, "dist": d,
                  "real_module": hasattr(sklearn.metrics, "roc_auc_score"), "norm": float(np.linalg.norm(v[0]))}))
"""


def test_import_is_light_and_scikit_learn_waits_until_needed():
    p = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["before"] == [], "importing rag.embedding loads no heavy library"
    assert got["sklearn_after_load"] is False, "the model loads without importing scikit-learn"
    assert got["dist"] == np.sqrt(3), "sentence-transformers' own distance still works (the real function)"
    assert got["real_module"], "later importers of sklearn.metrics get the real package"
    assert abs(got["norm"] - 1) < 1e-5


def test_one_model_per_process_shared_by_threads():
    name = Settings().embedding_model
    emb = get_embedder(name)
    assert get_embedder(name) is emb
    texts = [f"Japanese repatriation ship number {i}" for i in range(16)]
    alone = emb.encode(texts)
    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(lambda t: emb.encode([t])[0], texts))
    assert np.allclose(np.stack(parts), alone, atol=1e-5)


def test_fingerprint_does_not_depend_on_where_the_model_lies(tmp_path):
    import shutil

    src = Settings().embedding_model
    copy = tmp_path / "elsewhere" / "model"
    shutil.copytree(src, copy)
    assert model_fingerprint(str(copy)) == model_fingerprint(src)
