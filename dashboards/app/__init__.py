"""The Streamlit app: pages, components, charts and formatting."""
