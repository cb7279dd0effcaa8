"""The one door for money: every change of a customer credit balance goes through here.

Each public method locks the customer's credit rows, validates, writes the ledger lines and
posts the journal entry in the current transaction, and returns the ledger lines it wrote.
"""

import math
import uuid
from datetime import date

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, format_amount

MANAGER_KINDS = {"withdraw", "adjust", "cancel", "expire"}
LINK_FIELDS = {"pos_order_id", "pos_payment_id", "sale_order_id", "transaction_id", "invoice_id"}
CANCELLABLE_ORIGINS = {"manual", "granted", "pos", "website", "adjust"}


def is_service_env(env):
    """Whether ``env`` is the credit service writing: in sudo and flagged (a context alone can be
    forged by any RPC caller, sudo cannot)."""
    return env.su and bool(env.context.get("customer_credit_service"))


class CustomerCreditService(models.AbstractModel):
    _name = "customer.credit.service"
    _description = "Customer Credit Service"

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------

    @api.model
    def topup(
        self,
        partner,
        amount,
        journal=None,
        *,
        granted=False,
        credit_type="generic",
        product=None,
        expiry_date=None,
        origin=None,
        currency=None,
        company=None,
        notes=None,
        links=None,
        description=None,
    ):
        """Add credit paid through a cash/bank ``journal`` (Dr journal account, Cr Customer Credit)
        or, with ``granted``, given for free (Dr granted-credit account)."""
        self._check_access("adjust" if granted else "topup")
        partner, company, currency = self._context_of(partner, company, currency)
        amount = self._check_amount(amount, currency)
        if credit_type not in ("generic", "product"):
            raise UserError(self.env._("Unknown credit type %s.", credit_type))
        if credit_type == "product" and not product:
            raise UserError(self.env._("A product-specific credit needs a product."))
        if credit_type == "generic" and product:
            raise UserError(self.env._("A generic credit cannot be bound to a product."))
        if product and product.company_id and product.company_id != company:
            raise UserError(self.env._("The product %s belongs to another company.", product.display_name))
        if expiry_date and fields.Date.to_date(expiry_date) < fields.Date.context_today(self):
            raise UserError(self.env._("The expiry date of a new credit cannot be in the past."))
        if granted:
            counterpart = company.credit_granted_account_id
            if not counterpart:
                raise UserError(self.env._("Set a granted-credit account in the Customer Credit settings first."))
        else:
            counterpart = self._payment_account(journal, company, currency)
        if not expiry_date and company.credit_validity_months:
            expiry_date = fields.Date.add(fields.Date.context_today(self), months=company.credit_validity_months)
        self._lock([partner], company)
        lot_vals = {
            "credit_type": credit_type,
            "product_id": product.id if product else False,
            "expiry_date": expiry_date or False,
            "origin": origin or ("granted" if granted else "manual"),
            "notes": notes or False,
        }
        if credit_type == "generic":
            entries = self._allocate_credit(partner, company, amount, lot_vals)
        else:
            entries = [{"partner": partner, "lot_vals": lot_vals, "amount": amount}]
        label = description or (self.env._("Granted credit") if granted else self.env._("Credit top-up"))
        return self._commit(
            "topup",
            company,
            currency,
            entries,
            [(counterpart, partner, amount, label)],
            label,
            links=links,
        )

    @api.model
    def spend(
        self,
        partner,
        amount,
        *,
        product=None,
        counterpart_account=None,
        invoice=None,
        allow_overdraft=True,
        currency=None,
        company=None,
        links=None,
        description=None,
    ):
        """Pay with credit. The credit side goes to ``counterpart_account`` (the POS clearing
        account at the POS), or to the receivable of ``invoice``, which is then reconciled, or by
        default to the customer's receivable (Dr Customer Credit, Cr counterpart)."""
        self._check_access("spend")
        partner, company, currency = self._context_of(partner, company, currency)
        amount = self._check_amount(amount, currency)
        links = dict(links or {})
        if invoice:
            invoice = invoice.sudo()
            if invoice.company_id != company or invoice.commercial_partner_id != partner:
                raise UserError(
                    self.env._("The invoice %s is not one of this customer's in this company.", invoice.name)
                )
            if invoice.state != "posted" or invoice.move_type != "out_invoice":
                raise UserError(self.env._("Only posted customer invoices can be paid with credit."))
            if invoice.currency_id != currency:
                raise UserError(
                    self.env._(
                        "Credit is kept in %(currency)s: the invoice %(invoice)s in %(other)s cannot be paid with it.",
                        currency=currency.name,
                        invoice=invoice.name,
                        other=invoice.currency_id.name,
                    )
                )
            if currency.compare_amounts(amount, invoice.amount_residual) > 0:
                raise UserError(
                    self.env._(
                        "%(amount)s is more than the amount due on %(invoice)s (%(due)s).",
                        amount=format_amount(self.env, amount, currency),
                        invoice=invoice.name,
                        due=format_amount(self.env, invoice.amount_residual, currency),
                    )
                )
            counterpart_account = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")[
                :1
            ].account_id
            links["invoice_id"] = invoice.id
        counterpart_account = counterpart_account or partner.with_company(company).property_account_receivable_id
        self._lock([partner], company)
        entries = self._allocate_debit(partner, company, amount, product=product, allow_overdraft=allow_overdraft)
        label = (
            description
            or (invoice and self.env._("Credit payment of %s", invoice.name))
            or self.env._("Paid with credit")
        )
        lines = self._commit(
            "spend",
            company,
            currency,
            entries,
            [(counterpart_account, partner, -amount, label)],
            label,
            links=links,
        )
        if invoice:
            self._reconcile_with(lines.move_id, invoice)
        return lines

    @api.model
    def refund(self, spend_lines, amount=None, *, links=None, description=None):
        """Give back (part of) a spend to the lots it was taken from (reverse of the spend entry).

        Lots that can no longer be used (expired, cancelled) get a new generic refund lot instead.
        """
        self._check_access("refund")
        spend_lines = spend_lines.sudo()
        if not spend_lines:
            raise UserError(self.env._("Select the credit payment to refund."))
        operations = set(spend_lines.mapped("operation_ref"))
        spend_lines = spend_lines.search([("operation_ref", "in", list(operations)), ("kind", "=", "spend")])
        if not spend_lines or len(spend_lines.partner_id) != 1 or len(spend_lines.move_id) != 1:
            raise UserError(self.env._("Refund one credit payment at a time."))
        partner, company, currency = spend_lines.partner_id, spend_lines.company_id, spend_lines.currency_id
        self._check_company_allowed(company)
        self._lock([partner], company)
        refundable = {line: line._refundable_amount() for line in spend_lines}
        total = currency.round(sum(refundable.values()))
        amount = total if amount is None else self._check_amount(amount, currency)
        if currency.compare_amounts(total, 0.0) <= 0:
            raise UserError(self.env._("This credit payment has already been refunded in full."))
        if currency.compare_amounts(amount, total) > 0:
            raise UserError(
                self.env._(
                    "At most %(total)s can still be refunded on this payment.",
                    total=format_amount(self.env, total, currency),
                )
            )
        entries, rest = [], amount
        overdraft = self._overdraft_balance(partner, company)
        # Give back in the reverse order of consumption. Generic value first settles an open
        # overdraft, so generic credit and an overdraft never stand side by side; what cannot go
        # back to its lot (expired, cancelled, or taken as overdraft) makes a new refund lot.
        for line in spend_lines.sorted("id", reverse=True):
            part = min(rest, refundable[line])
            if currency.compare_amounts(part, 0.0) <= 0:
                continue
            rest = currency.round(rest - part)
            lot = line.lot_id if line.lot_id and line.lot_id._can_take_refund() else None
            if lot and lot.credit_type == "product":
                planned = [{"partner": partner, "lot": lot, "amount": part}]
            else:
                planned = self._allocate_credit(
                    partner, company, part, {"credit_type": "generic", "origin": "refund"}, lot=lot, overdraft=overdraft
                )
                settled = sum(e["amount"] for e in planned if "lot_vals" not in e and not e["lot"])
                overdraft = currency.round(overdraft + settled)
            for entry in planned:
                entry["refunded_line"] = line
            entries += planned
        counterpart = spend_lines.move_id.line_ids.filtered(lambda aml: aml.account_id != company.credit_account_id)[
            :1
        ].account_id
        label = description or self.env._("Refund: %s", spend_lines[0].name)
        return self._commit(
            "refund",
            company,
            currency,
            entries,
            [(counterpart, partner, amount, label)],
            label,
            links=links,
        )

    @api.model
    def withdraw(self, partner, amount, journal, *, currency=None, company=None, links=None, description=None):
        """Pay credit back to the customer in cash or by bank (Dr Customer Credit, Cr journal)."""
        self._check_access("withdraw")
        partner, company, currency = self._context_of(partner, company, currency)
        amount = self._check_amount(amount, currency)
        counterpart = self._payment_account(journal, company, currency)
        self._lock([partner], company)
        entries = self._allocate_debit(partner, company, amount, allow_overdraft=False)
        label = description or self.env._("Credit withdrawal")
        return self._commit(
            "withdraw", company, currency, entries, [(counterpart, partner, -amount, label)], label, links=links
        )

    @api.model
    def adjust(self, partner, amount, reason, *, currency=None, company=None, links=None):
        """Correct a balance up (amount > 0) or down (amount < 0), against the granted-credit account."""
        self._check_access("adjust")
        partner, company, currency = self._context_of(partner, company, currency)
        if not reason or not str(reason).strip():
            raise UserError(self.env._("Give the reason of the adjustment."))
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise UserError(self.env._("The amount must be a number."))
        sign = 1 if amount > 0 else -1
        value = self._check_amount(abs(amount), currency)
        counterpart = company.credit_granted_account_id
        if not counterpart:
            raise UserError(self.env._("Set a granted-credit account in the Customer Credit settings first."))
        self._lock([partner], company)
        if sign > 0:
            entries = self._allocate_credit(partner, company, value, {"credit_type": "generic", "origin": "adjust"})
        else:
            entries = self._allocate_debit(partner, company, value, allow_overdraft=False)
        label = self.env._("Credit adjustment: %s", reason)
        return self._commit(
            "adjust",
            company,
            currency,
            entries,
            [(counterpart, partner, sign * value, label)],
            label,
            links=links,
            reason=reason,
        )

    @api.model
    def transfer(self, partner, to_partner, amount, *, currency=None, company=None, links=None, description=None):
        """Move generic credit from one customer to another (both sides on Customer Credit)."""
        self._check_access("transfer")
        partner, company, currency = self._context_of(partner, company, currency)
        to_partner, __, __ = self._context_of(to_partner, company, currency)
        if partner == to_partner:
            raise UserError(self.env._("Credit can only be transferred to another customer."))
        amount = self._check_amount(amount, currency)
        self._lock([partner, to_partner], company)
        out_entries = self._allocate_debit(partner, company, amount, allow_overdraft=False)
        for entry in out_entries:
            entry["kind"] = "transfer_out"
        expiries = [entry["lot"].expiry_date for entry in out_entries if entry.get("lot") and entry["lot"].expiry_date]
        in_entries = self._allocate_credit(
            to_partner,
            company,
            amount,
            {"credit_type": "generic", "origin": "transfer", "expiry_date": min(expiries) if expiries else False},
        )
        for entry in in_entries:
            entry["kind"] = "transfer_in"
        label = description or self.env._(
            "Credit transfer from %(from)s to %(to)s", **{"from": partner.name, "to": to_partner.name}
        )
        return self._commit("transfer_out", company, currency, out_entries + in_entries, [], label, links=links)

    @api.model
    def expire(self, lots, reason=None):
        """Expire lots: their remaining balance goes to breakage income (Dr Customer Credit, Cr income)."""
        self._check_access("expire")
        lines = self.env["customer.credit.line"]
        for lot in lots.sudo():
            partner, company, currency = lot.partner_id, lot.company_id, lot.currency_id
            self._check_company_allowed(company)
            if not company.credit_breakage_account_id:
                raise UserError(self.env._("Set a breakage income account in the Customer Credit settings first."))
            self._lock([partner], company)
            lot.invalidate_recordset()
            if lot.state in ("expired", "cancelled"):
                raise UserError(self.env._("The credit %(lot)s is already %(state)s.", lot=lot.name, state=lot.state))
            balance = lot.balance
            if currency.compare_amounts(balance, 0.0) > 0:
                label = self.env._("Expiry of credit %s", lot.name)
                entries = [{"partner": partner, "lot": lot, "amount": -balance}]
                lines |= self._commit(
                    "expire",
                    company,
                    currency,
                    entries,
                    [(company.credit_breakage_account_id, partner, -balance, label)],
                    label,
                    reason=reason,
                )
            lot.with_context(customer_credit_service=True).write(
                {
                    "end_state": "expired",
                    "expiry_date": min(lot.expiry_date or date.max, fields.Date.context_today(self)),
                }
            )
        return lines

    @api.model
    def cancel(self, lot, reason=None):
        """Cancel an unused lot: its journal entry is reversed and its value taken back."""
        self._check_access("cancel")
        lot = lot.sudo()
        lot.ensure_one()
        partner, company, currency = lot.partner_id, lot.company_id, lot.currency_id
        self._check_company_allowed(company)
        self._lock([partner], company)
        lot.invalidate_recordset()
        if lot.state in ("expired", "cancelled"):
            raise UserError(self.env._("The credit %(lot)s is already %(state)s.", lot=lot.name, state=lot.state))
        if lot.origin not in CANCELLABLE_ORIGINS or not lot.move_id:
            raise UserError(self.env._("Only top-ups can be cancelled; correct other credit with an adjustment."))
        origin_lines = lot.line_ids.search([("operation_ref", "=", lot.line_ids[-1:].operation_ref)])
        if len(lot.line_ids) != 1 or any(len(line.lot_id.line_ids) > 1 for line in origin_lines if line.lot_id):
            raise UserError(
                self.env._(
                    "The credit %s has already been used: correct it with an adjustment or a withdrawal.", lot.name
                )
            )
        entries = [{"partner": partner, "lot": line.lot_id, "amount": -line.amount} for line in origin_lines]
        label = self.env._("Cancellation of credit %s", lot.name)
        reversal = lot.move_id.with_context(customer_credit_service=True)._reverse_moves(
            [{"ref": label, "date": fields.Date.context_today(self)}], cancel=True
        )
        lines = self._commit("cancel", company, currency, entries, None, label, move=reversal, reason=reason)
        lot.with_context(customer_credit_service=True).write({"end_state": "cancelled"})
        return lines

    # ------------------------------------------------------------------
    # Balances (read side)
    # ------------------------------------------------------------------

    @api.model
    def get_balances(self, partner, company=None, product=None):
        """Balances of a customer: total, usable generic (with overdraft), product-specific (of
        ``product``, or of all products), and what a spend (on ``product``) would accept now."""
        partner = partner.sudo().commercial_partner_id
        company = company or self.env.company
        currency = company.currency_id
        lots = self._usable_lots(partner, company, product, all_products=not product)
        generic = sum(lots.filtered(lambda lot: lot.credit_type == "generic").mapped("balance"))
        generic += self._overdraft_balance(partner, company)
        product_balance = sum(lots.filtered(lambda lot: lot.credit_type == "product").mapped("balance"))
        available = max(generic + self._overdraft_limit(partner, company), 0.0)
        if product:
            available += product_balance
        return {
            "total": currency.round(self._partner_balance(partner, company)),
            "generic": currency.round(generic),
            "product": currency.round(product_balance),
            "available": currency.round(available),
            "currency_id": currency.id,
        }

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _check_access(self, kind):
        if self.env.su:
            return
        group = (
            "customer_credit.group_customer_credit_manager"
            if kind in MANAGER_KINDS
            else "customer_credit.group_customer_credit_user"
        )
        if not self.env.user.has_group(group):
            raise AccessError(self.env._("You are not allowed to record this credit movement."))

    def _context_of(self, partner, company, currency):
        if not partner:
            raise UserError(self.env._("Select a customer."))
        partner.ensure_one()
        partner = partner.sudo().commercial_partner_id
        company = (company or self.env.company).sudo()
        if partner.company_id and partner.company_id not in (company | company.parent_ids):
            raise UserError(
                self.env._(
                    "The customer %(partner)s belongs to another company than %(company)s.",
                    partner=partner.display_name,
                    company=company.name,
                )
            )
        self._check_company_allowed(company)
        if currency and currency != company.currency_id:
            raise UserError(
                self.env._(
                    "Customer credit is kept in %(expected)s, not in %(given)s.",
                    expected=company.currency_id.name,
                    given=currency.name,
                )
            )
        if not company.credit_account_id or not company.credit_journal_id:
            company._customer_credit_setup_accounting()
        return partner, company, company.currency_id

    def _check_company_allowed(self, company):
        if not self.env.su and company not in self.env.user.company_ids:
            raise UserError(self.env._("You cannot record credit in the company %s.", company.name))

    def _check_amount(self, amount, currency):
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise UserError(self.env._("The amount must be a number."))
        if not math.isfinite(amount):
            raise UserError(self.env._("The amount must be a finite number."))
        if float_compare(amount, currency.round(amount), precision_digits=currency.decimal_places + 6) != 0:
            raise UserError(
                self.env._(
                    "%(amount)s has more decimals than %(currency)s allows.", amount=amount, currency=currency.name
                )
            )
        amount = currency.round(amount)
        if currency.compare_amounts(amount, 0.0) <= 0:
            raise UserError(self.env._("The amount must be positive."))
        return amount

    def _payment_account(self, journal, company, currency):
        if not journal:
            raise UserError(self.env._("Select the cash or bank journal of the payment."))
        journal = journal.sudo()
        if journal.type not in ("cash", "bank"):
            raise UserError(self.env._("%s is not a cash or bank journal.", journal.display_name))
        if journal.company_id != company:
            raise UserError(self.env._("The journal %s belongs to another company.", journal.display_name))
        if journal.currency_id and journal.currency_id != currency:
            raise UserError(
                self.env._(
                    "The journal %(journal)s is in %(currency)s.",
                    journal=journal.display_name,
                    currency=journal.currency_id.name,
                )
            )
        if not journal.default_account_id:
            raise UserError(self.env._("The journal %s has no default account.", journal.display_name))
        return journal.default_account_id

    def _lock(self, partners, company):
        """Lock the customers' credit rows for the rest of the transaction.

        The credit lots are locked ``FOR UPDATE`` and the customer's lock counter is bumped, so a
        concurrent movement of the same customer waits, then fails to serialize and is retried by
        Odoo on fresh data: a balance can never be spent twice.
        """
        self.env.flush_all()
        for partner in sorted(partners, key=lambda p: p.id):
            self.env.cr.execute(
                "SELECT id FROM customer_credit WHERE partner_id = %s AND company_id = %s FOR UPDATE",
                (partner.id, company.id),
            )
            self.env.cr.execute(
                "UPDATE res_partner SET credit_lock_seq = COALESCE(credit_lock_seq, 0) + 1 WHERE id = %s",
                (partner.id,),
            )
        self.env.invalidate_all()

    def _usable_lots(self, partner, company, product=None, all_products=False):
        """Lots that can be spent now: generic ones and those of ``product`` (or of any product
        with ``all_products``), in consumption order."""
        today = fields.Date.context_today(self)
        domain = [
            ("partner_id", "=", partner.id),
            ("company_id", "=", company.id),
            ("state", "=", "active"),
            "|",
            ("expiry_date", "=", False),
            ("expiry_date", ">=", today),
        ]
        if not all_products:
            domain += ["|", ("credit_type", "=", "generic"), ("product_id", "=", product.id if product else 0)]
        lots = self.env["customer.credit"].sudo().search(domain)

        def order(lot):
            return (
                0 if lot.credit_type == "product" else 1,
                lot.expiry_date or date.max,
                lot.create_date,
                lot.id,
            )

        return lots.sorted(order)

    def _partner_balance(self, partner, company):
        self.env.cr.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM customer_credit_line WHERE partner_id = %s AND company_id = %s",
            (partner.id, company.id),
        )
        return self.env.cr.fetchone()[0]

    def _overdraft_balance(self, partner, company):
        self.env.cr.execute(
            """SELECT COALESCE(SUM(amount), 0) FROM customer_credit_line
                WHERE partner_id = %s AND company_id = %s AND lot_id IS NULL""",
            (partner.id, company.id),
        )
        return self.env.cr.fetchone()[0]

    def _overdraft_limit(self, partner, company):
        partner = partner.sudo().with_company(company)
        if not partner.credit_allow_overdraft:
            return 0.0
        return partner.credit_overdraft_limit or company.credit_overdraft_limit

    def _allocate_debit(self, partner, company, amount, product=None, allow_overdraft=True):
        """Plan taking ``amount`` from the customer's lots: product-specific lots for the product
        first, then the earliest expiry, then the oldest; the rest as overdraft if allowed.

        The generic part may not bring the customer's generic credit (lots plus any overdraft)
        below minus the overdraft limit (0 without overdraft), so an open overdraft is never
        paid out or moved away while refunded lots hold value.
        """
        currency = company.currency_id
        lots = self._usable_lots(partner, company, product)
        overdraft = self._overdraft_balance(partner, company)
        limit = self._overdraft_limit(partner, company) if allow_overdraft else 0.0
        product_credit = sum(lots.filtered(lambda lot: lot.credit_type == "product").mapped("balance"))
        generic_credit = sum(lots.filtered(lambda lot: lot.credit_type == "generic").mapped("balance")) + overdraft
        generic_part = currency.round(amount - min(amount, product_credit))
        if currency.compare_amounts(generic_part, 0.0) > 0 and (
            currency.compare_amounts(generic_credit - generic_part, -limit) < 0
        ):
            available = min(amount, product_credit) + max(generic_credit + limit, 0.0)
            raise UserError(
                self.env._(
                    "%(partner)s has only %(available)s of credit available for %(amount)s.",
                    partner=partner.display_name,
                    available=format_amount(self.env, currency.round(available), currency),
                    amount=format_amount(self.env, amount, currency),
                )
            )
        entries, rest = [], amount
        for lot in lots:
            if currency.compare_amounts(rest, 0.0) <= 0:
                break
            part = min(rest, lot.balance)
            if currency.compare_amounts(part, 0.0) <= 0:
                continue
            entries.append({"partner": partner, "lot": lot, "amount": -part})
            rest = currency.round(rest - part)
        if currency.compare_amounts(rest, 0.0) > 0:
            entries.append({"partner": partner, "lot": None, "amount": -rest})
        return entries

    def _allocate_credit(self, partner, company, amount, lot_vals, lot=None, overdraft=None):
        """Plan adding generic ``amount``: it first settles the overdraft (``overdraft``, by default
        the customer's open one), the rest goes to ``lot`` or to a new lot made of ``lot_vals``."""
        currency = company.currency_id
        if overdraft is None:
            overdraft = self._overdraft_balance(partner, company)
        entries, rest = [], amount
        if currency.compare_amounts(overdraft, 0.0) < 0:
            settle = min(rest, -overdraft)
            entries.append({"partner": partner, "lot": None, "amount": settle})
            rest = currency.round(rest - settle)
        if currency.compare_amounts(rest, 0.0) > 0:
            target = {"lot": lot} if lot else {"lot_vals": dict(lot_vals)}
            entries.append({"partner": partner, "amount": rest, **target})
        return entries

    def _commit(self, kind, company, currency, entries, counterparts, label, links=None, move=None, reason=None):
        """Write the planned ledger lines and post their journal entry (or link ``move``)."""
        if set(links or {}) - LINK_FIELDS:
            raise UserError(self.env._("A credit movement can only link to its source documents."))
        Lot = self.env["customer.credit"].sudo().with_context(customer_credit_service=True)
        Line = self.env["customer.credit.line"].sudo().with_context(customer_credit_service=True)
        operation_ref = uuid.uuid4().hex[:12].upper()
        partner_totals = {}
        for entry in entries:
            entry["amount"] = currency.round(entry["amount"])
            partner_totals.setdefault(entry["partner"], 0.0)
            partner_totals[entry["partner"]] += entry["amount"]
        if move is None:
            move = self._post_move(company, currency, partner_totals, counterparts or [], label)
        new_lots = Lot
        for entry in entries:
            if entry.get("lot_vals"):
                entry["lot"] = Lot.create(
                    {
                        **entry.pop("lot_vals"),
                        "partner_id": entry["partner"].id,
                        "company_id": company.id,
                        "currency_id": currency.id,
                        "amount": entry["amount"],
                        "move_id": move.id,
                    }
                )
                new_lots |= entry["lot"]
        balances = {partner: self._partner_balance(partner, company) for partner in partner_totals}
        vals_list = []
        for entry in entries:
            partner, lot = entry["partner"], entry.get("lot") or Lot
            lot_before = 0.0 if lot in new_lots else lot.balance
            before = balances[partner]
            balances[partner] = currency.round(before + entry["amount"])
            vals_list.append(
                {
                    "name": label,
                    "operation_ref": operation_ref,
                    "kind": entry.get("kind", kind),
                    "amount": entry["amount"],
                    "currency_id": currency.id,
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "lot_id": lot.id,
                    "partner_balance_before": before,
                    "partner_balance_after": balances[partner],
                    "lot_balance_before": lot_before if lot else 0.0,
                    "lot_balance_after": currency.round(lot_before + entry["amount"]) if lot else 0.0,
                    "refunded_line_id": entry.get("refunded_line", Line).id,
                    "move_id": move.id,
                    "reason": reason or False,
                    "user_id": self.env.uid,
                    **(links or {}),
                }
            )
        lines = Line.create(vals_list)
        for line in lines.filtered("lot_id"):
            line.lot_id._message_log(
                body=self.env._(
                    "%(kind)s of %(amount)s: balance %(before)s → %(after)s (%(label)s)",
                    kind=dict(line._fields["kind"]._description_selection(self.env))[line.kind],
                    amount=format_amount(self.env, line.amount, currency),
                    before=format_amount(self.env, line.lot_balance_before, currency),
                    after=format_amount(self.env, line.lot_balance_after, currency),
                    label=line.name,
                )
            )
        self.env.flush_all()
        self._notify(lines)
        return lines.with_env(self.env)

    def _post_move(self, company, currency, partner_totals, counterparts, label):
        credit_account = company.credit_account_id
        line_vals = []
        for partner, total in partner_totals.items():
            line_vals.append(self._move_line_vals(credit_account, partner, -currency.round(total), label))
        for account, partner, balance, line_label in counterparts:
            line_vals.append(self._move_line_vals(account, partner, currency.round(balance), line_label))
        line_vals = [vals for vals in line_vals if vals["debit"] or vals["credit"]]
        partners = list(partner_totals)
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": company.credit_journal_id.id,
                    "date": fields.Date.context_today(self),
                    "ref": label,
                    "partner_id": partners[0].id if len(partners) == 1 else False,
                    "currency_id": currency.id,
                    "line_ids": [(0, 0, vals) for vals in line_vals],
                }
            )
        )
        move.with_context(customer_credit_service=True)._post(soft=False)
        return move

    def _move_line_vals(self, account, partner, balance, label):
        return {
            "name": label,
            "account_id": account.id,
            "partner_id": partner.id,
            "debit": balance if balance > 0 else 0.0,
            "credit": -balance if balance < 0 else 0.0,
        }

    def _reconcile_with(self, move, invoice):
        receivable = invoice.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable" and not line.reconciled
        )
        lines = move.line_ids.filtered(lambda line: line.account_id == receivable.account_id)
        (lines | receivable).reconcile()

    def _notify(self, lines):
        """Mail the customer once per movement (if the company wants it)."""
        template = self.env.ref("customer_credit.mail_template_credit_movement", raise_if_not_found=False)
        if not template:
            return
        seen = set()
        for line in lines:
            key = (line.partner_id.id, line.operation_ref)
            if key in seen or not line.company_id.credit_send_mail or not line.partner_id.email:
                continue
            seen.add(key)
            template.sudo().send_mail(line.id, email_layout_xmlid="mail.mail_notification_light")

    # ------------------------------------------------------------------
    # Demo data
    # ------------------------------------------------------------------

    @api.model
    def _load_demo_data(self):
        """Demo customers with history, an expired lot, an overdraft, and a POS credit method."""
        company = self.env.ref("base.main_company")
        company._customer_credit_setup_accounting()
        service = self.sudo().with_company(company)
        cash = self.env["account.journal"].search([("type", "=", "cash"), ("company_id", "=", company.id)], limit=1)
        ref = self.env.ref
        alice, bob = ref("customer_credit.partner_alice_demo"), ref("customer_credit.partner_bob_demo")
        carol, dan = ref("customer_credit.partner_carol_demo"), ref("customer_credit.partner_dan_demo")
        pen = ref("point_of_sale.whiteboard_pen", raise_if_not_found=False)
        today = fields.Date.context_today(self)

        service.topup(alice, 200.0, cash, expiry_date=fields.Date.add(today, months=12))
        spent = service.spend(alice, 45.5, description="Demo purchase")
        service.refund(spent, 10.0)
        if pen:
            service.topup(alice, 30.0, cash, credit_type="product", product=pen)
        service.transfer(alice, carol, 20.0)

        service.topup(bob, 50.0, cash)
        service.spend(bob, 80.0, description="Demo purchase on overdraft")

        old = service.topup(carol, 100.0, cash, expiry_date=fields.Date.add(today, days=1))
        old.lot_id.write({"expiry_date": fields.Date.subtract(today, days=3)})
        self.env["customer.credit"]._cron_expire()
        service.topup(carol, 25.0, granted=True)
        service.withdraw(carol, 15.0, cash)

        service.topup(dan, 60.0, cash)
        service.adjust(dan, -5.0, "Demo correction of a miscounted top-up")

        config = ref("point_of_sale.pos_config_main", raise_if_not_found=False)
        method = self.env["pos.payment.method"].create(
            {
                "name": "Customer Credit",
                "is_credit_method": True,
                "journal_id": company.credit_journal_id.id,
                "receivable_account_id": company.credit_clearing_account_id.id,
                "split_transactions": False,
                "company_id": company.id,
            }
        )
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": "customer_credit.pos_payment_method_credit_demo", "record": method, "noupdate": True}]
        )
        if config:
            config.write({"payment_method_ids": [(4, method.id)]})
