# Two commands on a fresh machine: `make demo` and `make test`. Both build the venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0
# Point the data home at the local mirror when it exists (the product downloads otherwise).
SHARED_DATA := $(abspath ../shared/data)
export HYBRIDBATCH_DATA ?= $(if $(wildcard $(SHARED_DATA)/xquad-r),$(SHARED_DATA),)
DEMO_OUT ?= runs/demo
# Shell snippet: "<target>: wall time Mm Ss" from a start time in seconds (printed on failure too).
WALL_TIME = elapsed=$$(( $$(date +%s) - $(2) )); \
	printf '%s: wall time %dm %02ds (exit %d)\n' "$(1)" $$((elapsed / 60)) $$((elapsed % 60)) $$status

# "phase <name>: wall time Mm Ss" (make demo: the venv; compare prints its own phases).
PHASE_TIME = elapsed=$$(( $$(date +%s) - $(2) )); \
	printf 'phase %s: wall time %dm %02ds\n' "$(1)" $$((elapsed / 60)) $$((elapsed % 60))

.PHONY: venv demo demo-quick test test-kernels lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first: the local CPU build; anything later that needs torch finds it satisfied.
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

# The main job: base / hybrid / X-Y / X-X on MLQA-R, evaluated on held-out XQuAD-R (19 min on 2 cores
# with native bf16; rerun to resume), then benchmarks/quality.md next to the paper's numbers.
# DEMO_STRATEGIES=base,hybrid,xy,xx,en-en adds the English-only baseline (~18 min more).
DEMO_STRATEGIES ?= base,hybrid,xy,xx
# Training-free rows beside them: LSAR on the base model (fitted on the evaluated pools, seconds on cached
# embeddings) and hybrid merged half-and-half with base (WiSE-FT λ = 0.5, fixed a priori; one re-encode).
DEMO_VARIANTS ?= base+lsar,hybrid@0.5
# Precision of the demo's evaluations and trainings: auto = bf16 on a CPU with native bf16 (AMX or
# AVX512-BF16), fp32 elsewhere (benchmarks/precision.md); DEMO_PRECISION=fp32 DEMO_TRAIN_PRECISION=fp32
# reproduces the published fp32 tables.
DEMO_PRECISION ?= auto
DEMO_TRAIN_PRECISION ?= auto
DEMO_QUALITY ?= benchmarks/quality.md
# quality.md opens with train's default recipe, old vs new, from the long-tail study's paired tests.
DEMO_RECIPE ?= hybrid-flores60
DEMO_RECIPE_STUDY ?= benchmarks/studies/long-tail.json
demo:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory venv && { $(call PHASE_TIME,venv,$$start); } \
	&& $(VENV)/bin/hybridbatch compare --model builtin:multilingual-e5-small --train mlqa-r \
		--eval xquad-r --strategies $(DEMO_STRATEGIES) --variants $(DEMO_VARIANTS) --out $(DEMO_OUT) \
		--precision $(DEMO_PRECISION) --train-precision $(DEMO_TRAIN_PRECISION) \
	&& $(PY) benchmarks/quality.py $(DEMO_OUT) --out $(DEMO_QUALITY) --command "make demo" \
		--recipe-study $(DEMO_RECIPE_STUDY) --recipe $(DEMO_RECIPE); \
	status=$$?; $(call WALL_TIME,make demo,$$start); exit $$status

# A trial of the same pipeline (20 steps, 15% of the evaluation ids; 22 min on 2 cores).
demo-quick: venv
	@start=$$(date +%s); \
	$(VENV)/bin/hybridbatch compare --model builtin:multilingual-e5-small --train mlqa-r \
		--eval xquad-r --quick --out runs/demo-quick; \
	status=$$?; $(call WALL_TIME,make demo-quick,$$start); exit $$status

# Tests whose numbers must hold on any x86 CPU (stored golden numbers, reference embeddings, loss and
# metric maths, GradCache and resume equivalence): `make test` runs them again under other kernels
# (AVX2-only vector code, GEMM and oneDNN; ATen's scalar fallback) and with 1 and 2 threads.
NUMERIC_TESTS := tests/comparison/test_golden.py tests/models/test_e5_real.py tests/training/test_losses.py \
	tests/training/test_gradcache.py tests/training/test_checkpoint.py tests/evaluation/test_metrics.py \
	tests/models/test_quantize.py
AVX2_KERNELS := ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
test: venv
	$(PY) -m pytest -q tests
	$(MAKE) --no-print-directory test-kernels

test-kernels: venv
	@echo "numeric tests under AVX2-only kernels, 1 thread"
	$(AVX2_KERNELS) OMP_NUM_THREADS=1 $(PY) -m pytest -q -p no:cacheprovider $(NUMERIC_TESTS)
	@echo "numeric tests under ATen's default (scalar) kernels, 2 threads"
	ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=2 $(PY) -m pytest -q -p no:cacheprovider $(NUMERIC_TESTS)

lint: venv
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

bench: venv
	$(PY) benchmarks/eval_speed.py
	$(PY) benchmarks/train_throughput.py
	$(PY) benchmarks/efficiency.py --baseline

clean:
	rm -rf $(VENV) runs .pytest_cache

# System packages the tests need: Apertium and the pairs of the translation tests (issue 23).
# Idempotent (skipped when installed); installs as root with apt. Without apt or root it says so and
# the Apertium tests skip with that reason; under CI (CI set) a failed install fails the target.
APT_PACKAGES := apertium apertium-eng-spa apertium-eng-cat
.PHONY: system-deps
test: system-deps
system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "system-deps: $(APT_PACKAGES) installed"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq $$missing >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; } \
		&& { echo "system-deps: installed" $$missing; exit 0; }; \
	fi; \
	echo "system-deps: not installed:" $$missing "(needs root and apt-get); the Apertium tests will skip"; \
	if [ -n "$$CI" ]; then exit 1; fi
