"""Cost of the credit service compared with posting the same journal entry by hand.

Run with `make bench` (it copies the test template into a scratch database). Everything runs
in one transaction that is rolled back. Prints, measured in this one run, the time per
operation and the ratio credit-service / bare journal entry: the price of the lock, the
validation and the ledger on top of the accounting Odoo does anyway.
"""

import sys
import time

from benchlib import info

import odoo
from odoo import api

N = int(sys.argv[3]) if len(sys.argv) > 3 else 200


def timed(func, count):
    start = time.perf_counter()
    for index in range(count):
        func(index)
    return (time.perf_counter() - start) / count


def main(conf, dbname):
    odoo.tools.config.parse_config(["-c", conf, "-d", dbname])
    from odoo.addons.customer_credit.models.customer_credit_service import service_env  # noqa: PLC0415

    registry = odoo.modules.registry.Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        service = env["customer.credit.service"]
        cash = env["account.journal"].search([("type", "=", "cash"), ("company_id", "=", company.id)], limit=1)
        partners = env["res.partner"].create([{"name": f"Bench {i}"} for i in range(10)])
        for partner in partners:
            service._topup(partner, 1_000_000.0, cash)
        env.flush_all()

        def bare_move(index):
            partner = partners[index % 10]
            move = (
                env["account.move"]
                .with_env(service_env(env))
                .create(
                    {
                        "move_type": "entry",
                        "journal_id": company.credit_journal_id.id,
                        "line_ids": [
                            (
                                0,
                                0,
                                {"account_id": company.credit_account_id.id, "partner_id": partner.id, "debit": 1.0},
                            ),
                            (
                                0,
                                0,
                                {
                                    "account_id": company.credit_clearing_account_id.id,
                                    "partner_id": partner.id,
                                    "credit": 1.0,
                                },
                            ),
                        ],
                    }
                )
            )
            move._post(soft=False)
            env.flush_all()

        def credit_spend(index):
            service._spend(partners[index % 10], 1.0, counterpart_account=company.credit_clearing_account_id)

        def credit_topup(index):
            service._topup(partners[index % 10], 1.0, cash)

        for warm_up in (bare_move, credit_spend, credit_topup):
            timed(warm_up, 20)
        bare = timed(bare_move, N)
        spend = timed(credit_spend, N)
        topup = timed(credit_topup, N)
        print(f"operations per kind: {N}")
        print(f"bare journal entry : {bare * 1000:7.2f} ms")
        print(f"credit spend       : {spend * 1000:7.2f} ms  ratio {spend / bare:.2f}x")
        print(f"credit top-up      : {topup * 1000:7.2f} ms  ratio {topup / bare:.2f}x")
        info(
            "Service: spend / bare journal entry", f"{spend * 1000:.2f} ms / {bare * 1000:.2f} ms ({spend / bare:.2f}x)"
        )
        info("Service: top-up / bare journal entry", f"{topup * 1000:.2f} ms ({topup / bare:.2f}x)")
        cr.rollback()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
