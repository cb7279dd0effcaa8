import logging

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.http import request
from odoo.tools import format_amount

from .customer_credit_service import is_service_env
from .payment_provider import CREDIT_CODE

_logger = logging.getLogger(__name__)

PROCESS_URL = "/payment/customer_credit/process"


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    is_credit_topup = fields.Boolean(
        string="Credit Top-up",
        readonly=True,
        copy=False,
        help="Paid online from the customer portal to add credit: once done, it creates one credit lot.",
    )

    # ------------------------------------------------------------------
    # Processing of a payment with credit
    # ------------------------------------------------------------------

    def _get_specific_rendering_values(self, processing_values):
        """The redirect form posts the reference to our own route (logged-in user, CSRF-checked)."""
        res = super()._get_specific_rendering_values(processing_values)
        if self.provider_code != CREDIT_CODE:
            return res
        return {
            "api_url": PROCESS_URL,
            "reference": self.reference,
            "csrf_token": request.csrf_token() if request else "",
        }

    def _get_tx_from_notification_data(self, provider_code, notification_data):
        tx = super()._get_tx_from_notification_data(provider_code, notification_data)
        if provider_code != CREDIT_CODE or len(tx) == 1:
            return tx
        reference = notification_data.get("reference")
        tx = self.search([("reference", "=", reference), ("provider_code", "=", CREDIT_CODE)]) if reference else tx
        if len(tx) != 1:
            raise ValidationError(self.env._("Customer Credit: no transaction found matching reference %s.", reference))
        return tx

    def _process_notification_data(self, notification_data):
        super()._process_notification_data(notification_data)
        if self.provider_code != CREDIT_CODE:
            return
        self._customer_credit_pay()

    def _customer_credit_pay(self):
        """Pay the transaction's sales order with the customer's credit, once.

        The transaction and its order are locked: a replayed request, a double click or a second
        tab waits, then finds the transaction processed and does nothing (the service's key on the
        transaction would also return the first spend). A shortfall sets the transaction in error,
        with nothing spent and the order left unconfirmed."""
        self.ensure_one()
        cr = self.env.cr
        self.env.flush_all()
        cr.execute("SELECT id FROM payment_transaction WHERE id = %s FOR UPDATE", [self.id])
        self.invalidate_recordset()
        if self.state != "draft":
            _logger.info("Customer Credit: transaction %s is already %s, nothing to do", self.reference, self.state)
            return
        orders = self.sale_order_ids
        if orders:
            cr.execute("SELECT id FROM sale_order WHERE id IN %s FOR UPDATE", [tuple(orders.ids)])
            orders.invalidate_recordset()
        error = self._customer_credit_check_order(orders)
        if not error:
            try:
                with cr.savepoint():
                    self._customer_credit_spend(orders)
                self.env.invalidate_all()
            except UserError as exc:
                self.env.invalidate_all()
                error = self.env._("Not enough credit: %s", exc.args[0])
        if error:
            _logger.info("Customer Credit: transaction %s refused: %s", self.reference, error)
            self._set_error(error)
            return
        self._set_done()

    def _customer_credit_check_order(self, orders):
        """Why the order cannot be paid with credit now, or None."""
        if self.is_credit_topup:
            return self.env._("Credit cannot be topped up with credit.")
        if len(orders) != 1 or orders.state not in ("draft", "sent"):
            return self.env._("Credit pays one quotation or cart at a time, before it is confirmed.")
        currency = orders.company_id.currency_id
        if self.currency_id != currency or orders.currency_id != currency or self.company_id != orders.company_id:
            return self.env._("Credit is kept in %s.", currency.name)
        if orders.partner_id.commercial_partner_id != self.partner_id.commercial_partner_id:
            return self.env._("The order belongs to another customer.")
        due = currency.round(orders.amount_total - orders.amount_paid)
        if currency.compare_amounts(self.amount, due) != 0:
            return self.env._(
                "The order changed: %(due)s is due, not %(amount)s. Please refresh the page.",
                due=format_amount(self.env, due, currency),
                amount=format_amount(self.env, self.amount, currency),
            )
        if self.env["customer.credit.line"].sudo().search_count([("transaction_id", "=", self.id)], limit=1):
            return self.env._("This payment has already been recorded.")
        return None

    def _customer_credit_spend(self, order):
        """Spend through the service (Dr Customer Credit / Cr the customer's receivable), keyed by
        the transaction; the receivable is reconciled with the order's invoice once it is posted."""
        company = order.company_id
        partner = order.partner_id.commercial_partner_id
        __, product_amounts = order._customer_credit_payable(self.amount)
        invoice = order.invoice_ids.filtered(
            lambda move: (
                move.state == "posted"
                and move.move_type == "out_invoice"
                and not move.currency_id.compare_amounts(move.amount_residual, self.amount)
            )
        )[:1]
        receivable = partner.with_company(company).property_account_receivable_id
        if order.fiscal_position_id:
            receivable = order.fiscal_position_id.map_account(receivable)
        spend_args = {"invoice": invoice} if invoice else {"counterpart_account": receivable}
        return (
            self.env["customer.credit.service"]
            .sudo()
            .with_company(company)
            ._spend(
                partner,
                self.amount,
                product_amounts=product_amounts,
                currency=self.currency_id,
                company=company,
                links={"transaction_id": self.id, "sale_order_id": order.id},
                description=self.env._("Credit payment of %(order)s (%(ref)s)", order=order.name, ref=self.reference),
                key=self,
                **spend_args,
            )
        )

    # ------------------------------------------------------------------
    # Post-processing: no account.payment for credit; top-ups make their lot
    # ------------------------------------------------------------------

    def _post_process(self):
        for tx in self.filtered(lambda tx: tx.state == "done" and tx.is_credit_topup and not tx.payment_id):
            tx._customer_credit_topup()
        res = super()._post_process()
        paid = self.filtered(lambda tx: tx.provider_code == CREDIT_CODE and tx.state == "done")
        if paid:
            self._customer_credit_reconcile_invoices(paid.invoice_ids)
        return res

    def _create_payment(self, **extra_create_values):
        """Paying with credit posts its own entry through the credit service, so Odoo must not
        credit the receivable a second time with an ``account.payment``. A top-up's payment is made
        by the credit service (see :meth:`_customer_credit_topup`), never by the generic flow."""
        if self.provider_code == CREDIT_CODE or (self.is_credit_topup and not is_service_env(self.env)):
            return self.env["account.payment"]
        return super()._create_payment(**extra_create_values)

    def _customer_credit_topup(self):
        """Add the paid amount as credit, once per transaction: Odoo's own payment of the
        transaction (Dr outstanding receipts / Cr Customer Credit) is the lot's entry."""
        self.ensure_one()
        company = self.company_id
        partner = self.partner_id.commercial_partner_id

        def make_payment_move(env):
            tx = self.with_env(env).with_company(company)
            payment = tx._create_payment(destination_account_id=company.credit_account_id.id)
            return payment.move_id

        return (
            self.env["customer.credit.service"]
            .sudo()
            .with_company(company)
            ._topup(
                partner,
                self.amount,
                origin="website",
                currency=self.currency_id,
                company=company,
                links={"transaction_id": self.id},
                description=self.env._("Online credit top-up %s", self.reference),
                key=self,
                move_factory=make_payment_move,
            )
        )

    def _customer_credit_reconcile_invoices(self, invoices):
        """Reconcile posted customer invoices with the credit spent on their orders online."""
        invoices = invoices.sudo().filtered(lambda move: move.state == "posted" and move.move_type == "out_invoice")
        if not invoices:
            return
        spends = (
            self.env["customer.credit.line"]
            .sudo()
            .search([("transaction_id", "in", invoices.transaction_ids.ids), ("kind", "=", "spend")])
        )
        for invoice in invoices:
            receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
            spent = spends.filtered(lambda line, invoice=invoice: line.transaction_id in invoice.transaction_ids)
            (receivable | spent.move_id.line_ids)._customer_credit_reconcile_open(receivable.account_id)
