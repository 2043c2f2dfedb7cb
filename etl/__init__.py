"""Command-line data loaders. `python -m etl.load_catalogue` loads the Kaggle Netflix catalogue."""
