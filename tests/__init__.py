"""The test suite. Asserts in its helper modules (tests/messaging/send_helpers.py,
tests/factories.py, …) fail with pytest's detailed messages too: pytest rewrites test modules
and conftest files by itself, other modules only when registered before they are first
imported, as here (this package is imported first, by ``-p tests.environment``)."""

from pathlib import Path

import pytest

pytest.register_assert_rewrite(
    *(
        f"tests.{path.stem}"
        for path in sorted(Path(__file__).parent.iterdir())
        if (path.suffix == ".py" and path.stem not in {"__init__", "conftest", "environment"})
        or (path / "__init__.py").is_file()
    )
)
