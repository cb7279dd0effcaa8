from . import customer_credit_amount_mixin
from . import customer_credit_operation_wizard
from . import customer_credit_lot_wizard
from . import account_merge_wizard
from . import customer_credit_reminder_compose
from . import base_partner_merge
