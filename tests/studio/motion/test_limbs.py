"""Bone-length memory: the median of the remembered lengths skips bones not seen (``limbs.median_of_seen``)."""

from __future__ import annotations

import warnings

import numpy as np

from studio.motion.limbs import median_of_seen


def test_the_median_of_seen_lengths_is_numpys_nanmedian():
    rng = np.random.default_rng(0)
    for frames in range(1, 16):  # one remembered frame to a full memory, odd and even counts of seen values
        lengths = rng.uniform(10.0, 200.0, (frames, 12))
        lengths[rng.random(lengths.shape) < 0.4] = np.nan
        lengths[:, 0] = np.nan  # a bone never seen
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # (nanmedian of the all-NaN column)
            expected = np.nanmedian(lengths, axis=0)
        np.testing.assert_array_equal(median_of_seen(lengths), expected)
