"""``python -m pipelines.fixture FIXTURE_DIR --out OUT_DIR``: the documented command that reproduces the public
fixture. The runner itself is a development tool and lives in :mod:`pipelines.testing.fixture`."""

from __future__ import annotations

from pipelines.testing.fixture import main

if __name__ == "__main__":
    raise SystemExit(main())
