# Two commands for a new machine; both are idempotent and create .venv themselves.
.PHONY: run test
run:
	scripts/run
test:
	scripts/test
