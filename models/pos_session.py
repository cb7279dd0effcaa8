import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from .cron_batch import run_cron_batch

_logger = logging.getLogger(__name__)

# A close reconciles up to this many open clearing items itself (about 2 ms each); a bigger session
# leaves them to a job it triggers, so that the cashier's wait does not grow with its credit payments.
# System parameter: customer_credit.pos_close_reconcile_limit.
CLOSE_RECONCILE_LIMIT = 200


class PosSession(models.Model):
    _inherit = "pos.session"

    customer_credit_reconcile_pending = fields.Boolean(
        string="Credit Clearing to Reconcile",
        copy=False,
        readonly=True,
        help="The session closed with more open items on the POS credit clearing accounts than a close "
        "reconciles itself: a scheduled action reconciles them in the background, seconds later.",
    )

    # ------------------------------------------------------------------
    # Paying credit out in cash (RPCs of the till)
    # ------------------------------------------------------------------

    def customer_credit_pay_out_info(self, partner_id):
        """What the till's pay-out dialog offers: the customer's credit that can be paid out now
        (generic credit, less what is held; never an overdraft). Refuses what the pay-out refuses."""
        self.ensure_one()
        partner = self._customer_credit_pay_out_check(partner_id)
        return {
            "partner_id": partner.id,
            "partner_name": partner.display_name,
            "payable": self._customer_credit_payable_out(partner),
        }

    def customer_credit_pay_out(self, partner_id, amount, uuid):
        """Pay ``amount`` of the customer's credit out of this session's cash drawer.

        Recorded as a cash out of the session, as Odoo's Cash In/Out does (a posted statement line
        of the cash journal, counted in the closing cash), whose counterpart is the customer's
        Customer Credit: Dr Customer Credit (customer) / Cr cash, made through the credit service
        (``_withdraw``), once per ``uuid`` of the till."""
        self.ensure_one()
        partner = self._customer_credit_pay_out_check(partner_id)
        if not uuid or not isinstance(uuid, str):
            raise UserError(self.env._("The pay-out has no reference: reload the Point of Sale and try again."))
        company = self.company_id
        reason = self.env._("Credit pay-out: %s", partner.display_name)
        extras = {"translatedType": self.env._("out")}

        def statement_line_move(env):
            session = self.with_env(env)
            vals = session._prepare_account_bank_statement_line_vals(session, -1, amount, reason, extras)
            vals.update({"counterpart_account_id": company.credit_account_id.id, "partner_id": partner.id})
            return env["account.bank.statement.line"].with_company(company).create(vals).move_id

        lines = self._customer_credit_service()._withdraw(
            partner,
            amount,
            company=company,
            move_factory=statement_line_move,
            description=reason,
            key=f"pos.payout:{uuid}",
        )
        statement_line = lines.statement_line_id[:1]
        return {
            "partner_id": partner.id,
            "partner_name": partner.display_name,
            "amount": -sum(lines.mapped("amount")),
            "reference": statement_line.payment_ref or "",
            "statement_line_id": statement_line.id,
            "payable": self._customer_credit_payable_out(partner),
            "balance": lines.sorted("id")[-1:].partner_balance_after,
        }

    def _customer_credit_pay_out_check(self, partner_id):
        """The customer of a pay-out, once the session, the cashier and the cash drawer allow one."""
        if self.state != "opened":
            raise UserError(self.env._("Credit can only be paid out from an open session."))
        if not (
            self.config_id.credit_cashier_pay_out
            or self.env.user.has_group("customer_credit.group_customer_credit_manager")
        ):
            raise UserError(
                self.env._(
                    "Only credit managers may pay customer credit out here (the point of sale %s does not let "
                    "cashiers do it).",
                    self.config_id.name,
                )
            )
        if not self.cash_journal_id:
            raise UserError(self.env._("There is no cash payment method for this PoS Session"))
        partner = self.env["res.partner"].browse(partner_id if isinstance(partner_id, int) else []).exists()
        if not partner:
            raise UserError(self.env._("Select the customer whose credit is paid out."))
        return partner.sudo().commercial_partner_id

    def _customer_credit_payable_out(self, partner):
        balances = self._customer_credit_service()._get_balances(partner, self.company_id)
        return self.company_id.currency_id.round(max(balances["generic"] - balances["held"], 0.0))

    def _customer_credit_service(self):
        """The credit service as every movement of the till calls it (pay-outs here, spends, refunds
        and top-ups of the orders synced: ``pos.order._customer_credit_service``): in sudo (cashiers
        are no credit managers), in the shop's company, and quiet: its entries get no chatter
        subscription or creation log, its lots no chatter and the customer no movement mail (the
        ledger line, the order or the cash move and the receipt are the history)."""
        return (
            self.env["customer.credit.service"]
            .sudo()
            .with_company(self.company_id)
            .with_context(
                mail_create_nosubscribe=True, mail_create_nolog=True, tracking_disable=True, customer_credit_quiet=True
            )
        )

    def _reconcile_account_move_lines(self, data):
        """Reconcile the two clearing accounts of credit at the till, so that each nets to zero per
        session:

        - POS Credit Clearing: the closing entry debits it with the session's (uninvoiced) credit
          payments; the spends posted at sync credited it, their refunds and the store credit given on
          refunds (Dr Clearing / Cr Customer Credit) debited it;
        - POS Credit Top-up Clearing: the closing entry credits it with the (uninvoiced) top-up lines,
          as their income account, and an invoiced top-up's invoice does; the top-ups posted at sync
          debited it (a refunded top-up, withdrawn, the other way round): no top-up is revenue.

        Reconciling costs about 2 ms an item (Odoo's ``reconcile``: a partial each, residuals
        recomputed). Up to ``customer_credit.pos_close_reconcile_limit`` items (default
        ``CLOSE_RECONCILE_LIMIT``), the close does it; a bigger session is flagged and left to the
        scheduled action it triggers (``_cron_customer_credit_reconcile``), as Odoo sends a batch of
        invoices in the background: no balance waits for it, the spends posted at sync.
        """
        data = super()._reconcile_account_move_lines(data)
        items = self._customer_credit_clearing_items()
        cron = self.env.ref("customer_credit.ir_cron_customer_credit_pos_reconcile", raise_if_not_found=False)
        cron = cron.sudo() if cron else cron
        # without its scheduled action (deleted or switched off), the close does it all
        if not (cron and cron.active) or sum(map(len, items)) <= self._customer_credit_close_reconcile_limit():
            self._customer_credit_reconcile(items)
        else:
            self.sudo().customer_credit_reconcile_pending = True
            cron._trigger()
        return data

    def _customer_credit_close_reconcile_limit(self):
        value = self.env["ir.config_parameter"].sudo().get_param("customer_credit.pos_close_reconcile_limit")
        try:
            return int(value) if value not in (None, False, "") else CLOSE_RECONCILE_LIMIT
        except ValueError:
            _logger.warning("customer_credit.pos_close_reconcile_limit is not a number: %r", value)
            return CLOSE_RECONCILE_LIMIT

    def _customer_credit_clearing_items(self):
        """The open items of the clearing accounts that the session's close settles, per account: in
        the closing entry, the entries of the session's credit movements and, on the top-up clearing,
        the invoices of the orders invoiced at the till. An order invoiced after the close is settled on
        its own, with the reversal of its part of the closing entry
        (``pos.order._customer_credit_settle_invoice_after_close``)."""
        self.ensure_one()
        company = self.company_id.sudo()
        orders = self._get_closed_orders()
        invoiced_after = (
            self.env["account.move"].sudo().search([("reversed_pos_order_id", "in", orders.ids)]).reversed_pos_order_id
        )
        invoices = (orders - invoiced_after).account_move.filtered(lambda move: move.state == "posted")
        ledger = self.env["customer.credit.line"].sudo().search([("pos_order_id", "in", orders.ids)])
        return [
            self._customer_credit_open_items(
                company.credit_topup_clearing_account_id,
                ledger.filtered(lambda line: line.kind in ("topup", "withdraw")).move_id | invoices,
            ),
            self._customer_credit_open_items(
                company.credit_clearing_account_id,
                ledger.filtered(lambda line: line.kind in ("spend", "refund", "topup")).move_id,
            ),
        ]

    def _customer_credit_open_items(self, account, moves):
        """The unreconciled lines of ``account`` in the closing entry and ``moves``."""
        if not account or not account.reconcile:
            return self.env["account.move.line"]
        moves = self.move_id.exists() | moves
        domain = [
            ("move_id", "in", moves.ids),
            ("account_id", "=", account.id),
            ("reconciled", "=", False),
            ("parent_state", "=", "posted"),
        ]
        return self.env["account.move.line"].sudo().search(domain, order="id")

    def _customer_credit_reconcile(self, items):
        """Reconcile each set of ``items`` (open lines of one account) that has debits and credits.

        The entries are posted and balanced and reconciling moves no amount: like the closing entry
        itself (``_validate_session``), it runs without re-checking their balance and re-syncing their
        dynamic lines (``check_move_validity``, ``skip_invoice_sync``), which would otherwise cost a
        pass over every spend's entry of the session."""
        for lines in items:
            lines.with_context(check_move_validity=False, skip_invoice_sync=True)._customer_credit_reconcile_open()

    @api.model
    def _cron_customer_credit_reconcile(self, batch_size=10):
        """Reconcile the clearing items of up to ``batch_size`` closed sessions whose close left them
        to this job (safe to run again: only open items are taken, and the flag is then cleared).

        Each session is reconciled in a savepoint: one that fails is logged, stays flagged for the next
        run and does not hold back the others; the cron is told how many flagged sessions could still
        be reconciled, so Odoo runs it again at once until none is left (``ir.cron._run_job``)."""

        def reconcile(session):
            session = session.with_company(session.company_id)
            session._customer_credit_reconcile(session._customer_credit_clearing_items())
            session.customer_credit_reconcile_pending = False

        return run_cron_batch(
            self.sudo(),
            [("customer_credit_reconcile_pending", "=", True), ("state", "=", "closed")],
            reconcile,
            "The credit clearing of %s could not be reconciled: %s",
            batch_size,
            _logger,
        )
