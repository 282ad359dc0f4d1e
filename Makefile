# DeepCanvas: `make run` opens the app, `make test` runs lint, boundaries and tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-exports lint bench screenshots clean check-qt window-check

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

check-qt: $(STAMP)
	@$(PY) -m gui.runtime.qt_check

run: $(STAMP) check-qt
	$(PY) main.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# The app in a real X window (Xvfb), driven by xdotool: drop, wire, train, save, screenshots.
window-check: $(STAMP)
	$(PY) -m tests.window.check_real_window --out build/window-check

# Every keras.applications architecture imported and exported to every format (14 min, 2 busy cores;
# `make test` runs the same journey on the models of tests/keras_models.py and MobileNetV2).
test-exports: $(STAMP)
	DEEPCANVAS_EXPORT_MATRIX=all QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests/journeys/test_import_export.py

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m benchmarks

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) main.py --screenshot resources/screenshots/editor.png
	QT_QPA_PLATFORM=offscreen $(PY) main.py --train-and-exit --screenshot resources/screenshots/training.png
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.window.render_screenshots --out resources/screenshots
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.window.render_teaching_views --out resources/screenshots
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.window.render_pretrained --out resources/screenshots

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
