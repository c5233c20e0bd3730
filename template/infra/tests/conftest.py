"""Make the program's folder importable, as `pulumi up` does when it runs __main__.py."""

import sys
from pathlib import Path

INFRA = Path(__file__).resolve().parents[1]
if str(INFRA) not in sys.path:
    sys.path.insert(0, str(INFRA))
