"""Query encoding without the training stack: ONNX Runtime plus the `tokenizers` library.

Why: importing sentence-transformers (torch, transformers) costs seconds on every cold
`cadres ask`, while a query is one short forward pass. The same weights, exported once to ONNX
from the packaged model folder (no download), give the same vectors (cosine > 1 - 1e-5, see
tests/embedding/test_onnx_encoder.py) and load in a fraction of the time.

The export needs torch and happens once per model, at first use or ahead of time with
`python -m rag.onnx_encoder` (e.g. after `make install`); the file is cached at
`<data_dir>/onnx/<model fingerprint>.onnx`. Encoding through this module imports neither torch,
transformers nor sentence-transformers. Ingest keeps sentence-transformers (rag.embedding).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger("rag.onnx")

# Bumped whenever the exported graph changes, so an old cached file is never reused.
GRAPH_VERSION = "meanl2-v1"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_PROBES = [
    "warm-up",
    "Японские военнопленные в СССР, 1945–1956",
    "中国における日本人留用者 " * 80,  # far beyond the window: exercises truncation
]


class OnnxUnavailable(RuntimeError):
    """The ONNX file cannot be made or loaded (no torch exporter, read-only data dir, a model that
    is not a BERT-style sentence-transformers folder, ...). rag.embedding falls back to torch."""


def shared_onnx_file(fingerprint: str) -> Path:
    """The copy `make install` exports into the environment (`python -m rag.onnx_encoder --shared`),
    read by every data dir that has none of its own, so a fresh data dir never waits for an export."""
    return Path(sys.prefix) / "share" / "cadres-qa" / onnx_file(Path("."), fingerprint).relative_to(".")


def onnx_file(data_dir: Path, fingerprint: str) -> Path:
    """Where the exported graph for this model lives: one file per model fingerprint and graph
    version, so a changed model or exporter never picks up a stale file."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", fingerprint).strip("-") or "model"
    return Path(data_dir) / "onnx" / f"{safe}.{GRAPH_VERSION}.onnx"


def max_seq_length(model_dir: Path) -> int:
    """The window sentence-transformers truncates to (sentence_bert_config.json), not the
    tokenizer.json default (128 here) nor the tokenizer's model_max_length (512)."""
    cfg = Path(model_dir) / "sentence_bert_config.json"
    if cfg.is_file():
        n = json.loads(cfg.read_text(encoding="utf-8")).get("max_seq_length")
        if n:
            return int(n)
    return int(json.loads((Path(model_dir) / "config.json").read_text())["max_position_embeddings"])


def _check_supported(model_dir: Path) -> None:
    """Only the layout this exporter reproduces: Transformer + mean Pooling (+ Normalize)."""
    model_dir = Path(model_dir)
    if not (model_dir / "tokenizer.json").is_file():
        raise OnnxUnavailable(f"{model_dir} has no tokenizer.json")
    modules_file = model_dir / "modules.json"
    if not modules_file.is_file():
        raise OnnxUnavailable(f"{model_dir} has no modules.json")
    kinds = [m["type"].rsplit(".", 1)[-1] for m in json.loads(modules_file.read_text())]
    if kinds not in (["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"]):
        raise OnnxUnavailable(f"unsupported module layout {kinds}")
    pooling = next(m for m in json.loads(modules_file.read_text()) if m["type"].endswith("Pooling"))
    pcfg = json.loads((model_dir / pooling["path"] / "config.json").read_text())
    modes = [k for k, v in pcfg.items() if k.startswith("pooling_mode") and v]
    if modes != ["pooling_mode_mean_tokens"]:
        raise OnnxUnavailable(f"unsupported pooling {modes}")


