# The two commands of the README. Both install what is missing first (idempotent).
.PHONY: demo test install install-test bench clean

demo: install
	.venv/bin/astrohub up

test: install-test
	.venv/bin/lint-imports
	.venv/bin/ruff check
	bash scripts/test-lanes.sh

install:
	bash scripts/install.sh demo

install-test:
	bash scripts/install.sh test

bench: install-test
	.venv/bin/python benchmarks/run_all.py

clean:
	rm -rf .astrohub-test test-output benchmarks/results
