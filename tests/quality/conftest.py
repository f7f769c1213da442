pytest_plugins = ["tests.corpus_store"]
