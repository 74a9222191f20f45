# The two commands of the README, plus the steps they are made of. Every target is idempotent: a second run
# reuses the installed Node, npm packages, stack binaries and model files and starts in seconds.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ENV := source scripts/env.sh &&

.PHONY: setup deps stack-install models bench-deps browser demo test test-unit test-integration typecheck lint down status python gpu-embed

setup: deps stack-install models

deps:
	@$(ENV) scripts/install-deps.sh

stack-install: deps
	@$(ENV) bin/twinflow stack install

# The embedding model; its fp32 ONNX is exported from the safetensors with the Python venv's torch (hence python).
models: deps python
	@scripts/fetch-models.sh

# What the benchmarks' baselines need in the Python venv (sentence-transformers for bench/embed-bench.ts).
bench-deps: python
	@.twinflow/venv/bin/python -m pip install --quiet --disable-pip-version-check -e "trainer[bench]"

# ONNX Runtime's CUDA provider for the local embedder, on a machine with an NVIDIA GPU (lib/embedding/device.ts).
gpu-embed: deps
	@scripts/install-ort-cuda.sh

python:
	@scripts/setup-python.sh

# A real Chromium for the Web UI test (Debian's package where this machine can install it).
browser:
	@scripts/ensure-browser.sh

# The demo: brings the local stack up, starts the workers and runs the main job end to end.
demo: setup python
	@$(ENV) bin/twinflow demo

# Every test: typecheck, lint, unit and integration tests against the real stack, and the trainer's pytest suite.
test: setup python browser
	@$(ENV) npm test
	@scripts/test-python.sh

down:
	@$(ENV) bin/twinflow stack down

status:
	@$(ENV) bin/twinflow stack status
