from tests.api.conftest import _fresh_address_limits, app, as_, client, w  # noqa: F401  (the API fixtures)
