"""End to end in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Starts `python -m rag ui` on a free port against a store of its own and, as a reader would: asks a
question, follows [1] to its card (full reference, quoted passage), copies the answer, reloads and
finds the chat again, uploads a PDF, asks about it and opens the cited page with its highlight. Every
request the page makes is recorded and must stay on this machine; each step's screenshot is kept in
test-artifacts/ui-*.png.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

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
def browser_store(tmp_path):
    """A store of its own (the test uploads a PDF into it): the article and two related notes."""
    from ingest import ingest_paths
    from rag.settings import Settings

    corpus = REPO_ROOT / "docs_corpus"
    settings = Settings(data_dir=tmp_path / "data", chroma_url=None, corpus_dir=corpus, llm="extractive")
    files = [
        corpus / "king-muminov-2022-abstract.txt",
        corpus / "related" / "khabarovsk-trial-1949.md",
        corpus / "related" / "repatriation-from-the-ussr.md",
    ]
    report = ingest_paths(files, settings, progress=False)
    assert report.files_added == 3, report
    return settings


@pytest.fixture
def ui_server(browser_store, free_port, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    env.update(
        CADRES_DATA_DIR=str(browser_store.data_dir),
        CADRES_CORPUS_DIR=str(browser_store.corpus_dir),
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


FACT = "The lighthouse keeper Tomas Varga recorded 312 storms on Brannoy Island between 1921 and 1934."
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _pdf_with_text_layer(path: Path) -> Path:
    """A two-page PDF with a real text layer (reportlab), the fact on page 2."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Helvetica", 12)
    c.drawString(72, 760, "Harbour records of the northern islands, part one.")
    c.showPage()
    c.setFont("Helvetica", 12)
    c.drawString(72, 760, "Weather notes.")
    cut = FACT.rfind(" ", 0, 60)
    c.drawString(72, 730, FACT[:cut])
    c.drawString(72, 714, FACT[cut + 1 :])
    c.drawString(72, 690, "The keeper left the island in 1935 and moved to Bergen.")
    c.showPage()
    c.save()
    return path


def _highlight_pixels(png: bytes) -> int:
    """Pixels in the highlight's colour family (ui.pdf_pages.HIGHLIGHT_RGB, blended over white)."""
    import io

    from PIL import Image

    from ui.pdf_pages import HIGHLIGHT_RGB

    img = Image.open(io.BytesIO(png)).convert("RGB")
    r0, g0, b0 = HIGHLIGHT_RGB
    n = 0
    for r, g, b in img.getdata():
        # Any blend of the highlight over white or over black text keeps its hue: red high, blue low.
        if r > 200 and b < min(200, g - 30) and abs(r - r0) < 60 and (g0 - 40) <= g <= 250:
            n += 1
    return n


def test_chat_in_real_browser(ui_server, browser_store, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from rag.assistant import Assistant

    ARTIFACTS.mkdir(exist_ok=True)
    question = "How did the Soviet Union treat the Japanese internees?"
    requests: list[str] = []

    def shot(page, name: str) -> None:
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"ui-{name}.png"), full_page=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1500})
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_server)
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(ui_server, wait_until="domcontentloaded")
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=120_000)
            expect(page.get_by_text("Try one of these")).to_be_visible(timeout=120_000)
            shot(page, "1-start")
            box.fill(question)
            box.press("Enter")

            answer = page.get_by_test_id("stChatMessage").nth(1)
            expect(answer).to_contain_text("[1]", timeout=180_000)
            expect(answer).to_contain_text("extractive answer", timeout=60_000)
            first_source = page.locator(".st-key-card-1-1")
            expect(first_source).to_contain_text("[1] King and Muminov 2022", timeout=60_000)
            details = first_source.get_by_test_id("stExpanderDetails")
            expect(details).to_be_hidden()
            shot(page, "2-answer")

            # [1] in the answer is a link that opens its card.
            answer.locator("a[href$='#card-1-1']").first.click()
            expect(details).to_be_visible(timeout=30_000)
            expect(details).to_contain_text("King, Amy, and Sherzod Muminov. 2022.")
            expect(details).to_contain_text("24 (3): 200")
            qa = Assistant(browser_store)
            a = qa.ask(question)
            expect(details).to_contain_text(a.citations[0].quote[:60], timeout=30_000)
            # Nothing in the answer is an image, or a link other than to its own cards, made from document text.
            hrefs = answer.get_by_test_id("stMarkdownContainer").locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
            assert all(h.split("#")[-1].startswith("card-1-") for h in hrefs), hrefs
            assert answer.get_by_test_id("stMarkdownContainer").locator("img").count() == 0
            # The source's address is a safe link that opens a new tab without a handle on this page.
            source_link = details.locator("a[href^='https://']").first
            assert source_link.get_attribute("target") == "_blank"
            assert "noopener" in (source_link.get_attribute("rel") or "") or "noreferrer" in (source_link.get_attribute("rel") or "")
            shot(page, "3-card-open")

            # Copy puts the answer and its numbered references on the clipboard.
            answer.locator("button[data-cadres-copy]").click()
            clip = page.evaluate("navigator.clipboard.readText()")
            assert clip.startswith(a.answer[:40]) and "[1] King, Amy, and Sherzod Muminov. 2022." in clip, clip

            # A reload keeps the conversation (browser and chat ids live in the URL).
            assert "b=" in page.url and "c=" in page.url, page.url
            page.reload(wait_until="domcontentloaded")
            expect(page.get_by_test_id("stChatMessage").nth(1)).to_contain_text("extractive answer", timeout=120_000)
            expect(page.get_by_test_id("stChatMessage").first).to_contain_text(question)
            shot(page, "4-after-reload")

            # Upload a PDF made here, ask what it says, and see the cited page with its highlight.
            pdf = _pdf_with_text_layer(tmp_path / "brannoy-harbour-records.pdf")
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(pdf))
            page.get_by_role("button", name="Add 1 file(s) to the corpus").click()
            expect(page.get_by_text("brannoy-harbour-records.pdf: added")).to_be_visible(timeout=180_000)
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill("How many storms did Tomas Varga record on Brannoy Island?")
            box.press("Enter")
            reply = page.get_by_test_id("stChatMessage").nth(3)
            expect(reply).to_contain_text("312 storms", timeout=180_000)
            expect(reply).to_contain_text("extractive answer", timeout=60_000)
            card = page.locator(".st-key-card-3-1")
            card.locator("summary").click()
            card.get_by_text("Show page 2").click()
            img = card.get_by_test_id("stImage").locator("img").first
            expect(img).to_be_visible(timeout=60_000)
            page.wait_for_timeout(500)
            img.scroll_into_view_if_needed()
            assert _highlight_pixels(img.screenshot()) > 200, "no highlight on the rendered page"
            shot(page, "5-pdf-page")
        finally:
            browser.close()
    outside = sorted({u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).hostname not in LOCAL_HOSTS})
    assert not outside, f"the page made requests off this machine: {outside}"
    for name in ("1-start", "2-answer", "3-card-open", "4-after-reload", "5-pdf-page"):
        assert (ARTIFACTS / f"ui-{name}.png").stat().st_size > 10_000
