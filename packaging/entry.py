"""PyInstaller's entry script: the frozen ``orchestrator-gui`` executable runs the console command."""

from orchestrator_gui.cli.main import run

if __name__ == "__main__":
    run()
