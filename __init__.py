from . import models
from . import wizards


def _post_init_hook(env):
    """Create the credit accounts and journal of every company that has a chart of accounts."""
    env["res.company"].search([("chart_template", "!=", False)])._customer_credit_setup_accounting()
