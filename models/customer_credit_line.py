from odoo import api, fields, models
from odoo.exceptions import UserError

from .customer_credit_service import is_service_env

KINDS = [
    ("topup", "Top-up"),
    ("spend", "Spend"),
    ("refund", "Refund"),
    ("withdraw", "Withdrawal"),
    ("adjust", "Adjustment"),
    ("transfer_in", "Transfer In"),
    ("transfer_out", "Transfer Out"),
    ("expire", "Expiry"),
    ("cancel", "Cancellation"),
]


class CustomerCreditLine(models.Model):
    """Append-only ledger of credit movements: one line per lot touched by a movement."""

    _name = "customer.credit.line"
    _description = "Customer Credit Movement"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Description", readonly=True)
    operation_ref = fields.Char(string="Operation", readonly=True, index=True)
    date = fields.Datetime(readonly=True, default=fields.Datetime.now, index=True)
    kind = fields.Selection(KINDS, required=True, readonly=True, index=True)
    amount = fields.Monetary(readonly=True, help="Signed: positive adds credit, negative takes it away.")
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True, index=True)
    lot_id = fields.Many2one(
        "customer.credit",
        string="Credit Lot",
        readonly=True,
        index=True,
        help="Empty for the overdraft part of a movement.",
    )
    # the lot's type, written with the line by the service (a lot's type never changes)
    credit_type = fields.Selection(
        [("generic", "Generic"), ("product", "Product-specific")], string="Lot Type", readonly=True
    )
    partner_balance_before = fields.Monetary(string="Customer Balance Before", readonly=True)
    partner_balance_after = fields.Monetary(string="Customer Balance After", readonly=True)
    lot_balance_before = fields.Monetary(readonly=True)
    lot_balance_after = fields.Monetary(readonly=True)
    refunded_line_id = fields.Many2one("customer.credit.line", string="Refund Of", readonly=True, index=True)
    move_id = fields.Many2one(
        "account.move", string="Journal Entry", readonly=True, index=True, groups="base.group_user"
    )
    pos_order_id = fields.Many2one("pos.order", string="POS Order", readonly=True, index="btree_not_null")
    pos_payment_id = fields.Many2one("pos.payment", string="POS Payment", readonly=True, index="btree_not_null")
    sale_order_id = fields.Many2one("sale.order", string="Sales Order", readonly=True, index="btree_not_null")
    transaction_id = fields.Many2one(
        "payment.transaction", string="Payment Transaction", readonly=True, index="btree_not_null"
    )
    invoice_id = fields.Many2one("account.move", readonly=True, index="btree_not_null")
    payment_id = fields.Many2one("account.payment", readonly=True, index="btree_not_null", groups="base.group_user")
    statement_line_id = fields.Many2one(
        "account.bank.statement.line",
        string="Cash Move",
        readonly=True,
        index="btree_not_null",
        groups="base.group_user",
    )
    withdrawal_id = fields.Many2one(
        "customer.credit.withdrawal", string="Withdrawal Request", readonly=True, index="btree_not_null"
    )
    # internal (not for the customer on the portal): reason, who, and the accounting documents above
    reason = fields.Char(readonly=True, groups="base.group_user")
    user_id = fields.Many2one("res.users", readonly=True, default=lambda self: self.env.user, groups="base.group_user")
    operation_amount = fields.Monetary(compute="_compute_operation", help="Total of the movement for this customer.")
    operation_balance_after = fields.Monetary(compute="_compute_operation")

    @api.depends("operation_ref", "partner_id")
    def _compute_operation(self):
        for line in self:
            siblings = self.search(
                [("operation_ref", "=", line.operation_ref), ("partner_id", "=", line.partner_id.id)], order="id"
            )
            line.operation_amount = sum(siblings.mapped("amount"))
            line.operation_balance_after = siblings[-1:].partner_balance_after

    @api.model_create_multi
    def create(self, vals_list):
        self.browse().check_access("create")
        if not is_service_env(self.env):
            raise UserError(self.env._("Credit movements are recorded by the credit service only."))
        return super().create(vals_list)

    def write(self, vals):
        if vals:
            raise UserError(self.env._("Credit movements cannot be modified: post a correcting movement instead."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_ledger(self):
        raise UserError(self.env._("Credit movements cannot be deleted: post a correcting movement instead."))

    def _refundable_amount(self):
        """What can still be given back for this spend line."""
        self.ensure_one()
        refunded = sum(self.search([("refunded_line_id", "=", self.id)]).mapped("amount"))
        return -self.amount - refunded
