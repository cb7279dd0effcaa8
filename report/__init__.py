from . import customer_credit_statement_report
from . import customer_credit_due_statement
