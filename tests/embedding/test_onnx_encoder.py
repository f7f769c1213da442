"""The ONNX query encoder: the same vectors as sentence-transformers, no torch on the query path,
and sentence-transformers again when the graph cannot be made."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag import onnx_encoder as ox
from rag.embedding import Embedder, QueryEncoderUnavailable
from rag.settings import Settings, default_model_path

MODEL = default_model_path()
PARITY = 1 - 1e-5

_SCRIPTS = [
    # Latin
    "Who ran the Khabarovsk trial in 1949?",
    "Japanese prisoners of war in Soviet camps, 1945-1956",
    "retention for employment (liuyong) of Japanese technicians",
    "naïve café façade — résumé, Ångström, Œuvre",
    # Japanese, Russian, Chinese, Arabic, Korean, Greek, Hindi, Thai, Hebrew
    "日本人捕虜はシベリアで何年働かされたのか。",
    "東北民主連軍航空学校の日本人教官",
    "Японские военнопленные в СССР после 1945 года",
    "Хабаровский процесс над бывшими военнослужащими японской армии",
    "中国共产党留用的日本医生和护士",
    "东北老航校的日本教官与飞行员",
    "أسرى الحرب اليابانيون في الاتحاد السوفيتي",
    "재일 조선인 귀국 사업과 시베리아 억류",
    "Ιάπωνες αιχμάλωτοι πολέμου στη Σοβιετική Ένωση",
    "सोवियत संघ में जापानी युद्धबंदी",
    "เชลยศึกชาวญี่ปุ่นในสหภาพโซเวียต",
    "שבויי מלחמה יפנים בברית המועצות",
    # emoji, symbols, mixed, odd whitespace, control characters
    "🇯🇵➡️🇷🇺 repatriation ships 🚢⚓ 1946–1949 🙂",
    "👩‍⚕️👨‍🔧 nurses & mechanics 🛩️",
    "Koan Maru 興安丸 — Находка → 舞鶴",
    "  leading and trailing spaces\t\n",
    "x",
    "",
    "[CLS] [SEP] [PAD] [MASK] literal special-token strings",
    "\u200bzero\u200dwidth\ufeffmarks",
]
_WORDS = ["pilots", "flight", "winner", "win", "camp", "labour", "repatriation", "trial", "doctor", "nurse"]


def _long_texts() -> list[str]:
    """Texts well past the 256 word-piece window, so both encoders must truncate the same way."""
    base = [
        "The Northeast Old Aviation School trained pilots with Japanese instructors. ",
        "Японские специалисты работали на заводах и в госпиталях Маньчжурии. ",
        "日本人技術者は中国東北部の工場や病院で働き続けた。",
        "留用的日本人在东北的工厂、医院和铁路工作了多年。",
        "عمل الفنيون اليابانيون في المصانع والمستشفيات لسنوات. ",
        "🚂🏭🏥 " * 5,
    ]
    out = []
    for i in range(26):
        a, b = base[i % len(base)], base[(i * 7 + 3) % len(base)]
        out.append(f"{i} " + (a + b) * (8 + i % 9))
    return out


def _texts() -> list[str]:
    texts = list(_SCRIPTS) + list(_WORDS) + _long_texts()
    i = 0
    while len(texts) < 200:  # recombinations: varied lengths within and across batches
        a, b = _SCRIPTS[i % len(_SCRIPTS)], _SCRIPTS[(i * 5 + 1) % len(_SCRIPTS)]
        texts.append(f"{a} {b} {i}" if i % 3 else f"{a}, {_WORDS[i % len(_WORDS)]}")
        i += 1
    return texts[:200]


TEXTS = _texts()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """A data dir with the graph exported once for the module."""
    d = tmp_path_factory.mktemp("onnx-data")
    emb = Embedder(MODEL, 1)
    ox.export(MODEL, ox.onnx_file(d, emb.fingerprint))
    return d


@pytest.fixture(scope="module")
def torch_embedder():
    return Embedder(MODEL, 1)


def test_parity_with_sentence_transformers_on_200_texts(cache_dir, torch_embedder):
    assert len(TEXTS) == 200
    emb = Embedder(MODEL, 1)
    got = emb.encode_queries(TEXTS, settings=Settings(data_dir=cache_dir))
    assert isinstance(emb._onnx, ox.OnnxEncoder), "the ONNX encoder answered, not the torch one"
    assert emb._model is None, "querying through ONNX never loaded the torch model"
    want = torch_embedder.encode(TEXTS)
    assert got.dtype == np.float32 and got.shape == want.shape == (200, 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cos = np.sum(got * want, axis=1)
    worst = int(np.argmin(cos))
    print(f"min cosine {cos.min():.8f} (text {worst}), mean {cos.mean():.8f}")
    assert cos.min() >= PARITY, f"text {worst} {TEXTS[worst][:60]!r}: cosine {cos[worst]:.8f}"
    # Batch size and order change nothing beyond float noise.
    one_by_one = np.stack([emb.encode_queries([t])[0] for t in TEXTS[:40]])
    assert np.min(np.sum(one_by_one * want[:40], axis=1)) >= PARITY


def test_truncation_and_word_pieces_match_the_torch_tokenizer(cache_dir, torch_embedder):
    """The same ids and the same 256-piece cut as sentence-transformers, for every text."""
    enc = ox.OnnxEncoder(MODEL, ox.onnx_file(cache_dir, torch_embedder.fingerprint), threads=1)
    assert enc.max_seq_length == torch_embedder.model.max_seq_length == 256
    st = torch_embedder.model.preprocess(TEXTS)
    mine = enc.tokenize(TEXTS)
    for name in ("input_ids", "attention_mask"):
        assert np.array_equal(st[name].numpy(), mine[name]), name
    full = torch_embedder.count_tokens(TEXTS)
    long = [i for i, n in enumerate(full) if n > 256]
    assert len(long) >= 20, "the set holds texts past the window"
    assert all(int(mine["attention_mask"][i].sum()) == 256 for i in long)
    scripts = {"ja": "は", "ru": "ы", "zh": "的", "ar": "ال", "emoji": "🙂"}
    assert all(any(c in t for t in TEXTS) for c in scripts.values())


def test_query_path_imports_no_training_stack(cache_dir, torch_embedder):
    """In a fresh process: searcher, word similarity and the query vector, and no torch,
    transformers or sentence-transformers in sys.modules afterwards."""
    code = f"""
