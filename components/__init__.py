"""Custom Streamlit components (components v2: JS in the app page, no iframe)."""
