"""`python -m tests.e2e.serve ARGS` is `streamlit ARGS` with the app's backend imported first.

A server's first script run imports whatever app.py and its page need; through backend/ and ops/ that is
pandas, SciPy, scikit-learn and statsmodels, which on a machine busy with the rest of the suite can take longer
than a test's timeouts. Imported here, before the server answers its health check, they are loaded when the first
test opens a page. backend/ and ops/ import no Streamlit, so nothing in them needs the server's runtime.
"""

import importlib
import pkgutil
import sys

import backend
import ops

for package in (backend, ops):
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if not module.name.endswith(".__main__"):
            importlib.import_module(module.name)

from streamlit.web.cli import main  # noqa: E402

sys.argv[0] = "streamlit"
main()
