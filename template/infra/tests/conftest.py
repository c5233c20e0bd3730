"""Make the program's folder importable, as `pulumi up` does when it runs __main__.py.

The tests' own folder holds `mocks.py`, the offline harness that runs the program under
Pulumi's unit-test mocks (it is not part of the program `pulumi up` runs).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
