# Two commands do all set-up: `make run` (the app on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install browser clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# The app on 127.0.0.1:8501 with the embedded MNIST data (no download, no GPU needed).
run: $(STAMP)
	$(PY) -m streamlit run app.py

# Debian's chromium for the browser tests (never `playwright install`: it downloads).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# The whole suite, slow end-to-end cases included (CI runs exactly this), on two workers (one per core; a test
# file stays on one worker, so its module fixtures are built once).
test: $(STAMP) browser
	$(PY) -m pytest -q -n 2 --dist loadfile

# The quick inner loop: everything but the slow end-to-end cases.
test-fast: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile -m "not slow"

clean:
	rm -rf $(VENV) runs .pytest_cache
