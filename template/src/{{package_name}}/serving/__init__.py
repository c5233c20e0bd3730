"""Serving: the model behind an HTTP API (FastAPI) and an Azure ML scoring script.

Both share :mod:`.service`: one way to load the model and one way to check requests.
"""
