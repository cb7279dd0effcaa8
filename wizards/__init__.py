from . import customer_credit_operation_wizard
from . import customer_credit_lot_wizard
