"""Streamlit helpers shared by the pages (store access, run pickers, error display); the engine never imports these."""
