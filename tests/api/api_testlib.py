"""Helpers for the HTTP API tests (imported as a plain module: pytest puts tests/api on sys.path)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

REPO_ROOT = Path(__file__).resolve().parents[2]
QUESTION = "Where were Japanese war criminals detained in China?"


def settings_like(base, **overrides):
    """A copy of `base` with API settings changed (api_key given as a plain string)."""
    if isinstance(overrides.get("api_key"), str):
        overrides["api_key"] = SecretStr(overrides["api_key"])
    return base.model_copy(update=overrides)


def parse_sse(text: str) -> list[tuple[str | None, str]]:
    """[(event name or None, data)] from an event-stream body."""
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        out.append((event, "\n".join(data)))
    return out


def chat_stream_content(text: str) -> tuple[str, list[dict]]:
    """Concatenated delta content and the parsed chunks (without [DONE])."""
    events = parse_sse(text)
    assert events[-1][1] == "[DONE]", events[-1]
    chunks = [json.loads(d) for _, d in events[:-1]]
    content = "".join(
        (c["choices"][0]["delta"].get("content") or "") for c in chunks if c.get("choices")
    )
    return content, chunks


def assert_error(resp, status: int, field: str | None = None) -> dict:
    """The JSON error shape, no traceback; returns the `error` object."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    assert "Traceback" not in resp.text and 'File "' not in resp.text
    body = resp.json()
    err = body["error"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["type"], str) and err["type"]
    if field is not None:
        assert err.get("field") == field, err
    return err


# ---------------------------------------------------------------- a live `cadres serve`
def free_port_now() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra) -> dict[str, str]:
    """This environment without CADRES_* variables, offline, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        TOKENIZERS_PARALLELISM="false",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


@dataclass
class LiveServer:
    url: str
    port: int
    proc: subprocess.Popen
    log: Path


SERVE_SNIPPET = "import sys; from rag.cli.main import main; sys.exit(main(sys.argv[1:]))"


def start_server(port: int, env: dict, log: Path, *extra: str, timeout: float = 180) -> LiveServer:
    """`cadres serve` in a subprocess on 127.0.0.1:port; waits for /v1/health to answer 200."""
    fh = open(log, "wb")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVE_SNIPPET,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra,
        ],
        env=clean_env(**env),
        cwd=REPO_ROOT,
        stdout=fh,
        stderr=subprocess.STDOUT,
    )
    fh.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"cadres serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/v1/health", timeout=5) as r:
                if r.status == 200 and json.loads(r.read()).get("warm"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(
                f"cadres serve did not become healthy in {timeout} s:\n{log.read_text()[-3000:]}"
            )
        time.sleep(0.3)
    return LiveServer(url=url, port=port, proc=proc, log=log)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
