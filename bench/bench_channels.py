"""One customer, many channels: concurrent spends of ONE customer from two tills and the website.

    python bench/bench_channels.py <odoo.conf> <db> [N] [PORT]

Commits its set-up in <db> (use a scratch copy: `make bench` does). One customer holds BALANCE of
credit (no overdraft: the floor is 0, or minus the customer's overdraft limit). N spends of 10.00
(default 200, more than the balance covers) are sent at once to `odoo-bin --workers=2`
(127.0.0.1:PORT, default 8074, longpolling PORT+1, no cron):

- two tills (two POS configs, each its own open session), each a logged-in web session sending
  paid credit orders through `pos.order.sync_from_ui`, one per call; a call that fails is sent
  again (up to 3 times), as the till keeps an unsynced order and sends it again;
- the website: two browser sessions of the customer's portal user paying carts (sales orders with a
  Customer Credit `payment.transaction` each) through the provider's own route,
  POST /payment/customer_credit/process (CSRF token from the portal page).

Then checks, from the database: no payment spent twice (each POS credit payment and each done
transaction has exactly its amount in the ledger, refused transactions none), the balance chain of
the ledger unbroken (each movement starts from the balance the previous one left: the spends were
serialized), the ledger total and the Customer Credit account agree, the lowest balance reached
(floor), and errors other than Odoo's retryable concurrency errors. Prints spends/s.
"""

# pylint: disable=print-used
import itertools
import os
import re
import sys
import threading
import time

import requests
from benchlib import (
    OdooServer,
    RpcClient,
    Shop,
    admin_env,
    info,
    jsonable_order,
    machine,
    order_data,
    record,
    registry_of,
)

N = int(sys.argv[3]) if len(sys.argv) > 3 else 200
PORT = int(sys.argv[4]) if len(sys.argv) > 4 else 8074
BALANCE = 1500.0
PRICE = 10.0
PORTAL = "bench_channels_portal"
RETRYABLE = ("SerializationFailure", "could not serialize", "LockNotAvailable", "lock timeout", "deadlock")


def setup(registry):
    """Committed: the customer, two tills, the till orders and the website carts to pay."""
    with registry.cursor() as cr:
        env = admin_env(cr)
        shop = Shop(env, n_partners=1, topup=BALANCE, n_configs=2, name="Bench channels")
        customer = shop.partners
        customer.email = "bench.channels@example.com"
        env["res.users"].with_context(no_reset_password=True).create(
            {
                "name": customer.name,
                "login": PORTAL,
                "password": PORTAL,
                "partner_id": customer.id,
                "groups_id": [(6, 0, env.ref("base.group_portal").ids)],
            }
        )
        product = env["product.product"].create(
            {
                "name": "Bench channels item",
                "type": "consu",
                "available_in_pos": True,
                "sale_ok": True,
                "list_price": PRICE,
                "taxes_id": False,
                "invoice_policy": "order",
            }
        )
        provider = env.ref("customer_credit.payment_provider_customer_credit")
        provider.write({"state": "enabled", "is_published": True})
        method = env.ref("customer_credit.payment_method_customer_credit")
        till_count = N * 7 // 20  # 35% per till, 30% on the website
        tills = [
            [
                jsonable_order(order_data(session, product, customer, shop.credit_method, i, env.uid))
                for i in range(till_count)
            ]
            for session in shop.sessions
        ]
        web_count = N - 2 * till_count
        orders = env["sale.order"].create(
            [
                {"partner_id": customer.id, "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1})]}
                for _i in range(web_count)
            ]
        )
        Tx = env["payment.transaction"].sudo()
        references = []
        for order in orders:
            tx = Tx.create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": method.id,
                    "reference": Tx._compute_reference("customer_credit", prefix=order.name),
                    "amount": order.amount_total,
                    "currency_id": order.currency_id.id,
                    "partner_id": order.partner_invoice_id.id,
                    "operation": "online_redirect",
                    "sale_order_ids": [(6, 0, order.ids)],
                }
            )
            references.append(tx.reference)
        floor = -env["customer.credit.service"].sudo()._overdraft_limit(customer, env.company) or 0.0
        cr.commit()
        return customer.id, tills, [references[0::2], references[1::2]], floor


class Outcome:
    def __init__(self):
        self.lock = threading.Lock()
        self.errors, self.retryable, self.retried = [], [], 0

    def error(self, message):
        with self.lock:
            (self.retryable if any(word in message for word in RETRYABLE) else self.errors).append(message)


def till(server, dbname, orders, outcome, start):
    rpc = RpcClient(server.url, dbname, "admin", "admin")
    start.wait()
    for data in orders:
        for attempt in range(3):
            try:
                rpc.call("pos.order", "sync_from_ui", [data])
                break
            except Exception as error:  # the till keeps the order and sends it again
                outcome.error(f"till: {error}")
                if attempt < 2:
                    with outcome.lock:
                        outcome.retried += 1


def website(server, dbname, references, outcome, start):
    rpc = RpcClient(server.url, dbname, PORTAL, PORTAL)
    page = rpc.http.get(f"{server.url}/my", timeout=60).text
    token = re.search(r'csrf_token: "([^"]+)"', page).group(1)
    start.wait()
    for reference in references:
        try:
            reply = rpc.http.post(
                f"{server.url}/payment/customer_credit/process",
                data={"reference": reference, "csrf_token": token},
                allow_redirects=False,
                timeout=600,
            )
            if reply.status_code not in (301, 302, 303):
                outcome.error(f"website: HTTP {reply.status_code} {reply.text[:200]}")
        except requests.RequestException as error:
            outcome.error(f"website: {error}")


