"""Reelhouse's JSON API: a second door onto backend/ (FastAPI, served by `make api`)."""
