"""End to end in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Starts `python -m rag ui` on a free port against the shared corpus store, asks a question in the chat box,
waits for the cited answer, opens the first source and checks its passage, and saves a screenshot to
test-artifacts/ui-e2e.png.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed: apt-get install chromium"),
]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture
def ui_server(corpus_settings, free_port, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    env.update(
        CADRES_DATA_DIR=str(corpus_settings.data_dir),
        CADRES_CORPUS_DIR=str(corpus_settings.corpus_dir),
        CADRES_LLM="extractive",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    log = tmp_path / "streamlit.log"
    url = f"http://127.0.0.1:{free_port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rag", "ui", "--port", str(free_port), "--host", "127.0.0.1"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
        try:
            deadline = time.monotonic() + 90
            while not _healthy(url):
                if proc.poll() is not None:
                    pytest.fail(f"`cadres ui` exited with {proc.returncode}:\n{log.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"{url}/_stcore/health did not answer within 90 s:\n{log.read_text()}")
                time.sleep(0.25)
            yield url
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=15)


def test_chat_in_real_browser(ui_server, assistant):
    if not CHROMIUM.exists():  # (the module is skipped already; kept for direct calls)
        pytest.skip("Debian chromium not installed: apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    question = "How did the Soviet Union treat the Japanese internees?"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(ui_server, wait_until="domcontentloaded")
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=120_000)
            expect(page.get_by_text("Try one of these")).to_be_visible(timeout=120_000)
            box.fill(question)
            box.press("Enter")

            answer = page.get_by_test_id("stChatMessage").nth(1)
            expect(answer).to_contain_text("[1]", timeout=180_000)
            first_source = page.get_by_test_id("stExpander").first
            expect(first_source).to_contain_text("[1] King and Muminov 2022", timeout=60_000)
            # The answer is complete (its footer is drawn last) before we interact further.
            expect(answer).to_contain_text("extractive answer", timeout=60_000)

            first_source.locator("summary").click()
            details = first_source.get_by_test_id("stExpanderDetails")
            expect(details).to_be_visible(timeout=30_000)
            expect(details).to_contain_text("Amy King, Sherzod Muminov")

            # The passage shown is the cited chunk, with the quoted sentence in it.
            a = assistant.ask(question)
            quote = a.citations[0].quote
            expect(details).to_contain_text(quote[:60], timeout=30_000)
            chunk = assistant.chunk_texts([a.citations[0].chunk_id])[a.citations[0].chunk_id]
            other = next((s for s in chunk.split(". ") if len(s) > 40 and s not in quote), None)
            if other:
                expect(details).to_contain_text(" ".join(other.split()[:6]))
            # Nothing in the rendered answer is an image or a link made from document text.
            assert answer.get_by_test_id("stMarkdownContainer").locator("img, a[href^='http']").count() == 0

            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "ui-e2e.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "ui-e2e.png").stat().st_size > 10_000
