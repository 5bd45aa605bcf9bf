"""Text work done once per distinct value, then spread back over the rows.

National-size tables repeat a few hundred thousand IDs, postcodes and council codes over
millions of rows. Hashing, cutting or converting each row's text one by one is what makes a
run slow; these two functions let a step work on the distinct values instead, and put the
result back by integer code without making a Python string per row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["text_codes", "spread_text"]


def text_codes(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Each row's code (-1 = missing) and the distinct values as a ``string`` Series.

    A ``category`` column (as the merge leaves ``LA`` and ``CHILD``) is already in that
    form: its own codes and categories are used, nothing is hashed.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy(dtype=np.int64)
        return codes, pd.Series(values.cat.categories, dtype="string")
    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), pd.Series(uniques, dtype="string")


def spread_text(distinct: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """``distinct[codes]`` as a ``string`` Series on ``index``; code -1 gives missing.

    An arrow ``take``: the text is copied as bytes, no Python string is made per row.
    """
    text = pa.array(distinct.astype("string").array, pa.large_string())
    taken = text.take(pa.array(codes, mask=codes < 0))
    return pd.Series(pd.arrays.ArrowStringArray(taken), index=index, dtype="string")
