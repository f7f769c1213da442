"""The embedder: loaded once per process, thread-safe, and cheap to import."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

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


# ---------------------------------------------------------------- a model that is not there
def _not_found(name: str, reason: str = "") -> str:
    detail = f" ({reason})" if reason else ""
    return f"embedding model not found at {name}{detail}; set CADRES_EMBEDDING_MODEL to a sentence-transformers folder"


def test_model_that_cannot_be_there_is_refused_by_name_before_anything_loads(tmp_path):
    from rag.embedding import ModelNotFound, check_model_path
    from rag.store import StoreError

    a_file = tmp_path / "model.bin"
    a_file.write_bytes(b"\0")
    (tmp_path / "empty").mkdir()
    cases = {
        str(tmp_path / "missing"): "",
        "./no/such/model": "",
        str(a_file): "a file, not a model folder",
        str(tmp_path / "empty"): "the folder has no modules.json or config.json",
        "no-such-hub-model": "no such folder, and not in the Hugging Face cache; the service runs offline",
    }
    for name, reason in cases.items():
        with pytest.raises(ModelNotFound) as e:
            get_embedder(name)
        assert str(e.value) == _not_found(name, reason)
        assert isinstance(e.value, StoreError), "front ends and ingest already report StoreErrors once"
    check_model_path(Settings().embedding_model)  # the shipped model passes


def test_a_broken_model_folder_fails_once_clearly_when_loaded(tmp_path):
    from rag.embedding import Embedder, ModelNotFound

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"not": "a model"}')
    emb = Embedder(str(broken), 1)  # passes the cheap checks; fails when loaded
    with pytest.raises(ModelNotFound, match="^" + re.escape(f"embedding model not found at {broken} (loading failed: ")):
        emb.encode(["Koan Maru"])
    t0 = time.perf_counter()
    with pytest.raises(ModelNotFound):
        emb.count_tokens(["Koan Maru"])
    assert time.perf_counter() - t0 < 0.05, "a failed load is not retried on every call"


def test_ingest_with_a_missing_model_is_one_fatal_error_not_a_mismatch(make_settings, tmp_path, cadres_cli):
    """The store already holds a document embedded with the real model; the path then points nowhere."""
    from ingest.pipeline import IngestFatal, ingest_paths

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "koan.txt").write_text("The Koan Maru carried repatriates from Nakhodka to Maizuru in 1956.\n")
    settings = make_settings(corpus_dir=corpus)
    assert ingest_paths([corpus], settings, progress=False).files_added == 1
    missing = tmp_path / "models" / "no-such-model"
    with pytest.raises(IngestFatal) as e:
        ingest_paths([corpus], settings.model_copy(update={"embedding_model": str(missing)}), progress=False)
    assert str(e.value) == _not_found(str(missing))
    proc = cadres_cli.run(
        "ingest", corpus, env={"CADRES_DATA_DIR": settings.data_dir, "CADRES_EMBEDDING_MODEL": missing}
    )
    assert proc.returncode == 1
    assert proc.stderr == f"cadres: error: {_not_found(str(missing))}\n"
    assert proc.stdout == ""
