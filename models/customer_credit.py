import logging

from odoo import api, fields, models, tools
from odoo.exceptions import UserError

from .cron_batch import run_cron_batch
from .customer_credit_service import is_service_env

_logger = logging.getLogger(__name__)

# What users may change on a lot; everything else only changes through the credit service.
USER_FIELDS = {"notes", "expiry_date"}
# fields of lots and movements that customers do not see (notes, reasons, who, journal entries)
INTERNAL = "base.group_user"


class CustomerCredit(models.Model):
    _name = "customer.credit"
    _description = "Customer Credit Lot"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/", index="trigram")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, index=True, ondelete="restrict"
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    credit_type = fields.Selection(
        [("generic", "Generic"), ("product", "Product-specific")],
        string="Type",
        required=True,
        readonly=True,
        default="generic",
    )
    product_id = fields.Many2one("product.product", readonly=True, check_company=True, ondelete="restrict")
    amount = fields.Monetary(string="Initial Amount", readonly=True)
    # the sum of the lot's ledger lines, kept by the ledger's trigger in the statement that writes
    # each line (``customer.credit.balance``), whatever the length of the lot's history
    balance = fields.Monetary(string="Remaining Balance", readonly=True)
    end_state = fields.Selection([("expired", "Expired"), ("cancelled", "Cancelled")], readonly=True, copy=False)
    state = fields.Selection(
        [("active", "Active"), ("used", "Used"), ("expired", "Expired"), ("cancelled", "Cancelled")],
        compute="_compute_state",
        store=True,
        index=True,
        tracking=True,
    )
    expiry_date = fields.Date(tracking=True)
    origin = fields.Selection(
        [
            ("manual", "Manual"),
            ("granted", "Granted"),
            ("pos", "POS Top-up"),
            ("website", "Website Top-up"),
            ("refund", "Refund"),
            ("transfer", "Transfer"),
            ("adjust", "Adjustment"),
        ],
        required=True,
        readonly=True,
        default="manual",
    )
    # internal: not shown to the customer on the portal
    notes = fields.Text(groups=INTERNAL)
    user_id = fields.Many2one(
        "res.users", string="Created By", readonly=True, default=lambda self: self.env.user, groups=INTERNAL
    )
    move_id = fields.Many2one("account.move", string="Journal Entry", readonly=True, copy=False, groups=INTERNAL)
    line_ids = fields.One2many("customer.credit.line", "lot_id", string="Movements", readonly=True)

    _sql_constraints = [
        ("name_uniq", "unique(name)", "The reference of a credit lot must be unique."),
        (
            "product_required",
            "CHECK(credit_type != 'product' OR product_id IS NOT NULL)",
            "A product-specific credit lot needs a product.",
        ),
    ]

    def init(self):
        # what spends and balance reads look up: a customer's lots that are not used up nor ended
        tools.create_index(
            self.env.cr,
            "customer_credit_active_partner_index",
            self._table,
            ["partner_id", "company_id", "expiry_date"],
            where="state = 'active'",
        )

    @api.depends("balance", "end_state")
    def _compute_state(self):
        for lot in self:
            if lot.end_state:
                lot.state = lot.end_state
            elif lot.currency_id.compare_amounts(lot.balance, 0.0) > 0:
                lot.state = "active"
            else:
                lot.state = "used"

    @api.model_create_multi
    def create(self, vals_list):
        self.browse().check_access("create")
        if not is_service_env(self.env):
            raise UserError(self.env._("Credit lots are created by top-ups, refunds and transfers, not by hand."))
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("customer.credit") or "/"
        return super().create(vals_list)

    def write(self, vals):
        if is_service_env(self.env):
            return super().write(vals)
        self.check_access("write")
        if "expiry_date" in vals:
            if any(lot.end_state for lot in self):
                raise UserError(self.env._("The expiry date of an expired or cancelled credit cannot be changed."))
            if not self.env.user.has_group("customer_credit.group_customer_credit_manager"):
                raise UserError(self.env._("Only a Credit Manager can change the expiry date of a credit."))
        if any(field not in USER_FIELDS and not field.startswith(("message_", "activity_")) for field in vals):
            raise UserError(
                self.env._("The amounts, owner and state of a credit lot only change through credit movements.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_ledger(self):
        raise UserError(self.env._("Credit lots are never deleted: cancel them instead."))

    def action_open_lot_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "customer.credit.lot.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lot_id": self.id, "default_mode": self.env.context.get("lot_wizard_mode", "cancel")},
        }

    def action_view_move(self):
        self.ensure_one()
        moves = self.line_ids.move_id
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Journal Entries"),
            "res_model": "account.move",
            "view_mode": "list,form",
            "domain": [("id", "in", moves.ids)],
        }

    @api.model
    def _cron_expire(self, batch_size=200):
        """Expire up to ``batch_size`` lots past their expiry date (safe to run again).

        A lot that fails to expire is logged and skipped, and the batch is filled with the next due
        lots, so failing lots never hold back the others; the cron is told how many due lots could
        still expire, so Odoo runs it again at once until none is left (``ir.cron._run_job``). Lots
        of a company without a breakage account wait for one: its credit managers get one To-Do.
        """
        Lot = self.sudo()
        due = [("state", "=", "active"), ("expiry_date", "<", fields.Date.context_today(self))]
        self._notify_missing_breakage_account(due)
        domain = [*due, ("company_id.credit_breakage_account_id", "!=", False)]
        service = self.env["customer.credit.service"].sudo()
        reason = self.env._("Expiry date reached")
        return run_cron_batch(
            Lot,
            domain,
            lambda lot: service._expire(lot, reason=reason),
            "Credit %s could not expire: %s",
            batch_size,
            _logger,
            order="expiry_date, id",
            # lock customers in id order, as transfers do, so the batch cannot deadlock with them
            sort_key=lambda lot: (lot.partner_id.id, lot.id),
        )

    @api.model
    def _notify_missing_breakage_account(self, due):
        """One To-Do per company whose due lots wait for a breakage account, for a credit manager of
        the company, kept until it is done (not one per lot, nor one per run)."""
        waiting = self.sudo()._read_group(
            [*due, ("company_id.credit_breakage_account_id", "=", False)], ["company_id"], ["id:min"]
        )
        if not waiting:
            return
        todo = self.env.ref("mail.mail_activity_data_todo")
        for company, first_lot_id in waiting:
            summary = self.env._("Set the breakage account of customer credit")
            _logger.warning("Credit of %s cannot expire: the company has no breakage account.", company.name)
            open_todo = [("activity_type_id", "=", todo.id), ("summary", "=", summary)]
            if self.sudo().search_count([("company_id", "=", company.id), ("activity_ids", "any", open_todo)], limit=1):
                continue
            self.sudo().browse(first_lot_id).activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=self.env._(
                    "Credit of %s past its expiry date cannot expire: set the breakage income account in the "
                    "Customer Credit settings, then the expiry job takes it.",
                    company.name,
                ),
                user_id=self.env["customer.credit.service"]._credit_manager(company).id,
            )

    def _can_take_refund(self):
        """Whether value may go back into this lot (not ended, not past its expiry date)."""
        self.ensure_one()
        return not self.end_state and (not self.expiry_date or self.expiry_date >= fields.Date.context_today(self))
