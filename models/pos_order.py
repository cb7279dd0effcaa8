import logging

import psycopg2

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import format_amount

_logger = logging.getLogger(__name__)


class PosOrder(models.Model):
    _inherit = "pos.order"

    def _process_saved_order(self, draft):
        order_id = super()._process_saved_order(draft)
        if not draft:
            self._customer_credit_process_payments()
        return order_id

    def _create_misc_reversal_move(self, payment_moves):
        """Invoiced after the session closed: Odoo's reversal of the closing entry credits the
        method's intermediary account (POS Credit Clearing) for the credit part; move it to the
        customer's receivable and reconcile it with the invoice, which the credit paid."""
        res = super()._create_misc_reversal_move(payment_moves)
        self._customer_credit_settle_invoice_after_close()
        return res

    # ------------------------------------------------------------------
    # Credit at sync
    # ------------------------------------------------------------------

    def _customer_credit_process_payments(self):
        """Spend (or give back, on a refund) the credit of this order's credit payments.

        Called once the order is saved as paid. It never raises for credit: the till has already
        handed over the goods, so a failure is logged, posted on the order and given to the credit
        managers as an activity, and the order is saved anyway. Database errors (serialization
        failures) are re-raised so that Odoo retries the whole sync.
        """
        self.ensure_one()
        payments = self.payment_ids.filtered(lambda payment: payment.payment_method_id.is_credit_method)
        for payment in payments:
            if self.currency_id.is_zero(payment.amount):
                continue
            try:
                with self.env.cr.savepoint():
                    if payment.amount > 0:
                        self._customer_credit_spend(payment)
                    else:
                        self._customer_credit_refund(payment)
            except psycopg2.DatabaseError:
                raise
            except Exception as error:
                self._customer_credit_report_failure(payment, error)

    def _customer_credit_product_amounts(self):
        """``{product: amount}`` of the order lines, for the product-specific credit lots."""
        amounts = {}
        for line in self.lines:
            if line.product_id and self.currency_id.compare_amounts(line.price_subtotal_incl, 0.0) > 0:
                amounts[line.product_id] = self.currency_id.round(
                    amounts.get(line.product_id, 0.0) + line.price_subtotal_incl
                )
        return amounts

    def _customer_credit_spend(self, payment):
        company = self.company_id
        partner = self.partner_id.commercial_partner_id
        product_amounts = self._customer_credit_product_amounts()
        # lots of a product already used by another credit payment of this order pay no more
        earlier = self.env["customer.credit.line"]
        if len(self.payment_ids.filtered(lambda p: p.payment_method_id.is_credit_method)) > 1:
            earlier = earlier.sudo().search(
                [("pos_order_id", "=", self.id), ("kind", "=", "spend"), ("credit_type", "=", "product")]
            )
        for line in earlier:
            product = line.lot_id.product_id
            if product in product_amounts:
                product_amounts[product] = self.currency_id.round(product_amounts[product] + line.amount)
        product_amounts = {
            product: amount
            for product, amount in product_amounts.items()
            if self.currency_id.compare_amounts(amount, 0)
        }
        invoice = self.account_move if self.account_move.move_type == "out_invoice" else None
        return self._customer_credit_service()._spend(
            partner,
            payment.amount,
            product_amounts=product_amounts,
            counterpart_account=None if invoice else company.credit_clearing_account_id,
            invoice=invoice,
            force=True,
            company=company,
            links={"pos_order_id": self.id, "pos_payment_id": payment.id},
            description=self.env._("Paid with credit: %s", self.name),
            key=self._customer_credit_key("spend", payment),
        )

    def _customer_credit_refund(self, payment):
        """A negative credit payment on a refund gives the credit back to the lots the refunded
        order's credit payments took it from."""
        company = self.company_id
        Line = self.env["customer.credit.line"].sudo()
        originals = self.lines.refunded_orderline_id.order_id
        spends = Line.search([("pos_order_id", "in", originals.ids), ("kind", "=", "spend")], order="id")
        if not spends:
            raise UserError(
                self.env._("The refunded order was not paid with customer credit: nothing can be given back.")
            )
        credit_note = self.account_move if self.account_move.move_type == "out_refund" else None
        service = self._customer_credit_service()
        rest = -payment.amount
        lines = Line
        operations = list(dict.fromkeys(spends.mapped("operation_ref")))
        for index, operation in enumerate(operations):
            if self.currency_id.compare_amounts(rest, 0.0) <= 0:
                break
            operation_lines = spends.filtered(lambda line, op=operation: line.operation_ref == op)
            refundable = self.currency_id.round(sum(line._refundable_amount() for line in operation_lines))
            part = min(rest, refundable)
            if self.currency_id.compare_amounts(part, 0.0) <= 0:
                continue
            lines |= service._refund(
                operation_lines,
                part,
                counterpart_account=None if credit_note else company.credit_clearing_account_id,
                credit_note=credit_note,
                links={"pos_order_id": self.id, "pos_payment_id": payment.id},
                description=self.env._("Credit refund: %s", self.name),
                key=self._customer_credit_key("refund", payment, index),
            )
            rest = self.currency_id.round(rest - part)
        if self.currency_id.compare_amounts(rest, 0.0) > 0:
            raise UserError(
                self.env._(
                    "%(amount)s more credit was refunded than the refunded order paid with credit.",
                    amount=format_amount(self.env, rest, self.currency_id),
                )
            )
        return lines

    def _customer_credit_service(self):
        # the spend's entry is the service's, posted during a sync: no chatter subscription or
        # creation log on it (the ledger line and the order say where it comes from)
        return (
            self.env["customer.credit.service"]
            .sudo()
            .with_company(self.company_id)
            .with_context(mail_create_nosubscribe=True, mail_create_nolog=True, tracking_disable=True)
        )

    def _customer_credit_amount(self):
        return sum(
            self.payment_ids.filtered(lambda payment: payment.payment_method_id.is_credit_method).mapped("amount")
        )

    def _customer_credit_key(self, kind, payment, index=0):
        key = f"pos.payment:{payment.uuid or payment.id}"
        return f"{key}:{index}" if index else key

    def _customer_credit_report_failure(self, payment, error):
        message = self.env._(
            "The customer credit payment of %(amount)s on %(order)s could not be recorded: %(error)s",
            amount=format_amount(self.env, payment.amount, self.currency_id),
            order=self.name,
            error=str(error),
        )
        _logger.error("%s", message)
        self.sudo().message_post(body=message)
        partner = self.partner_id.commercial_partner_id or self.company_id.partner_id
        self.env["customer.credit.service"].sudo()._schedule_manager_activity(
            partner, self.company_id, self.env._("POS credit payment to check"), message
        )

    # ------------------------------------------------------------------
    # Invoiced after the session closed
    # ------------------------------------------------------------------

    def _customer_credit_settle_invoice_after_close(self):
        self.ensure_one()
        company = self.company_id
        clearing = company.credit_clearing_account_id
        invoice = self.account_move
        amount = self._customer_credit_amount()
        if not clearing or not invoice or self.currency_id.compare_amounts(amount, 0.0) <= 0:
            return
        reversal = self.env["account.move"].sudo().search([("reversed_pos_order_id", "=", self.id)])
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")[:1]
        partner = invoice.commercial_partner_id
        label = self.env._("Credit payment of %s", invoice.name)
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": self.config_id.journal_id.id,
                    "date": invoice.date,
                    "ref": label,
                    "partner_id": partner.id,
                    "line_ids": [
                        (0, 0, {"name": label, "account_id": clearing.id, "partner_id": partner.id, "debit": amount}),
                        (
                            0,
                            0,
                            {
                                "name": label,
                                "account_id": receivable.account_id.id,
                                "partner_id": partner.id,
                                "credit": amount,
                            },
                        ),
                    ],
                }
            )
        )
        move._post(soft=False)
        (move.line_ids.filtered(lambda line: line.account_id == receivable.account_id) | receivable).filtered(
            lambda line: not line.reconciled
        ).reconcile()
        (move.line_ids | reversal.line_ids).filtered(
            lambda line: line.account_id == clearing and not line.reconciled
        ).reconcile()
