from . import test_smoke
from . import test_movements
from . import test_validation
from . import test_security
from . import test_backend
from . import test_backend_tour
from . import test_concurrency
from . import test_account_protection
