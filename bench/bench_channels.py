"""One customer, many channels: concurrent spends of ONE customer from two tills and the website.

    python bench/bench_channels.py <odoo.conf> <db> [N] [PORT]

Commits its set-up in <db> (use a scratch copy: `make bench` does). One customer holds BALANCE of
credit (no overdraft: the floor is 0, or minus the customer's overdraft limit). N spends of 10.00
(default 200, more than the balance covers) are sent at once to `odoo-bin --workers=2`
(127.0.0.1:PORT, default 8074, longpolling PORT+1, no cron):

- two online tills (two POS configs, each its own open session), each a logged-in web session
  sending paid credit orders through `pos.order.sync_from_ui`, one per call, with the order's uuid
  in the context key `customer_credit_strict_orders`, as the payment screen of an online till does:
  a spend beyond the floor is refused (a UserError: the till shows it and the cashier takes another
  payment), counted as a refusal; a call that fails otherwise is sent again (up to 3 times), as the
  till keeps an unsynced order and sends it again, among them the UserError "being changed by
  another payment ... try again" that a sync gets when it lost the race on every try Odoo made;
- the website: two browser sessions of the customer's portal user paying carts (sales orders with a
  Customer Credit `payment.transaction` each) through the provider's own route,
  POST /payment/customer_credit/process (CSRF token from the portal page); Odoo's error page (400)
  with that same message is retryable: the customer pays again (up to 3 tries in all).

Then checks, from the database: no payment spent twice (each POS credit payment and each done
transaction has exactly its amount in the ledger, refused transactions none), the balance chain of
the ledger unbroken (each movement starts from the balance the previous one left: the spends were
serialized), the ledger total and the Customer Credit account agree, the lowest balance reached
(never below the floor), the refusals of each channel, and errors other than Odoo's retryable
concurrency errors (the "busy, try again" replies are counted apart: retryable, not crashes). Prints
spends/s.
"""

# pylint: disable=print-used
import itertools
import re
import sys
import threading
import time

import requests
from benchlib import (
    RpcClient,
    RpcError,
    Shop,
    admin_env,
    info,
    jsonable_order,
    machine,
    order_data,
    record,
    registry_of,
    serve,
    server_args,
)

N, PORT = server_args(200)
BALANCE = 1500.0
PRICE = 10.0
PORTAL = "bench_channels_portal"
TRIES = 3
# the clear message of a credit movement that lost the concurrency race on every try Odoo made
BUSY = "being changed by another payment"
RETRYABLE = ("SerializationFailure", "could not serialize", "LockNotAvailable", "lock timeout", "deadlock", BUSY)


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
        self.till_refusals = []
        # "busy, try again" replies per channel, and payments still busy after the last try
        self.busy = {"till": 0, "website": 0}
        self.busy_gave_up = {"till": 0, "website": 0}

    def error(self, message):
        with self.lock:
            (self.retryable if any(word in message for word in RETRYABLE) else self.errors).append(message)

    def busy_reply(self, channel, message, last):
        """A "busy, try again" reply: retryable, counted apart from crashes."""
        with self.lock:
            self.retryable.append(message)
            self.busy[channel] += 1
            if last:
                self.busy_gave_up[channel] += 1


def till(rpc, orders, outcome, start):
    start.wait()
    for data in orders:
        # the cashier waits on the payment screen of an online till: this order keeps to the floor
        context = {"customer_credit_strict_orders": [data["uuid"]]}
        for attempt in range(TRIES):
            try:
                rpc.call("pos.order", "sync_from_ui", [data], context=context)
                break
            except Exception as error:  # the till keeps the order and sends it again
                if BUSY in str(error):  # lost the race on every try: "try again in a moment"
                    outcome.busy_reply("till", f"till: {error}", last=attempt == TRIES - 1)
                elif isinstance(error, RpcError) and error.name == "odoo.exceptions.UserError":
                    # refused for the cashier (the credit floor): another payment is taken instead
                    with outcome.lock:
                        outcome.till_refusals.append(error.message)
                    break
                else:
                    outcome.error(f"till: {error}")
                if attempt < TRIES - 1:
                    with outcome.lock:
                        outcome.retried += 1


