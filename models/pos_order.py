import logging

import psycopg2

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from .customer_credit_service import is_credit_shortfall

_logger = logging.getLogger(__name__)


class PosOrder(models.Model):
    _inherit = "pos.order"

    credit_balance_after = fields.Float(
        compute="_compute_credit_balance_after",
        digits="Account",
        help="The customer's credit balance after this order's credit movements (0 without any); "
        "negative: what the customer now owes.",
    )

    def _process_saved_order(self, draft):
        order_id = super()._process_saved_order(draft)
        if not draft:
            self._customer_credit_process_payments()
            self._customer_credit_process_topups()
            self._customer_credit_reconcile_invoice_line()
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

        Except for an order whose cashier is waiting on the payment screen of an online till
        (``_customer_credit_is_strict``): its spend may not take the customer below the credit floor,
        and a refusal raises out of the sync, which saves nothing; the till shows the message and
        the cashier changes the payment.
        """
        self.ensure_one()
        payments = self.payment_ids.filtered(lambda payment: payment.payment_method_id.is_credit_method)
        strict = self._customer_credit_is_strict()
        for payment in payments:
            if self.currency_id.is_zero(payment.amount):
                continue
            try:
                with self.env.cr.savepoint():
                    if payment.amount > 0:
                        self._customer_credit_spend(payment, strict=strict)
                    else:
                        self._customer_credit_refund(payment)
            except psycopg2.DatabaseError:
                raise
            except UserError as error:
                if strict and is_credit_shortfall(error):
                    raise self._customer_credit_strict_error(error) from error
                self._customer_credit_report_failure(payment, error)
            except Exception as error:
                self._customer_credit_report_failure(payment, error)

    def _customer_credit_is_strict(self):
        """Whether this order's cashier is waiting for the sync (an online till's payment screen,
        which sends the uuids of such orders in the context key ``customer_credit_strict_orders``):
        its credit spends keep to the credit floor instead of being forced. Orders validated
        offline and sent later are not in it: their goods are gone, their spends are forced."""
        self.ensure_one()
        strict = self.env.context.get("customer_credit_strict_orders") or ()
        return bool(self.uuid) and isinstance(strict, (list, tuple)) and self.uuid in strict

    def _customer_credit_strict_error(self, error):
        """The message the cashier of an online till gets when the credit payment is refused."""
        return UserError(
            self.env._(
                "%(error)s Another till or the web shop may have just used this credit: change the payment.",
                error=error.args[0] if error.args else str(error),
            )
        )

    def _customer_credit_product_amounts(self):
        """``{product: amount}`` of the order lines, for the product-specific credit lots."""
        amounts = {}
        for line in self.lines:
            if line.product_id and self.currency_id.compare_amounts(line.price_subtotal_incl, 0.0) > 0:
                amounts[line.product_id] = self.currency_id.round(
                    amounts.get(line.product_id, 0.0) + line.price_subtotal_incl
                )
        return amounts

    def _customer_credit_spend(self, payment, strict=False):
        """Spend the credit of ``payment``. Forced (a shortfall becomes overdraft, even beyond the
        limit, and the credit managers get an activity) unless ``strict``: then a spend beyond what
        the customer has (the overdraft limit included) raises."""
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
        invoice, counterpart = self._customer_credit_spend_target("out_invoice")
        return self._customer_credit_service()._spend(
            partner,
            payment.amount,
            product_amounts=product_amounts,
            counterpart_account=counterpart,
            invoice=invoice,
            force=not strict,
            company=company,
            links={"pos_order_id": self.id, "pos_payment_id": payment.id},
            description=self.env._("Paid with credit: %s", self.name),
            key=self._customer_credit_key("spend", payment),
        )

    def _customer_credit_refund(self, payment):
        """A negative credit payment on a refund gives the credit back to the lots the refunded
        order's credit payments took it from; what goes beyond them (the refunded order was paid in
        cash or by card) is store credit: a new lot."""
        Line = self.env["customer.credit.line"].sudo()
        recorded = Line.search([("pos_payment_id", "=", payment.id)], order="id")
        if recorded:
            # already given (a repeated processing of the order): never twice
            return recorded
        originals = self.lines.refunded_orderline_id.order_id
        spends = Line.search([("pos_order_id", "in", originals.ids), ("kind", "=", "spend")], order="id")
        credit_note, counterpart = self._customer_credit_spend_target("out_refund")
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
                counterpart_account=counterpart,
                credit_note=credit_note,
                links={"pos_order_id": self.id, "pos_payment_id": payment.id},
                description=self.env._("Credit refund: %s", self.name),
                key=self._customer_credit_key("refund", payment, index),
            )
            rest = self.currency_id.round(rest - part)
        if self.currency_id.compare_amounts(rest, 0.0) > 0:
            lines |= self._customer_credit_store_credit(payment, rest, credit_note, counterpart)
        return lines

    def _customer_credit_store_credit(self, payment, amount, credit_note, counterpart):
        """Refund ``amount`` as store credit: a new generic lot (origin refund), keyed by the refund's
        credit payment. Dr POS Credit Clearing (which the session's closing entry credits with the
        negative credit payment) / Cr Customer Credit; on an invoiced refund, Dr the credit note's
        receivable, reconciled with it. The cash drawer is untouched."""
        partner = self.partner_id.commercial_partner_id
        if not partner:
            raise UserError(self.env._("Store credit needs a customer."))
        if credit_note:
            counterpart = credit_note.line_ids.filtered(lambda line: line.account_type == "asset_receivable")[
                :1
            ].account_id
        service = self._customer_credit_service()
        lines = service._topup(
            partner,
            amount,
            origin="refund",
            company=self.company_id,
            counterpart_account=counterpart,
            links={"pos_order_id": self.id, "pos_payment_id": payment.id},
            description=self.env._("Store credit: %s", self.name),
            key=self._customer_credit_key("topup", payment),
        )
        if credit_note:
            service._reconcile_with(lines.move_id, credit_note)
        return lines

    def _customer_credit_service(self):
        # one door for every movement of the till: the session's (sudo, quiet, the shop's company)
        return self.session_id._customer_credit_service()

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
        self._customer_credit_report(message, self.env._("POS credit payment to check"))

    def _customer_credit_report(self, message, summary):
        """A credit movement of this order could not be recorded: logged, posted on the order and
        given to the credit managers as an activity (the sync goes on)."""
        _logger.error("%s", message)
        self.sudo().message_post(body=message)
        partner = self.partner_id.commercial_partner_id or self.company_id.partner_id
        service = self.env["customer.credit.service"].sudo()
        service._schedule_manager_activity(partner, self.company_id, summary, message)

    # ------------------------------------------------------------------
    # Invoiced after the session closed
    # ------------------------------------------------------------------

    def _customer_credit_settle_invoice_after_close(self, clearing_lines=None):
        """Post Dr POS Credit Clearing / Cr the invoice's receivable (or, on an invoice without the
        credit part, its 'Paid with customer credit' line's account) and reconcile both sides.

        ``clearing_lines``: the open credit on POS Credit Clearing this settles; by default the
        reversal of the closing entry (invoiced after close)."""
        self.ensure_one()
        company = self.company_id
        clearing = company.credit_clearing_account_id
        invoice = self.account_move
        amount = self._customer_credit_amount()
        if not clearing or not invoice or self.currency_id.compare_amounts(amount, 0.0) <= 0:
            return
        if clearing_lines is None:
            clearing_lines = self.env["account.move"].sudo().search([("reversed_pos_order_id", "=", self.id)]).line_ids
        receivable = (
            self._customer_credit_invoice_lines(invoice)[:1]
            or invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")[:1]
        )
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
        (move.line_ids | receivable)._customer_credit_reconcile_open(receivable.account_id)
        (move.line_ids | clearing_lines)._customer_credit_reconcile_open(clearing)

    # ------------------------------------------------------------------
    # Invoices without the credit part (pos.config credit_invoice_mode)
    # ------------------------------------------------------------------

    def _prepare_invoice_vals(self):
        """An invoice 'without credit' gets a 'Paid with customer credit' line (no tax) that takes
        the credit part off its total; the line books on the company's POS Credit Clearing
        (invoices) account, which the credit spend credits (or, for a refund, debits)."""
        vals = super()._prepare_invoice_vals()
        if self.config_id.credit_invoice_mode == "without_credit":
            amount = self._customer_credit_amount()
            if not self.currency_id.is_zero(amount):
                vals["invoice_line_ids"].append(
                    Command.create(
                        {
                            "name": self.env._("Paid with customer credit"),
                            "account_id": self._customer_credit_invoice_account().id,
                            "quantity": 1.0,
                            "price_unit": -abs(amount),
                            "tax_ids": [Command.clear()],
                        }
                    )
                )
        return vals

    def _generate_pos_order_invoice(self):
        """Invoiced from the backend (or the ticket screen) while the session is still open: the
        credit was spent at sync on POS Credit Clearing, and the closing entry skips invoiced
        orders, so that credit pays the invoice now."""
        later = self.filtered(
            lambda order: (
                not order.account_move
                and order.state in ("paid", "done")
                and order.session_id.state != "closed"
                and order.currency_id.compare_amounts(order._customer_credit_amount(), 0.0) > 0
            )
        )
        res = super()._generate_pos_order_invoice()
        clearing = self.company_id.credit_clearing_account_id
        for order in later.filtered("account_move"):
            spends = (
                self.env["customer.credit.line"]
                .sudo()
                .search([("pos_order_id", "=", order.id), ("kind", "=", "spend")])
            )
            open_lines = spends.move_id.line_ids.filtered(
                lambda line: line.account_id == clearing and not line.reconciled
            )
            if open_lines:
                order._customer_credit_settle_invoice_after_close(open_lines)
        return res

    def _customer_credit_spend_target(self, move_type):
        """``(invoice, counterpart account)`` of this order's credit spends (``out_invoice``) or
        refunds (``out_refund``): the invoice whose receivable the credit pays, or the account the
        credit goes to: the invoice's 'Paid with customer credit' line's account when the invoice
        leaves the credit part out, else POS Credit Clearing."""
        invoice = self.account_move if self.account_move.move_type == move_type else None
        if invoice:
            credit_lines = self._customer_credit_invoice_lines(invoice)
            if not credit_lines:
                return invoice, None
            return None, credit_lines.account_id[:1]
        return None, self.company_id.credit_clearing_account_id

    def _customer_credit_invoice_account(self):
        """The company's POS Credit Clearing (invoices) account, created if it misses it."""
        company = self.company_id.sudo()
        if not company.credit_invoice_clearing_account_id:
            company._customer_credit_setup_accounting()
        return company.credit_invoice_clearing_account_id

    def _customer_credit_invoice_lines(self, invoice):
        """The 'Paid with customer credit' lines of an invoice (on POS Credit Clearing (invoices))."""
        if not invoice:
            return self.env["account.move.line"]
        account = self.company_id.sudo().credit_invoice_clearing_account_id
        if not account:
            return self.env["account.move.line"]
        return invoice.line_ids.filtered(lambda line: line.account_id == account and line.display_type == "product")

    def _customer_credit_reconcile_invoice_line(self):
        """Reconcile the invoice's 'Paid with customer credit' line with the credit movements of the
        order on its account (spends; on a credit note, the credit given back or as store credit)."""
        invoice = self.account_move
        credit_lines = self._customer_credit_invoice_lines(invoice).filtered(lambda line: not line.reconciled)
        if not credit_lines:
            return
        ledger = self.env["customer.credit.line"].sudo().search([("pos_order_id", "=", self.id)])
        (credit_lines | ledger.move_id.line_ids)._customer_credit_reconcile_open(credit_lines.account_id)

    # ------------------------------------------------------------------
    # Credit top-up at the till (cash desk)
    # ------------------------------------------------------------------

    def _compute_credit_balance_after(self):
        Line = self.env["customer.credit.line"].sudo()
        last = dict(Line._read_group([("pos_order_id", "in", self.ids)], ["pos_order_id"], ["id:max"]))
        for order in self:
            line_id = last.get(order._origin)
            order.credit_balance_after = Line.browse(line_id).partner_balance_after if line_id else 0.0

    @api.model
    def _get_invoice_lines_values(self, line_values, pos_order_line):
        # an invoiced credit top-up is no revenue either: its invoice line is on the top-up clearing
        vals = super()._get_invoice_lines_values(line_values, pos_order_line)
        if pos_order_line._is_customer_credit_topup() and line_values.get("account_id"):
            vals["account_id"] = line_values["account_id"].id
        return vals

    def _customer_credit_process_topups(self):
        """Turn the order's credit top-up lines into credit (a negative line, a refunded top-up, takes
        it back). Like the credit payments, never raises for credit: a failure is logged, posted on
        the order and given to the credit managers; database errors are re-raised for Odoo's retry."""
        self.ensure_one()
        # the product's id from the (cached) xml id: most orders have no top-up line to look at
        product_id = self.env["pos.config"]._customer_credit_topup_product().id
        if not product_id:
            return
        for line in self.lines.filtered(lambda line: line.product_id.id == product_id):
            if self.currency_id.is_zero(line.price_subtotal):
                continue
            try:
                with self.env.cr.savepoint():
                    self._customer_credit_topup(line)
            except psycopg2.DatabaseError:
                raise
            except Exception as error:
                self._customer_credit_report_topup_failure(line, error)

    def _customer_credit_topup(self, line):
        """Dr POS Credit Top-up Clearing / Cr Customer Credit, keyed by the order line. The session's
        closing entry credits the clearing account with the top-up line (the product's income
        account), so the money paid ends as Customer Credit, not as revenue. A refunded top-up (a
        negative line) withdraws the credit the other way round (never into overdraft)."""
        company = self.company_id
        partner = self.partner_id.commercial_partner_id
        if not partner:
            raise UserError(self.env._("A credit top-up needs a customer."))
        account = company._customer_credit_topup_account()
        amount = self.currency_id.round(line.price_subtotal)
        service = self._customer_credit_service()
        links = {"pos_order_id": self.id}
        if self.currency_id.compare_amounts(amount, 0.0) > 0:
            return service._topup(
                partner,
                amount,
                origin="pos",
                company=company,
                counterpart_account=account,
                links=links,
                description=self.env._("Credit top-up: %s", self.name),
                key=line,
            )
        amount = -amount
        label = self.env._("Refunded credit top-up: %s", self.name)
        credit_account = company.credit_account_id
        date = fields.Date.context_today(self)

        def move_factory(env):
            return (
                env["account.move"]
                .with_company(company)
                .create(
                    {
                        "move_type": "entry",
                        "journal_id": company.credit_journal_id.id,
                        "date": date,
                        "ref": label,
                        "partner_id": partner.id,
                        "line_ids": [
                            Command.create(
                                {"name": label, "account_id": account.id, "partner_id": partner.id, "credit": amount}
                            ),
                            Command.create(
                                {
                                    "name": label,
                                    "account_id": credit_account.id,
                                    "partner_id": partner.id,
                                    "debit": amount,
                                }
                            ),
                        ],
                    }
                )
            )

        return service._withdraw(
            partner, amount, company=company, move_factory=move_factory, links=links, description=label, key=line
        )

    def _customer_credit_report_topup_failure(self, line, error):
        message = self.env._(
            "The credit top-up of %(amount)s on %(order)s could not be recorded: %(error)s",
            amount=format_amount(self.env, line.price_subtotal, self.currency_id),
            order=self.name,
            error=str(error),
        )
        self._customer_credit_report(message, self.env._("POS credit top-up to check"))
