"""Development tools for the model code, used by the tests and the benchmarks and never by the studio.

* :mod:`.tiny` — tiny random-weight components (no files needed) for behaviour tests and benchmarks;
* :mod:`.fixture` — the runner that reproduces the public tiny fixture (``python -m pipelines.testing.fixture``);
  :mod:`.fixture_context` holds what every run reads, :mod:`.fixture_hjb` the runs of ``kind: "hjb"``.
"""
