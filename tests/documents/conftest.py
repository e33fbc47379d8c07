from tests.api.conftest import app, as_, client, w  # noqa: F401  (the same signed-in clients)
