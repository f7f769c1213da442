"""bench/pdfs.py makes the PDFs of the bulk-ingest benchmark: a test that they are real multi-page
PDFs that ingest reads page by page (the benchmark itself only measures)."""

from __future__ import annotations

from bench.pdfs import make_pdfs, write_pdf


def test_generated_pdfs_ingest_with_their_pages(tmp_path, make_settings):
    from pypdf import PdfReader

    from ingest import ingest_paths
    from rag import Assistant

    sentences = [
        "The Kestrel survey counted 4412 birds on the Amur in 1952 (a record).",
        "Field notes were written in pencil and copied at night by the survey's clerk.",
        "Rain delayed the second count until the river fell back below the bridge piers.",
    ]
    folder = make_pdfs(tmp_path / "pdfs", 3, sentences, pages=(2, 3))
    files = sorted(folder.glob("*.pdf"))
    assert len(files) == 3 and all(2 <= len(PdfReader(f).pages) <= 3 for f in files)
    assert "4412 birds" in PdfReader(files[0]).pages[0].extract_text() or "Field notes" in PdfReader(files[0]).pages[0].extract_text()
    write_pdf(tmp_path / "odd.pdf", ["Brackets (and a back\\slash) survive: café."], title="Odd (one)")
    assert "back\\slash" in PdfReader(tmp_path / "odd.pdf").pages[0].extract_text()

    settings = make_settings()
    report = ingest_paths([folder], settings, progress=False)
    assert report.files_added == 3 and not report.files_failed
    ans = Assistant(settings).ask("How many birds did the Kestrel survey count on the Amur?")
    assert not ans.refused and ans.citations[0].page in (1, 2, 3)