def check(registry, customer_id, floor):
    with registry.cursor() as cr:
        env = admin_env(cr)
        company = env.company
        lines = env["customer.credit.line"].search([("partner_id", "=", customer_id)], order="id")
        spends = lines.filtered(lambda line: line.kind == "spend")
        payments = env["pos.payment"].search(
            [("pos_order_id.partner_id", "=", customer_id), ("payment_method_id.is_credit_method", "=", True)]
        )
        txs = env["payment.transaction"].search([("partner_id", "=", customer_id)])
        done, refused = txs.filtered(lambda tx: tx.state == "done"), txs.filtered(lambda tx: tx.state == "error")
        wrong = [
            payment
            for payment in payments
            if abs(
                sum(spends.filtered(lambda line, p=payment: line.pos_payment_id == p).mapped("amount")) + payment.amount
            )
            > 0.005
        ]
        wrong += [
            tx
            for tx in txs
            if abs(
                sum(spends.filtered(lambda line, t=tx: line.transaction_id == t).mapped("amount"))
                + (tx.amount if tx.state == "done" else 0.0)
            )
            > 0.005
        ]
        chain_breaks = sum(
            1
            for previous, line in itertools.pairwise(lines)
            if abs(line.partner_balance_before - previous.partner_balance_after) > 0.005
        )
        ledger = sum(lines.mapped("amount"))
        gl = sum(
            env["account.move.line"]
            .search(
                [
                    ("account_id", "=", company.credit_account_id.id),
                    ("partner_id", "=", customer_id),
                    ("parent_state", "=", "posted"),
                ]
            )
            .mapped("balance")
        )
        web_spends = spends.filtered("transaction_id")
        pos_spends = spends.filtered("pos_payment_id")
        below = lambda records: [line for line in records if line.partner_balance_after < floor - 0.005]  # noqa: E731
        return {
            "pos_orders": len(payments),
            "pos_amount": sum(payments.mapped("amount")),
            "done": len(done),
            "refused": len(refused),
            "draft": len(txs - done - refused),
            "spent": -sum(spends.mapped("amount")),
            "wrong": len(wrong),
            "chain_breaks": chain_breaks,
            "ledger": ledger,
            "gl": gl,
            "lowest": min(lines.mapped("partner_balance_after")),
            "web_below": len(below(web_spends)),
            "pos_below": len({line.pos_payment_id.id for line in below(pos_spends)}),
            "refused_reasons": sorted(set(refused.mapped("state_message")))[:2],
        }


def main(conf, dbname):
    registry = registry_of(conf, dbname)
    customer_id, tills, webs, floor = setup(registry)
    logfile = os.path.join(os.environ.get("BENCH_LOGDIR", "/tmp"), f"bench-channels-{dbname}.log")
    outcome = Outcome()
    with OdooServer(conf, dbname, 2, PORT, logfile) as server:
        start = threading.Barrier(len(tills) + len(webs) + 1)
        threads = [threading.Thread(target=till, args=(server, dbname, orders, outcome, start)) for orders in tills]
        threads += [threading.Thread(target=website, args=(server, dbname, refs, outcome, start)) for refs in webs]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        retries = server.retries()
    result = check(registry, customer_id, floor)
    sent = sum(len(orders) for orders in tills) + sum(len(refs) for refs in webs)
    spends = result["pos_orders"] + result["done"]
    print(f"One customer, two tills and the website, {sent} spends of {PRICE:.2f} at once ({machine()})")
    print(f"  balance {BALANCE:.2f}, floor {floor:.2f}; {elapsed:.1f} s, {spends / elapsed:.2f} spends/s")
    print(
        f"  tills: {result['pos_orders']} orders synced ({result['pos_amount']:.2f}); website: {result['done']} paid, "
        f"{result['refused']} refused, {result['draft']} left unprocessed"
    )
    for reason in result["refused_reasons"]:
        print(f"    refused: {reason[:150]}")
    print(
        f"  Odoo retries (concurrency): {retries}; retryable errors returned: {len(outcome.retryable)}, "
        f"syncs sent again by the tills: {outcome.retried}; other errors: {len(outcome.errors)}"
    )
    for error in outcome.retryable[:2]:
        print(f"    retryable: {error[:300]}")
    for error in outcome.errors[:3]:
        print(f"    error: {error[:300]}")
    print(
        f"  spent {result['spent']:.2f}; ledger balance {result['ledger']:.2f}; Customer Credit account "
        f"{result['gl']:.2f}; lowest balance {result['lowest']:.2f}"
    )
    print(
        f"  spends below the floor: website {result['web_below']}, tills {result['pos_below']} "
        "(a till's sync is forced: the order is already paid at the till)"
    )
    info("Channels: spends/s (2 workers, 1 customer)", f"{spends / elapsed:.2f}")
    lost = len(tills[0]) + len(tills[1]) - result["pos_orders"]
    record(
        "Channels: double spends, broken balance chain",
        f"{result['wrong']}, {result['chain_breaks']}",
        "0, 0",
        not result["wrong"] and not result["chain_breaks"],
    )
    books = abs(result["gl"] + result["ledger"]) < 0.005 and abs(BALANCE - result["spent"] - result["ledger"]) < 0.005
    record("Channels: ledger = balance - spends = -GL", str(books), "True", books)
    record(
        "Channels: lowest balance vs floor",
        f"{result['lowest']:.2f}",
        f">= {floor:.2f}",
        result["lowest"] >= floor - 0.005,
    )
    record(
        "Channels: crashes, lost till orders",
        f"{len(outcome.errors)}, {lost}",
        "0, 0",
        not outcome.errors and not lost and not result["draft"],
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
