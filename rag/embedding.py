"""The embedding model: loaded lazily, once per process, shared by every thread."""

from __future__ import annotations

import logging
import sys
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.model_id import model_fingerprint
from rag.store import StoreError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from rag.onnx_encoder import OnnxEncoder
    from rag.settings import Settings

log = logging.getLogger("rag.embedding")

_load_lock = threading.Lock()
_models: dict[str, Embedder] = {}
_FIX = "set CADRES_EMBEDDING_MODEL to a sentence-transformers folder"


class ModelNotFound(StoreError):
    """The embedding model cannot be had: one fatal error naming the path, not a per-file failure or
    a "model mismatch" with the index. A StoreError, so every front end (and ingest, as IngestFatal)
    already reports it once, without a traceback."""

    def __init__(self, path: str, reason: str = ""):
        self.path = path
        self.reason = reason
        detail = f" ({reason})" if reason else ""
        super().__init__(f"embedding model not found at {path}{detail}; {_FIX}")


class QueryEncoderUnavailable(StoreError):
    """CADRES_QUERY_ENCODER=onnx, and the ONNX graph cannot be made or loaded (with `auto` this
    falls back to sentence-transformers instead)."""


def _in_hub_cache(name: str) -> bool:
    """A hub id the offline service can still load: it is in the local Hugging Face cache."""
    from huggingface_hub.constants import HF_HUB_CACHE

    ids = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    return any((Path(HF_HUB_CACHE) / f"models--{i.replace('/', '--')}").is_dir() for i in ids)


def check_model_path(name_or_path: str) -> None:
    """ModelNotFound, before any store is opened, for a model that cannot be there: a path that does
    not exist or is not a sentence-transformers folder, or a name that is neither a folder nor in the
    Hugging Face cache. (Checked late, it surfaced as a per-file "unreadable" or a model mismatch.)"""
    p = Path(name_or_path).expanduser()
    if p.exists():
        if not p.is_dir():
            raise ModelNotFound(name_or_path, "a file, not a model folder")
        if not any((p / f).is_file() for f in ("modules.json", "config.json")):
            raise ModelNotFound(name_or_path, "the folder has no modules.json or config.json")
        return
    hub_like = not name_or_path.startswith((".", "/", "~")) and "\\" not in name_or_path and name_or_path.count("/") <= 1
    if not hub_like:
        raise ModelNotFound(name_or_path)
    if not _in_hub_cache(name_or_path):
        raise ModelNotFound(name_or_path, "no such folder, and not in the Hugging Face cache; the service runs offline")


def _import_sentence_transformer() -> type[SentenceTransformer]:
    """Import SentenceTransformer without paying for scikit-learn up front.

    sentence-transformers imports `sklearn.metrics.pairwise_distances` at import time for a
    similarity function this product never calls; scikit-learn (with scipy.stats) is about 2.3 s
    of a 12 s cold start. While the import runs, a stand-in module supplies that one name as a
    wrapper that imports the real function on first call; the stand-in is removed afterwards, so
    anyone else importing scikit-learn gets the real package.
    """
    if "sentence_transformers" in sys.modules or "sklearn.metrics" in sys.modules:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer

    def pairwise_distances(*args, **kwargs):
        from sklearn.metrics import pairwise_distances as real

        return real(*args, **kwargs)

    stand_in = types.ModuleType("sklearn.metrics")
    stand_in.pairwise_distances = pairwise_distances
    sys.modules["sklearn.metrics"] = stand_in
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        # A version that needs more of scikit-learn at import time: import it the ordinary way.
        for name in [
            m
            for m in sys.modules
            if m == "sentence_transformers" or m.startswith("sentence_transformers.")
        ]:
            del sys.modules[name]
        if sys.modules.get("sklearn.metrics") is stand_in:
            del sys.modules["sklearn.metrics"]
        from sentence_transformers import SentenceTransformer
    finally:
        if sys.modules.get("sklearn.metrics") is stand_in:
            del sys.modules["sklearn.metrics"]
    return SentenceTransformer


