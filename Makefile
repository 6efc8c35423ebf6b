# Two commands for a new machine; both are idempotent and create .venv themselves.
# `make dist` builds the Linux installers into dist/ (see packaging/README.md).
.PHONY: run test dist
run:
	scripts/run
test:
	scripts/test
dist:
	packaging/dist.sh
