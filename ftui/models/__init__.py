"""The tiny offline demo model (random Llama weights + a BPE tokenizer trained on our sample data)."""
