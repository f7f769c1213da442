"""`cadres serve`: the HTTP API under uvicorn (registered on import; rag/cli.py imports this module)."""

from __future__ import annotations

import os

from rag.cli import EXIT_OK, _fail, _settings
from rag.cli_commands import register

APP_FACTORY = "rag.api.app:create_app"


@register("serve")
def serve_parser(p) -> None:
    """run the HTTP API (OpenAI-compatible chat, /v1/ask, docs at /docs)"""
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 for all)"
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1); each loads the model"
    )
    p.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="proxies trusted for X-Forwarded-For (the client IP the rate limit uses); default: "
        "$FORWARDED_ALLOW_IPS or 127.0.0.1",
    )
    p.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="intra-op threads per worker for the embedding model (default: $OMP_NUM_THREADS, else 1)",
    )
    p.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    p.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    import uvicorn

    settings = _settings()  # fails early, with the variable's name, on a bad CADRES_* value
    if args.workers < 1:
        return _fail("--workers must be at least 1")
    if not 0 < args.port < 65536:
        return _fail("--port must be between 1 and 65535")
    if args.torch_threads is not None and args.torch_threads < 1:
        return _fail("--torch-threads must be at least 1")
    # One intra-op thread per worker: requests are served concurrently and the embedder runs one
    # forward pass at a time, so more threads mostly spin; on a busy CPU two threads made a query
    # encode ~15x slower. Set before torch is imported (workers inherit the environment).
    if args.torch_threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(args.torch_threads)
    else:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    where = settings.chroma_url or str(settings.chroma_path)
    print(
        f"cadres-qa API on http://{args.host}:{args.port} (docs at /docs; store {where}; "
        f"{args.workers} worker(s); API key {'required' if settings.api_key else 'not set'})",
        flush=True,
    )
    # The factory import string (not an app object): needed for workers > 1, and each worker
    # builds its own app and Assistant from the CADRES_* environment.
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_level=args.log_level,
        timeout_graceful_shutdown=10,
    )
    return EXIT_OK
