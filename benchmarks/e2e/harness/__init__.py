"""Helpers for run_http.py: pinned processes, wrk, peers, nginx, the 1MRC client, reports."""
