"""Serving: the model behind an HTTP API (FastAPI), and Azure ML's scoring scripts.

The API and the online scoring script (``score.py``) share :mod:`.service`: one way to load
the model and one way to check requests. The batch scoring script (``batch.py``) scores files.
All three score records with ``scoring.score_frame``, as `make predict` does.
"""