import json, sys
from pathlib import Path
import rag.retrieval.searcher, rag.answering.wordsim
from rag.embedding import get_embedder
from rag.settings import Settings
s = Settings(data_dir=Path({str(cache_dir)!r}), embedding_model={MODEL!r})
emb = get_embedder(s.embedding_model, 1)
v = emb.encode_queries(["Японские военнопленные"], settings=s)[0]
w = rag.answering.wordsim.WordVectors(emb).best_match("pilots", ["flight", "camp"])
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)
print(json.dumps({{"heavy": heavy, "vec": v.tolist(), "dim": emb.dim, "w": w}}))
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["heavy"] == []
    assert got["dim"] == 384 and got["w"] > 0.3
    want = torch_embedder.encode(["Японские военнопленные"])[0]
    assert float(np.dot(np.asarray(got["vec"], dtype=np.float32), want)) >= PARITY


def test_unwritable_data_dir_falls_back_to_torch(tmp_path, torch_embedder, caplog, monkeypatch):
    monkeypatch.setattr(ox, "shared_onnx_file", lambda fp: tmp_path / "no-install-time-copy.onnx")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    s = Settings(data_dir=blocker / "data")  # cannot be made, not even by root
    emb = Embedder(MODEL, 1)
    texts = ["Koan Maru", "東北老航校"]
    with caplog.at_level(logging.WARNING, logger="rag.embedding"):
        got = emb.encode_queries(texts, settings=s)
        again = emb.encode_queries(texts, settings=s)
    assert emb._onnx is None and emb._model is not None, "answered by the torch model"
    np.testing.assert_allclose(got, torch_embedder.encode(texts), atol=1e-6)
    np.testing.assert_array_equal(got, again)
    warned = [r for r in caplog.records if "sentence-transformers" in r.getMessage()]
    assert len(warned) == 1, "one warning, not one per query"
    with pytest.raises(QueryEncoderUnavailable, match="onnx"):
        Embedder(MODEL, 1).encode_queries(texts, settings=Settings(data_dir=blocker / "d2", query_encoder="onnx"))


def test_broken_cached_file_falls_back_and_torch_mode_skips_onnx(tmp_path, torch_embedder):
    emb = Embedder(MODEL, 1)
    bad = ox.onnx_file(tmp_path, emb.fingerprint)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not an onnx graph")
    got = emb.encode_queries(["Khabarovsk"], settings=Settings(data_dir=tmp_path))
    assert emb._onnx is None
    np.testing.assert_allclose(got, torch_embedder.encode(["Khabarovsk"]), atol=1e-6)

    fresh = tmp_path / "fresh"
    t = Embedder(MODEL, 1)
    t.encode_queries(["x"], settings=Settings(data_dir=fresh, query_encoder="torch"))
    assert t._onnx is None and not (fresh / "onnx").exists(), "torch mode exports nothing"


def test_unsupported_layout_is_refused_not_exported(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "tokenizer.json").write_text("{}")
    (model / "modules.json").write_text(
        json.dumps([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])
    )
    (model / "1_Pooling").mkdir()
    (model / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    dest = tmp_path / "out" / "m.onnx"
    with pytest.raises(ox.OnnxUnavailable, match="pooling"):
        ox.export(model, dest)
    assert not dest.exists()


def test_two_processes_exporting_at_once_make_one_good_file(tmp_path, torch_embedder):
    dest = ox.onnx_file(tmp_path, torch_embedder.fingerprint)
    code = f"from rag import onnx_encoder as ox; print(ox.export({MODEL!r}, {str(dest)!r}))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-1500:] for _, e in outs]
    assert [o.strip() for o, _ in outs] == [str(dest)] * 2
    assert sorted(f.name for f in dest.parent.iterdir()) == [dest.name, dest.name + ".lock"], "no temp file left"
    got = ox.OnnxEncoder(MODEL, dest, threads=1).encode(["Koan Maru"])
    assert float(np.dot(got[0], torch_embedder.encode(["Koan Maru"])[0])) >= PARITY


def test_fresh_data_dir_uses_the_install_time_copy_without_exporting(tmp_path, torch_embedder, monkeypatch):
    shared = ox.shared_onnx_file(Embedder(MODEL, 1).fingerprint)
    if not shared.is_file():
        made = tmp_path / "shared" / shared.name
        ox.export(Path(MODEL), made)
        monkeypatch.setattr(ox, "shared_onnx_file", lambda fp: made)
    emb = Embedder(MODEL, 1)
    fresh = tmp_path / "fresh-data"
    got = emb.encode_queries(["Koan Maru"], settings=Settings(data_dir=fresh))
    assert emb._onnx is not None and emb._model is None, "answered by ONNX, torch never loaded"
    assert not (fresh / "onnx").exists(), "nothing exported into the fresh data dir"
    assert float(np.dot(got[0], torch_embedder.encode(["Koan Maru"])[0])) >= PARITY