def _unit(v: np.ndarray) -> np.ndarray:
    """L2-normalised, with sentence-transformers' epsilon."""
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


class Embedder(Embeddings):
    """Sentence-transformers behind one lock: HF fast tokenizers are not safe for concurrent use."""

    def __init__(self, name_or_path: str, threads: int = 0):
        check_model_path(name_or_path)
        self.name_or_path = name_or_path
        self.threads = threads
        self.fingerprint = model_fingerprint(name_or_path)
        self._model: SentenceTransformer | None = None
        self._failed: ModelNotFound | None = None  # a load that failed is not retried on every call
        self._load_lock = threading.Lock()
        self._lock = threading.Lock()  # serialises tokenizer and forward passes
        self._onnx: OnnxEncoder | None = None  # the query encoder, once made
        self._onnx_failed: dict[str, Exception] = {}  # by data dir: not retried on every query
        self._query_default: tuple[str, str] | None = None  # (data dir, mode) a caller named first

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._load_lock:
                if self._failed is not None:
                    raise self._failed
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        try:
            return self._load_model()
        except Exception as e:  # missing weights, a hub id not in the offline cache, a broken config ...
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
            self._failed = ModelNotFound(self.name_or_path, f"loading failed: {type(e).__name__}: {first}")
            raise self._failed from e

    def _load_model(self) -> SentenceTransformer:
        SentenceTransformer = _import_sentence_transformer()  # noqa: N806
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        if self.threads:
            # Several processes sharing few cores encode far faster with fewer threads each.
            import torch

            torch.set_num_threads(self.threads)
        return SentenceTransformer(self.name_or_path, device="cpu", local_files_only=True)

    @property
    def tokenizer(self):
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        """Word pieces available for text: the window minus [CLS] and [SEP]."""
        return int(self.model.max_seq_length) - 2

    @property
    def dim(self) -> int:
        if self._onnx is not None and self._model is None:
            return self._onnx.dim  # the query path never loads the torch model for this
        m = self.model
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension  # renamed in 5.x
        return int(get())

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        tokenizer = self.tokenizer
        with self._lock:
            enc = tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in enc]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        tokenizer = self.tokenizer
        with self._lock:
            enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [tuple(o) for o in enc["offset_mapping"]]

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        with self._lock:
            vecs = model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vecs.astype(np.float32, copy=False)

    def encode_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]], batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One forward pass per text: its vector (as `encode` gives it) and, for each (start, end)
        character span of it, the normalised mean of the token embeddings inside the span.

        Why: ingest needs a vector for every sentence of a chunk as well; pooling them from the
        chunk's own pass, in its context, spares a second pass over the same words. A span the
        window cut off (past the model's word-piece limit) is encoded on its own instead.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        model = self.model
        with self._lock:
            tokens = model.encode(
                texts, batch_size=batch_size, output_value="token_embeddings", convert_to_numpy=False, show_progress_bar=False
            )
            enc = self.tokenizer(texts, truncation=True, max_length=int(model.max_seq_length), return_offsets_mapping=True)
        text_vecs = np.zeros((len(texts), self.dim), dtype=np.float32)
        span_vecs: list[np.ndarray] = []
        alone: list[tuple[int, int, str]] = []  # (text, span) pairs to encode on their own
        for i, (tok, offsets) in enumerate(zip(tokens, enc["offset_mapping"], strict=True)):
            t = tok.float().numpy()
            if len(t) != len(offsets):
                raise RuntimeError(f"token embeddings ({len(t)}) and offsets ({len(offsets)}) disagree")
            text_vecs[i] = _unit(t.mean(axis=0))
            starts = np.array([a for a, _ in offsets])
            ends = np.array([b for _, b in offsets])
            real = ends > starts  # special tokens have empty offsets
            out = np.zeros((len(spans[i]), self.dim), dtype=np.float32)
            for j, (s, e) in enumerate(spans[i]):
                inside = real & (starts >= s) & (ends <= e)
                if inside.any() and ends[real].max() >= e:
                    out[j] = _unit(t[inside].mean(axis=0))
                else:
                    alone.append((i, j, texts[i][s:e]))
            span_vecs.append(out)
        if alone:
            vecs = self.encode([a[2] for a in alone])
            for (i, j, _), v in zip(alone, vecs, strict=True):
                span_vecs[i][j] = v
        return text_vecs, span_vecs

    # ------------------------------------------------------------ queries
    def encode_queries(
        self, texts: list[str], batch_size: int = 64, settings: Settings | None = None
    ) -> np.ndarray:
        """Vectors for questions and words, which are compared with the stored (torch-made) ones:
        through ONNX Runtime when CADRES_QUERY_ENCODER allows and the graph can be had, so a
        cold `cadres ask` never imports torch; else through the torch model (`encode`).

        `settings` names the data dir and mode; the first caller's are remembered for callers
        that have none (word similarity runs after the search that named them), and without any
        the process settings apply."""
        enc = self._query_encoder(settings)
        if enc is None:
            return self.encode(texts, batch_size=batch_size)
        return enc.encode(list(texts), batch_size=batch_size)

    def _query_encoder(self, settings: Settings | None) -> OnnxEncoder | None:
        if settings is not None:
            key = (str(settings.data_dir), settings.query_encoder)
            if self._query_default is None:
                self._query_default = key
        elif self._query_default is not None:
            key = self._query_default
        else:
            from rag.settings import get_settings

            s = get_settings()
            key = self._query_default = (str(s.data_dir), s.query_encoder)
        data_dir, mode = key
        if mode == "torch":
            return None
        if self._onnx is not None:
            return self._onnx  # one graph per model and process, whichever data dir cached it
        with self._load_lock:
            if self._onnx is None and data_dir not in self._onnx_failed:
                try:
                    self._onnx = self._make_onnx(Path(data_dir))
                except Exception as e:
                    self._onnx_failed[data_dir] = e
        if self._onnx is not None:
            return self._onnx
        e = self._onnx_failed[data_dir]
        if mode == "onnx":
            raise QueryEncoderUnavailable(f"CADRES_QUERY_ENCODER=onnx, but {e}") from e
        return None

    def _make_onnx(self, data_dir: Path) -> OnnxEncoder:
        """The ONNX encoder from <data_dir>/onnx, exported there first if need be (once, with
        torch). Any failure (logged once per data dir) leaves queries on the torch model."""
        from rag import onnx_encoder as ox

        path = ox.onnx_file(data_dir, self.fingerprint)
        shared = ox.shared_onnx_file(self.fingerprint)
        if not path.is_file() and shared.is_file():
            path = shared
        try:
            if not Path(self.name_or_path).is_dir():
                raise ox.OnnxUnavailable(f"{self.name_or_path} is not a local model folder")
            if not path.is_file():
                log.info("exporting the query encoder to %s (once)", path)
                ox.export(Path(self.name_or_path), path)
            return ox.OnnxEncoder(Path(self.name_or_path), path, threads=self.threads)
        except Exception as e:
            log.warning("queries use sentence-transformers: no ONNX query encoder (%s)", e)
            raise

    # LangChain Embeddings interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()


def get_embedder(name_or_path: str, threads: int | None = None) -> Embedder:
    """The process-wide embedder for this model (created on first use, never at import)."""
    emb = _models.get(name_or_path)
    if emb is None:
        with _load_lock:
            emb = _models.get(name_or_path)
            if emb is None:
                if threads is None:
                    from rag.settings import get_settings

                    threads = get_settings().torch_threads
                emb = _models[name_or_path] = Embedder(name_or_path, threads)
    return emb
