from odoo.addons.payment import reset_payment_provider, setup_provider

from . import controllers
from . import models
from . import report
from . import wizards


def _post_init_hook(env):
    """Create the credit accounts and journal of every company that has a chart of accounts."""
    env["res.company"].search([("chart_template", "!=", False)])._customer_credit_setup_accounting()
    setup_provider(env, "customer_credit")


def _uninstall_hook(env):
    reset_payment_provider(env, "customer_credit")
    # the triggers of the ledger and the withdrawal requests go with their tables; their functions are the module's
    env.cr.execute(
        """DROP TRIGGER IF EXISTS customer_credit_line_balance ON customer_credit_line;
           DROP FUNCTION IF EXISTS customer_credit_line_balance();
           DROP FUNCTION IF EXISTS customer_credit_balance_add(integer, integer, integer, numeric);
           DROP TRIGGER IF EXISTS customer_credit_withdrawal_held ON customer_credit_withdrawal;
           DROP FUNCTION IF EXISTS customer_credit_withdrawal_held();
           DROP FUNCTION IF EXISTS customer_credit_balance_hold(integer, integer, numeric);"""
    )
