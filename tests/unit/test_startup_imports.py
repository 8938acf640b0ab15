"""What the live flow imports before its first poll: not the libraries only a read needs."""

import subprocess
import sys

from tests.helpers import ROOT

#: imported at the first read (a Dask computation, a frame, a block's arrays), not at start-up
READ_ONLY = ("numpy", "pandas", "pyarrow", "dask", "distributed", "prefect_dask")


def test_importing_the_live_flow_leaves_the_read_s_libraries_unimported() -> None:
    code = f"import sys, flows.live_boxscore; print(sorted(set({READ_ONLY!r}) & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
