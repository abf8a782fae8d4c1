"""Near-duplicate detection: MinHash signatures on word shingles, LSH banding, exact verification.

Implementation chosen by measurement (5,000 chat rows of ~110 words, 128 permutations,
word 3-gram shingles, one core of the shared 2-core dev box, 2026-11-23):

- datasketch ``MinHash.update_batch`` per row:       ~2,800 rows/s
- datasketch ``MinHash.bulk``:                         ~4,100 rows/s
- this module (numpy, whole batch at once):            ~24,000 rows/s

so we use our own: word hashes come from Python's ``hash`` (C speed via ``map``),
3-gram shingle hashes are combined with vectorised uint64 arithmetic over a whole batch
of documents, the 128 permutations are ``a*x + b mod 2**32`` on a (perm, shingle)
matrix, and the per-document minimum is one ``np.minimum.reduceat`` along the
contiguous axis (reducing along axis 0 was 40x slower).

Only the LSH band hashes are kept (16 bands x 8 rows -> 16 uint64 per document, 25 MB
for 200k rows), not the signatures. Given a spill directory (the linter's), the LSH writes
them to a file there band by band once they pass ``SPILL_BYTES``: 128 B per row was the
largest per-row cost of linting 1.5 GB (214 MB of 1.67M rows, twice in flight during a
parallel merge), and the candidate search reads one band (8 B per row) at a time anyway.
Candidate pairs from shared buckets are verified
with the exact Jaccard of their shingle sets, so every reported pair really is >= the
threshold. Python's ``hash`` is salted per process, which is fine: signatures are never
stored across runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

import numpy as np

DEFAULT_THRESHOLD = 0.8
NUM_PERM = 128
BANDS = 16  # 16 bands x 8 rows: a pair with Jaccard 0.8 shares a bucket with p ~ 0.95
SHINGLE = 3
ADD_DOCS = 256  # documents hashed at a time (20k chat rows: 256 -> 0.75 s and +8 MB, 2,048 -> 0.99 s and +106 MB)
MAX_DOC_CHARS = 20_000  # a 50 MB row must not become a 50 MB shingle matrix; the head identifies it
# band hashes held in memory before they go to the spill file (65k rows); tests set it low (spawned workers read the env)
SPILL_BYTES = int(os.environ.get("FTUI_NEAR_SPILL_BYTES", 8 << 20))

# A part of the band hashes, in id order: an (n_docs, bands) uint64 array in memory, or a
# block (path, byte offset, n_docs) spilled band-major (band b's n_docs hashes at offset + 8*b*n_docs).
BandPart = np.ndarray | tuple[str, int, int]


def part_len(part: BandPart) -> int:
    """Documents in one part of the band hashes."""
    return part[2] if isinstance(part, tuple) else len(part)

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
_SHIFT = np.uint64(32)


def words_of(text: str) -> list[str]:
    return text[:MAX_DOC_CHARS].lower().split()


def shingle_set(text: str, k: int = SHINGLE) -> set[tuple[str, ...]]:
    """Exact word k-gram set (for verification; a short text is one shingle)."""
    w = words_of(text)
    if len(w) < k:
        return {tuple(w)}
    return {tuple(w[i : i + k]) for i in range(len(w) - k + 1)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


class MinHashLSH:
    """Band hashes for a growing list of documents (ids 0, 1, 2, ... in the order added)."""

    def __init__(self, num_perm: int = NUM_PERM, bands: int = BANDS, seed: int = 1, spill_dir: str | None = None) -> None:
        if num_perm % bands:
            raise ValueError("num_perm must be a multiple of bands")
        rng = np.random.default_rng(seed)
        self.a = (rng.integers(0, 2**32, num_perm, dtype=np.uint64) | np.uint64(1)).astype(np.uint32)[:, None]
        self.b = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)[:, None]
        self.bands = bands
        self.rows = num_perm // bands
        self.band_mult = rng.integers(1, 2**63, self.rows, dtype=np.uint64) | np.uint64(1)
        self._chunks: list[BandPart] = []
        self.count = 0
        # the owner of ``spill_dir`` removes it (with the file) after the last query
        self.spill_dir = spill_dir
        self._spill_path: str | None = None
        self._unspilled = 0  # bytes of the arrays at the end of _chunks

    def signatures(self, texts: list[str]) -> np.ndarray:
        """MinHash signatures, shape (num_perm, len(texts)), uint32."""
        hashes: list[int] = []
        lens: list[int] = []
        k = SHINGLE
        for text in texts:
            w = text[:MAX_DOC_CHARS].lower().split()
            if len(w) < k:  # too short for a k-gram: the whole text is one shingle
                hashes.append(hash(" ".join(w)))
                hashes.extend([0] * (k - 1))
                lens.append(k)
            else:
                hashes.extend(map(hash, w))
                lens.append(len(w))
        wh = np.array(hashes, dtype=np.int64).view(np.uint64)
        sh = wh[:-2] * _M1 + wh[1:-1] * _M2 + wh[2:]
        ln = np.asarray(lens, dtype=np.int64)
        ends = np.cumsum(ln)
        valid = np.ones(sh.size, dtype=bool)
        valid[ends[:-1] - 2] = False  # a shingle may not straddle two documents
        valid[ends[:-1] - 1] = False
        x = (sh[valid] >> _SHIFT).astype(np.uint32)
        nsh = ln - (k - 1)
        starts = np.concatenate(([0], np.cumsum(nsh)[:-1]))
        m = self.a * x[None, :]
        m += self.b
        return np.minimum.reduceat(m, starts, axis=1)

    def add(self, texts: list[str]) -> None:
        if not texts:
            return
        # (perm x shingle) matrices of ADD_DOCS documents at a time: ~13 MB for chat rows of
        # ~100 words instead of ~270 MB for a 4 MB lint batch, and faster (it stays in cache)
        parts = [self._band_hashes_of(texts[k : k + ADD_DOCS]) for k in range(0, len(texts), ADD_DOCS)]
        chunk = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
        self._chunks.append(chunk)
        self.count += len(texts)
        self._unspilled += chunk.nbytes
        if self._unspilled > SPILL_BYTES:
            self.spill()

    def extend(self, parts: list[BandPart]) -> None:
        """Append another LSH's parts (``_chunks``, e.g. a parallel lint worker's), ids following ours."""
        self._chunks.extend(parts)
        self.count += sum(part_len(p) for p in parts)
        self._unspilled = 0  # only arrays after the last block are spilled, and ours now precede theirs

    def spill(self) -> None:
        """Move the arrays at the end of ``_chunks`` to the spill file as one band-major block
        (nothing without a spill dir; on a write error they stay in memory)."""
        tail = 0
        while tail < len(self._chunks) and not isinstance(self._chunks[-1 - tail], tuple):
            tail += 1
        if self.spill_dir is None or not tail:
            return
        arrays = self._chunks[len(self._chunks) - tail :]
        block = arrays[0] if tail == 1 else np.concatenate(arrays, axis=0)
        try:
            if self._spill_path is None:
                import tempfile

                fd, self._spill_path = tempfile.mkstemp(prefix="bands-", suffix=".u64", dir=self.spill_dir)
                os.close(fd)
            with open(self._spill_path, "ab") as f:
                offset = f.tell()
                block.T.tofile(f)  # C order of the transposed view: band-major
        except OSError:
            self.spill_dir = None
            return
        self._chunks[len(self._chunks) - tail :] = [(self._spill_path, offset, len(block))]
        self._unspilled = 0

    def _band_hashes_of(self, texts: list[str]) -> np.ndarray:
        sig = self.signatures(texts).astype(np.uint64)  # (perm, n)
        sig = sig.reshape(self.bands, self.rows, -1)
        return np.einsum("brn,r->nb", sig, self.band_mult, dtype=np.uint64, casting="unsafe")  # wraps mod 2**64

    def band_column(self, band: int) -> np.ndarray:
        """One band's hashes of every document: a copy of 8 bytes per document, where
        ``band_hashes`` would first copy all of them (for 2M rows: 16 MB instead of 256 MB)."""
        if not self._chunks:
            return np.zeros(0, dtype=np.uint64)
        cols = [_band_of(part, band) for part in self._chunks]
        return cols[0] if len(cols) == 1 else np.concatenate(cols)

    def band_hashes(self) -> np.ndarray:
        """All band hashes, (n_docs, bands), in memory (spilled blocks read back)."""
        if not self._chunks:
            return np.zeros((0, self.bands), dtype=np.uint64)
        return np.stack([self.band_column(b) for b in range(self.bands)], axis=1)

    def candidate_pairs(self) -> Iterator[tuple[int, int]]:
        """(first, other) id pairs sharing a bucket in some band, first < other, deduplicated."""
        seen: set[tuple[int, int]] = set()
        for band in range(self.bands):
            col = self.band_column(band)
            order = np.argsort(col, kind="stable")
            sorted_col = col[order]
            same = sorted_col[1:] == sorted_col[:-1]
            if not same.any():
                continue
            # start of each run of equal hashes; pair every member with the run's first (smallest id)
            idx = np.nonzero(same)[0] + 1
            run_start = np.maximum.accumulate(np.where(np.concatenate(([True], ~same)), np.arange(col.size), 0))
            for j in idx:
                pair = (int(order[run_start[j]]), int(order[j]))
                if pair not in seen:
                    seen.add(pair)
                    yield pair

    def query(self, other: MinHashLSH) -> Iterator[tuple[int, int]]:
        """(my id, other's id) pairs sharing a bucket in some band."""
        seen: set[tuple[int, int]] = set()
        for band in range(self.bands):
            lookup: dict[int, int] = {}
            their_col = other.band_column(band)
            for j, h in enumerate(their_col.tolist()):
                lookup.setdefault(h, j)
            col = self.band_column(band)
            hits = np.nonzero(np.isin(col, their_col))[0]
            for i in hits.tolist():
                pair = (i, lookup[int(col[i])])
                if pair not in seen:
                    seen.add(pair)
                    yield pair


def _band_of(part: BandPart, band: int) -> np.ndarray:
    if not isinstance(part, tuple):
        return part[:, band]
    path, offset, n = part
    return np.fromfile(path, dtype=np.uint64, count=n, offset=offset + 8 * band * n)


def verified_pairs(
    pairs: Iterable[tuple[int, int]],
    text_a: Callable[[int], str],
    text_b: Callable[[int], str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[tuple[int, int, float]]:
    """Keep candidate pairs whose exact shingle Jaccard is >= threshold (shingle sets cached)."""
    text_b = text_b or text_a
    cache_a: dict[int, set] = {}
    cache_b: dict[int, set] = cache_a if text_b is text_a else {}
    out = []
    for i, j in pairs:
        sa = cache_a.get(i)
        if sa is None:
            sa = cache_a[i] = shingle_set(text_a(i))
        sb = cache_b.get(j)
        if sb is None:
            sb = cache_b[j] = shingle_set(text_b(j))
        jac = jaccard(sa, sb)
        if jac >= threshold:
            out.append((i, j, jac))
    return out


def near_duplicates(texts: list[str], threshold: float = DEFAULT_THRESHOLD) -> list[tuple[int, int, float]]:
    """Verified near-duplicate pairs (i < j) among in-memory texts (the linter streams instead)."""
    lsh = MinHashLSH()
    for start in range(0, len(texts), 1000):
        lsh.add(texts[start : start + 1000])
    return verified_pairs(lsh.candidate_pairs(), texts.__getitem__, threshold=threshold)


class UnionFind:
    """Clusters of near-duplicate row ids (for split: a cluster stays on one side)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)
