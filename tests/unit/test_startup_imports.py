"""What a process imports before it starts its work: the live flow not the libraries only a read
needs, the page nothing of Prefect's, S3's or Dask's."""

import subprocess
import sys

from tests.helpers import ROOT

#: imported at the first read (a Dask computation, a frame, a block's arrays), not at start-up
READ_ONLY = ("numpy", "pandas", "pyarrow", "dask", "distributed", "prefect_dask")


def test_importing_the_live_flow_leaves_the_read_s_libraries_unimported() -> None:
    code = f"import sys, flows.live_boxscore; print(sorted(set({READ_ONLY!r}) & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


#: the page reads MongoDB only (pyproject.toml's contract says the same of its own modules; this
#: run also catches a library of its that imports one of these)
NOT_IN_THE_PAGE = ("prefect", "s3fs", "aiobotocore", "dask", "distributed", "pandas")


def test_starting_the_page_imports_no_prefect_s3_or_dask() -> None:
    code = f"import sys, web.__main__; print(sorted(set({NOT_IN_THE_PAGE!r}) & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
