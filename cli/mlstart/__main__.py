"""Allow ``python -m mlstart``."""

from mlstart.cli import main

main()
