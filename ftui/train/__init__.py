"""Training: run config execution, worker thread, event log, backends. No Textual here.

Heavy libraries (torch, transformers, peft, trl) are imported inside the backend
functions, never at module import time.
"""
