"""Shared set-up of the Point of Sale tests: a shop with a Customer Credit payment method and
customers with credit, for the server-side tests (Odoo's ``TestPoSCommon`` shop) and the tours
(``TestPointOfSaleHttpCommon``'s shop), with the ledger/GL helpers of ``CustomerCreditCommon``."""

from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.tests import new_test_user

from .common import CustomerCreditCommon


class CustomerCreditPosMixin:
    """The ledger/GL helpers of CustomerCreditCommon, for the POS test bases."""

    balance = CustomerCreditCommon.balance
    gl_balance = CustomerCreditCommon.gl_balance
    assert_invariant = CustomerCreditCommon.assert_invariant
    assert_stored_balances = CustomerCreditCommon.assert_stored_balances  # called by assert_invariant

    @classmethod
    def _setup_customer_credit_pos(cls, config):
        cls.company._customer_credit_setup_accounting()
        cls.credit_account = cls.company.credit_account_id
        cls.clearing_account = cls.company.credit_clearing_account_id
        cls.topup_account = cls.company.credit_topup_clearing_account_id
        cls.credit_pm = cls.env["pos.payment.method"].create(
            {
                "name": "Customer Credit",
                "is_credit_method": True,
                "journal_id": cls.company.credit_journal_id.id,
                "receivable_account_id": cls.clearing_account.id,
                "company_id": cls.company.id,
            }
        )
        config.write({"payment_method_ids": [(4, cls.credit_pm.id)]})

    @classmethod
    def new_pos_user(cls, login, groups=""):
        """A user of the shop's company with the Point of Sale user group (a cashier), and ``groups``."""
        return new_test_user(
            cls.env,
            login=login,
            groups=",".join(filter(None, ("base.group_user,point_of_sale.group_pos_user", groups))),
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )

    @classmethod
    def allow_overdraft(cls, partner, limit):
        partner.with_company(cls.company).sudo().write(
            {"credit_allow_overdraft": True, "credit_overdraft_limit": limit}
        )

    def _credit_session(self):
        """The session the test works in."""
        raise NotImplementedError

    def close_session(self, counted=None):
        """Close the test's session as the till does, with ``counted`` in the cash drawer (by default,
        the cash its orders took)."""
        session = self._credit_session()
        if counted is None:
            counted = sum(
                session.order_ids.payment_ids.filtered(lambda p: p.payment_method_id.is_cash_count).mapped("amount")
            )
        if session.cash_journal_id:
            session.post_closing_cash_details(counted)
        session.close_session_from_ui()
        self.assertEqual(session.state, "closed")
        return session

    def ledger(self, partner, **domain):
        return (
            self.env["customer.credit.line"]
            .sudo()
            .search(
                [("partner_id", "=", partner.commercial_partner_id.id)]
                + [(field, "=", value) for field, value in domain.items()],
                order="id",
            )
        )

    def clearing_lines(self, session=None):
        domain = [("account_id", "=", self.clearing_account.id), ("parent_state", "=", "posted")]
        return self.env["account.move.line"].sudo().search(domain)

    def posted_balance(self, account, partner=None, moves=None):
        """Balance of the posted lines of ``account`` (of ``partner``, in ``moves``, if given)."""
        domain = [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        if partner is not None:
            domain.append(("partner_id", "=", partner.id))
        if moves is not None:
            domain.append(("move_id", "in", moves.ids))
        return self.currency.round(sum(self.env["account.move.line"].sudo().search(domain).mapped("balance")))

    def assert_clearing_settled(self):
        """POS Credit Clearing nets to zero and every line of it is reconciled."""
        self._assert_account_settled(self.clearing_lines())

    def assert_topup_clearing_settled(self):
        """POS Credit Top-up Clearing nets to zero and every line of it is reconciled."""
        self._assert_account_settled(
            self.env["account.move.line"].search(
                [("account_id", "=", self.topup_account.id), ("parent_state", "=", "posted")]
            )
        )

    def _assert_account_settled(self, lines):
        self.assertTrue(lines)
        self.assertTrue(self.currency.is_zero(sum(lines.mapped("balance"))), lines.mapped("balance"))
        self.assertTrue(all(lines.mapped("reconciled")), [(line.move_id.name, line.balance) for line in lines])


class CustomerCreditPosCase(CustomerCreditPosMixin, TestPoSCommon):
    """Odoo's basic test shop (``config``) with the Customer Credit payment method ``credit_pm``, a
    product ``product_a`` of 30.00, and its ``customer`` topped up with ``customer_topup`` of generic
    credit paid in cash. Each test opens (``open_session``) a session of the ``session_methods``."""

    customer_topup = 100.0
    session_methods = ("cash_pm1", "bank_pm1", "credit_pm")
    open_session = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = cls.basic_config
        cls._setup_customer_credit_pos(cls.config)
        cls.cash_journal = cls.company_data["default_journal_cash"]
        cls.product_a = cls.create_product("Credit Product A", cls.categ_basic, 30.0)
        cls.service = cls.env["customer.credit.service"].sudo()
        if cls.customer_topup:
            cls.service._topup(cls.customer, cls.customer_topup, cls.cash_journal)

    def setUp(self):
        super().setUp()
        self.currency = self.company.currency_id
        methods = self.env["pos.payment.method"].union(*(getattr(self, name) for name in self.session_methods))
        self.config.write({"payment_method_ids": [(6, 0, methods.ids)]})
        if self.open_session:
            self.open_new_session()

    def _credit_session(self):
        return self.pos_session

    def sync(self, *orders_params):
        return self._create_orders(list(orders_params))

    def refund_data(self, order, lines, payments, **params):
        """The till's data of a refund of ``order`` to its customer: ``lines`` (``[(product, -qty)]``)
        refund the order's lines in turn."""
        data = self.create_ui_order_data(lines, customer=order.partner_id, payments=payments, **params)
        for line, original in zip(data["lines"], order.lines, strict=True):
            line[2]["refunded_orderline_id"] = original.id
        return data

    def sync_refund(self, order, lines, payments, **params):
        """Sync the refund of ``order`` (see ``refund_data``); returns the refund order (none when the
        till sends one again)."""
        result = self.env["pos.order"].sync_from_ui([self.refund_data(order, lines, payments, **params)])
        return self.env["pos.order"].browse([refund["id"] for refund in result["pos.order"]])


class CustomerCreditPosTourCase(CustomerCreditPosMixin, TestPointOfSaleHttpCommon):
    """The tour shop (``main_pos_config``) with the Customer Credit payment method, a product
    ``widget`` of 30.00 and two customers, ``alice`` and ``bob``, named after ``tour_label`` as the
    tours look them up (``<label> Widget``, ``AA <label> Alice``); ``service`` in the shop's company."""

    tour_label = "Credit"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.main_pos_config.company_id
        cls.currency = cls.company.currency_id
        cls._setup_customer_credit_pos(cls.main_pos_config)
        cls.cash_journal = cls.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.widget = cls.env["product.product"].create(
            {"name": f"{cls.tour_label} Widget", "available_in_pos": True, "list_price": 30.0, "taxes_id": False}
        )
        Partner = cls.env["res.partner"]
        # "AA" so that they are among the customers the till preloads (by name)
        cls.alice = Partner.create({"name": f"AA {cls.tour_label} Alice"})
        cls.bob = Partner.create({"name": f"AA {cls.tour_label} Bob"})
        cls.service = cls.env["customer.credit.service"].sudo().with_company(cls.company)

    def _credit_session(self):
        return self.main_pos_config.current_session_id

    def start_credit_tour(self, tour):
        """Open the shop as its cashier and run ``tour`` in it; returns the session."""
        self.main_pos_config.with_user(self.pos_user).open_ui()
        session = self.main_pos_config.current_session_id
        self.start_pos_tour(tour, login="pos_user")
        return session
