from . import test_smoke
from . import test_backend_tour
from . import test_concurrency
