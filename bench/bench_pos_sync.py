"""Cost of paying POS orders with customer credit compared with paying the same orders in cash.

Run with `make bench-pos` (it copies the test template into a scratch database). One POS session
is opened and the same N orders (default 500) are synced through `pos.order.sync_from_ui`, one
order per call as the till sends them, once paid in cash and once paid by customer credit. Each
call starts on an empty cache, as an RPC does. Everything runs in one transaction that is rolled
back. Prints time and SQL queries per order and the ratios credit / cash.

Targets (issue 11): credit <= 1.15x cash in time, <= 148 queries per credit order, one
round-trip per credit order (the credit is spent inside the sync: no second RPC).
"""

# pylint: disable=print-used
# a command-line script: it prints its report
import sys
import time
import uuid

import odoo
from odoo import api, fields

N = int(sys.argv[3]) if len(sys.argv) > 3 else 500
WARM_UP = 20
TIME_TARGET = 1.15
QUERY_TARGET = 148


def order_data(session, products, partner, method, index):
    lines, total = [], 0.0
    for product in products:
        price = product.lst_price
        total += price
        lines.append(
            (
                0,
                0,
                {
                    "price_unit": price,
                    "product_id": product.id,
                    "price_subtotal": price,
                    "price_subtotal_incl": price,
                    "qty": 1,
                    "discount": 0.0,
                    "tax_ids": [(6, 0, [])],
                    "pack_lot_ids": [],
                },
            )
        )
    return {
        "amount_paid": total,
        "amount_return": 0,
        "amount_tax": 0.0,
        "amount_total": total,
        "date_order": fields.Datetime.to_string(fields.Datetime.now()),
        "fiscal_position_id": False,
        "pricelist_id": session.config_id.pricelist_id.id,
        "name": f"Bench order {index}",
        "last_order_preparation_change": "{}",
        "lines": lines,
        "partner_id": partner.id,
        "session_id": session.id,
        "sequence_number": index,
        "payment_ids": [
            (
                0,
                0,
                {
                    "amount": total,
                    "name": fields.Datetime.now(),
                    "payment_method_id": method.id,
                    "uuid": str(uuid.uuid4()),
                },
            )
        ],
        "uuid": str(uuid.uuid4()),
        "user_id": session.env.uid,
        "to_invoice": False,
    }


def measure(env, orders):
    """Sync each order in its own call; returns (seconds per order, queries per order)."""
    cr = env.cr
    elapsed, queries = 0.0, 0
    for data in orders:
        env.invalidate_all()
        env.flush_all()
        before = cr.sql_log_count
        start = time.perf_counter()
        env["pos.order"].sync_from_ui([data])
        env.flush_all()
        elapsed += time.perf_counter() - start
        queries += cr.sql_log_count - before
    return elapsed / len(orders), queries / len(orders)


def main(conf, dbname):
    odoo.tools.config.parse_config(["-c", conf, "-d", dbname])
    registry = odoo.modules.registry.Registry(dbname)
    with registry.cursor() as cr:
        # the POS manager of the demo data (the superuser may not open a POS session)
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        env = env(user=env.ref("base.user_admin"))
        company = env.company
        company._customer_credit_setup_accounting()
        cash_journal = env["account.journal"].search([("type", "=", "cash"), ("company_id", "=", company.id)], limit=1)
        cash_method = env["pos.payment.method"].create(
            {"name": "Bench Cash", "journal_id": cash_journal.id, "company_id": company.id}
        )
        credit_method = env["pos.payment.method"].create(
            {
                "name": "Bench Credit",
                "is_credit_method": True,
                "journal_id": company.credit_journal_id.id,
                "receivable_account_id": company.credit_clearing_account_id.id,
                "company_id": company.id,
            }
        )
        config = env["pos.config"].create(
            {"name": "Bench Shop", "payment_method_ids": [(6, 0, (cash_method | credit_method).ids)]}
        )
        config.open_ui()
        session = config.current_session_id
        products = env["product.product"].create(
            [
                {
                    "name": f"Bench product {i}",
                    "type": "consu",
                    "available_in_pos": True,
                    "list_price": 5.0 + i,
                    "taxes_id": False,
                }
                for i in range(3)
            ]
        )
        partners = env["res.partner"].create([{"name": f"Bench POS customer {i}"} for i in range(10)])
        service = env["customer.credit.service"].sudo()
        for partner in partners:
            service._topup(partner, 1_000_000.0, cash_journal)
        env.flush_all()

        def orders(method, count, offset):
            return [
                order_data(session, products, partners[i % len(partners)], method, offset + i) for i in range(count)
            ]

        # warm-up (caches, first-time code paths), then the same orders in cash and by credit,
        # alternating halves so that a slow drift of the growing session is shared by both
        measure(env, orders(cash_method, WARM_UP, 0))
        measure(env, orders(credit_method, WARM_UP, WARM_UP))
        half = N // 2
        results = {"cash": [], "credit": []}
        offset = 2 * WARM_UP
        for _round in range(2):
            for name, method in (("cash", cash_method), ("credit", credit_method)):
                results[name].append(measure(env, orders(method, half, offset)))
                offset += half
        cash_time = sum(r[0] for r in results["cash"]) / 2
        cash_queries = sum(r[1] for r in results["cash"]) / 2
        credit_time = sum(r[0] for r in results["credit"]) / 2
        credit_queries = sum(r[1] for r in results["credit"]) / 2
        spends = env["customer.credit.line"].search_count(
            [("kind", "=", "spend"), ("pos_order_id.session_id", "=", session.id)]
        )
        cr.rollback()

    print(f"POS sync, {2 * half} orders each, one sync_from_ui call per order ({spends} credit spends recorded)")
    print(f"  cash:   {cash_time * 1000:8.2f} ms/order  {cash_queries:7.1f} queries/order")
    print(f"  credit: {credit_time * 1000:8.2f} ms/order  {credit_queries:7.1f} queries/order  (1 round-trip)")
    ratio = credit_time / cash_time
    print(
        f"  ratio credit/cash: time {ratio:.3f}x (target <= {TIME_TARGET}x), "
        f"queries {credit_queries / cash_queries:.3f}x"
    )
    print(f"  queries per credit order: {credit_queries:.1f} (target <= {QUERY_TARGET})")
    print("  targets met" if ratio <= TIME_TARGET and credit_queries <= QUERY_TARGET else "  TARGETS MISSED")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
