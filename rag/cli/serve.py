"""`cadres serve`: the HTTP API under uvicorn."""

from __future__ import annotations

import os

import click

from rag.cli.common import EXIT_OK, fail, load_settings

APP_FACTORY = "rag.api.app:create_app"


@click.command("serve")
@click.option("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 for all)")
@click.option("--port", type=int, default=8000, help="port (default 8000)")
@click.option("--workers", type=int, default=1, help="worker processes (default 1); each loads the model")
@click.option(
    "--forwarded-allow-ips",
    default=None,
    help="proxies trusted for X-Forwarded-For (the client IP the rate limit uses); default: "
    "$FORWARDED_ALLOW_IPS or 127.0.0.1",
)
@click.option(
    "--torch-threads",
    type=int,
    default=None,
    help="intra-op threads per worker for the embedding model (default: $OMP_NUM_THREADS, else 1)",
)
@click.option("--log-level", default="info", type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve_command(host, port, workers, forwarded_allow_ips, torch_threads, log_level) -> int:
    """run the HTTP API (OpenAI-compatible chat, /v1/ask, docs at /docs)"""
    import uvicorn

    settings = load_settings()  # fails early, with the variable's name, on a bad CADRES_* value
    if workers < 1:
        return fail("--workers must be at least 1")
    if not 0 < port < 65536:
        return fail("--port must be between 1 and 65535")
    if torch_threads is not None and torch_threads < 1:
        return fail("--torch-threads must be at least 1")
    # One intra-op thread per worker: requests are served concurrently and the embedder runs one
    # forward pass at a time, so more threads mostly spin; on a busy CPU two threads made a query
    # encode ~15x slower. Set before torch is imported (workers inherit the environment).
    if torch_threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(torch_threads)
    else:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    where = settings.chroma_url or str(settings.chroma_path)
    print(
        f"cadres-qa API on http://{host}:{port} (docs at /docs; store {where}; "
        f"{workers} worker(s); API key {'required' if settings.api_key else 'not set'})",
        flush=True,
    )
    # The factory import string (not an app object): needed for workers > 1, and each worker
    # builds its own app and Assistant from the CADRES_* environment.
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
        timeout_graceful_shutdown=10,
    )
    return EXIT_OK