def portal_session(server, dbname):
    """The customer's browser session on the website and its CSRF token (from the portal page)."""
    rpc = RpcClient(server.url, dbname, PORTAL, PORTAL)
    page = rpc.http.get(f"{server.url}/my", timeout=60).text
    return rpc, re.search(r'csrf_token: "([^"]+)"', page).group(1)


def website(session, references, outcome, start):
    rpc, token = session
    start.wait()
    for reference in references:
        for attempt in range(TRIES):
            try:
                reply = rpc.http.post(
                    f"{rpc.url}/payment/customer_credit/process",
                    data={"reference": reference, "csrf_token": token},
                    allow_redirects=False,
                    timeout=600,
                )
            except requests.RequestException as error:
                outcome.error(f"website: {error}")
                break
            if reply.status_code in (301, 302, 303):
                break
            if reply.status_code == 400 and BUSY in reply.text:
                # Odoo's error page "being changed by another payment ... try again": the customer pays again
                outcome.busy_reply("website", f"website: HTTP 400 {BUSY}", last=attempt == TRIES - 1)
                continue
            outcome.error(f"website: HTTP {reply.status_code} {reply.text[:200]}")
            break


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
    outcome = Outcome()
    with serve(conf, dbname, 2, PORT, f"channels-{dbname}") as server:
        start = threading.Barrier(len(tills) + len(webs) + 1)
        # logged in one after the other (the portal user's first logins would race on its settings)
        till_rpcs = [RpcClient(server.url, dbname, "admin", "admin") for _orders in tills]
        web_sessions = [portal_session(server, dbname) for _refs in webs]
        threads = [
            threading.Thread(target=till, args=(rpc, orders, outcome, start))
            for rpc, orders in zip(till_rpcs, tills, strict=True)
        ]
        threads += [
            threading.Thread(target=website, args=(session, refs, outcome, start))
            for session, refs in zip(web_sessions, webs, strict=True)
        ]
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
    till_refused = len(outcome.till_refusals)
    print(
        f"  tills: {result['pos_orders']} orders synced ({result['pos_amount']:.2f}), {till_refused} refused "
        f"(credit floor: the cashier takes another payment); website: {result['done']} paid, "
        f"{result['refused']} refused, {result['draft']} left unprocessed"
    )
    for reason in sorted(set(outcome.till_refusals))[:1]:
        print(f"    till refused: {reason[:200]}")
    for reason in result["refused_reasons"]:
        print(f"    web refused: {reason[:150]}")
    print(
        f"  Odoo retries (concurrency): {retries}; retryable errors returned: {len(outcome.retryable)}, "
        f"syncs sent again by the tills: {outcome.retried}; other errors: {len(outcome.errors)}"
    )
    print(
        f"  'busy, try again' replies (retryable, sent again): tills {outcome.busy['till']}, "
        f"website {outcome.busy['website']}; still busy after {TRIES} tries: tills "
        f"{outcome.busy_gave_up['till']}, website {outcome.busy_gave_up['website']}"
    )
    for error in outcome.retryable[:2]:
        print(f"    retryable: {error[:300]}")
    for error in outcome.errors[:3]:
        print(f"    error: {error[:300]}")
    print(
        f"  spent {result['spent']:.2f}; ledger balance {result['ledger']:.2f}; Customer Credit account "
        f"{result['gl']:.2f}; lowest balance {result['lowest']:.2f}"
    )
    print(f"  spends below the floor: website {result['web_below']}, tills {result['pos_below']}")
    info("Channels: spends/s (2 workers, 1 customer)", f"{spends / elapsed:.2f}")
    info("Channels: refused spends (tills, website)", f"{till_refused}, {result['refused']}")
    info(
        "Channels: 'busy, try again' replies (tills, website; still busy after 3 tries)",
        f"{outcome.busy['till']}, {outcome.busy['website']}; "
        f"{outcome.busy_gave_up['till'] + outcome.busy_gave_up['website']}",
    )
    lost = len(tills[0]) + len(tills[1]) - result["pos_orders"] - till_refused
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