def export(model_dir: Path, dest: Path) -> Path:
    """Export transformer + mean pooling + L2 normalisation to `dest` (atomic; locked so that two
    processes exporting at once do not clash; the second finds the file made). Needs torch."""
    model_dir, dest = Path(model_dir), Path(dest)
    _check_supported(model_dir)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        from filelock import FileLock, Timeout

        lock = FileLock(str(dest) + ".lock", timeout=600)
        lock.acquire()
    except (OSError, Timeout) as e:
        raise OnnxUnavailable(f"cannot write {dest.parent}: {e}") from e
    try:
        if dest.is_file():
            return dest
        fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".tmp", dir=dest.parent)
        os.close(fd)
        try:
            _export_to(model_dir, Path(tmp))
            os.chmod(tmp, 0o644)  # mkstemp makes it 0600; others sharing the data dir read it
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return dest
    except OnnxUnavailable:
        raise
    except Exception as e:  # no exporter in this torch, an op it cannot convert, disk full ...
        raise OnnxUnavailable(f"export failed: {type(e).__name__}: {e}") from e
    finally:
        lock.release()


def _export_to(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class Sentence(torch.nn.Module):
        """What sentence-transformers computes: masked mean of the last hidden state, L2-normed
        (the epsilons are the ones its Pooling and Normalize modules use)."""

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.m(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            mean = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    wrapper = Sentence(bert).eval()
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.long)
    feeds = (ids, (ids != 0).long(), torch.zeros_like(ids))
    axes = {n: {0: "batch", 1: "sequence"} for n in _INPUTS}
    axes["sentence_embedding"] = {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on constants that hold for this graph
        torch.onnx.export(
            wrapper,
            feeds,
            str(out),
            input_names=list(_INPUTS),
            output_names=["sentence_embedding"],
            dynamic_axes=axes,
            opset_version=17,
            do_constant_folding=True,
            dynamo=False,  # the TorchScript exporter: offline, no onnxscript needed
        )
    # The file is only kept when it reproduces the torch graph it came from.
    enc = OnnxEncoder(model_dir, out, threads=1)
    tok = enc.tokenize(_PROBES)
    with torch.no_grad():
        want = wrapper(*(torch.from_numpy(tok[n]) for n in _INPUTS)).numpy()
    got = enc.encode(_PROBES)
    worst = float(np.min(np.sum(want * got, axis=1)))
    if worst < 1 - 1e-5:
        raise OnnxUnavailable(f"exported graph disagrees with torch (cosine {worst:.7f})")


class OnnxEncoder:
    """Tokenize with `tokenizers`, run the exported graph with ONNX Runtime. Both are safe to call
    from several threads at once (the tokenizer's truncation/padding are set once, here)."""

    def __init__(self, model_dir: Path, onnx_path: Path, threads: int = 0):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.max_seq_length = max_seq_length(model_dir)
        tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        tok.enable_truncation(max_length=self.max_seq_length)  # longest-first, as transformers
        pad = tok.padding or {}
        tok.enable_padding(
            pad_id=pad.get("pad_id", 0),
            pad_type_id=pad.get("pad_type_id", 0),
            pad_token=pad.get("pad_token", "[PAD]"),
        )  # to the longest in the batch
        self._tok = tok
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
        try:
            self._sess = ort.InferenceSession(
                str(onnx_path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # a truncated or foreign file
            raise OnnxUnavailable(f"cannot load {onnx_path}: {type(e).__name__}: {e}") from e
        self._names = [i.name for i in self._sess.get_inputs()]
        self.dim = int(self._sess.get_outputs()[0].shape[-1])

    def tokenize(self, texts: list[str]) -> dict[str, np.ndarray]:
        encs = self._tok.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
        }

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit vectors, float32, one row per text. Batches are sorted by length (as
        sentence-transformers does) so short texts are not padded to a long one."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            feeds = self.tokenize([texts[i] for i in idx])
            (vecs,) = self._sess.run(None, {n: feeds[n] for n in self._names})
            out[idx] = vecs
        return out


def main(argv: list[str] | None = None) -> int:
    """Export the configured model ahead of time (install step): prints the file's path."""
    from rag.model_id import model_fingerprint
    from rag.settings import get_settings

    s = get_settings()
    fp = model_fingerprint(s.embedding_model)
    dest = shared_onnx_file(fp) if "--shared" in (argv if argv is not None else sys.argv[1:]) else onnx_file(s.data_dir, fp)
    try:
        print(export(Path(s.embedding_model), dest))
    except OnnxUnavailable as e:
        print(f"no ONNX query encoder ({e}); queries will use sentence-transformers")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
