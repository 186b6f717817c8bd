import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _nlp_cache_dir(tmp_path_factory):
    """Build the shipped sentiment model once per session into a private cache dir.

    The ``bot_eval`` subprocess tests inherit the variable and load the cached model.
    """
    old = os.environ.get("KEFU_NLP_CACHE_DIR")
    os.environ["KEFU_NLP_CACHE_DIR"] = str(tmp_path_factory.mktemp("kefu-nlp-cache"))
    yield
    if old is None:
        os.environ.pop("KEFU_NLP_CACHE_DIR", None)
    else:
        os.environ["KEFU_NLP_CACHE_DIR"] = old
