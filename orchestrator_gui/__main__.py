"""``python -m orchestrator_gui``: the same as the ``orchestrator-gui`` command (cron, a venv without scripts)."""

from orchestrator_gui.cli.main import run

if __name__ == "__main__":
    run()
