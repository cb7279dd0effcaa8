"""Cost of paying POS orders with customer credit compared with paying the same orders in cash.

    python bench/bench_pos_sync.py <odoo.conf> <db> [N]

One POS session is opened and N orders (default 1,000) are synced through `pos.order.sync_from_ui`,
one order per call as the till sends them, half of them paid in cash and half by customer credit,
alternating order by order (cash then credit, then credit then cash, ...), so that the slow growth of
the session and any drift of the machine's speed weigh on both alike. Each call starts on an empty
cache, as an RPC does. Everything runs in one transaction that is rolled back.
Prints time, SQL queries and round-trips per order and the ratios credit / cash.

Targets (issue 14): credit <= 1.15x cash in time, one round-trip per credit order (the credit is
spent inside the sync: no second RPC); <= 148 queries per credit order (the native eWallet's
reference figure).
"""

# pylint: disable=print-used
import sys

from benchlib import (
    QueryKinds,
    Shop,
    admin_env,
    fmt_ms,
    info,
    machine,
    measure,
    print_query_diff,
    record,
    registry_of,
    sync,
)

N = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
WARM_UP = 20
TIME_TARGET = 1.15
PROFILED = 10
QUERY_TARGET = 148


def main(conf, dbname):
    registry = registry_of(conf, dbname)
    with registry.cursor() as cr:
        env = admin_env(cr)
        shop = Shop(env)
        index = 0

        def orders(method, count):
            nonlocal index
            index += count
            return [shop.order(method, index - count + i) for i in range(count)]

        # warm-up (caches, first-time code paths), then the orders, cash and credit in turn
        measure(env, orders(shop.cash_method, WARM_UP), sync)
        measure(env, orders(shop.credit_method, WARM_UP), sync)
        count = max(N // 2, 1)
        results = {"cash": [], "credit": []}
        pair = (("cash", shop.cash_method), ("credit", shop.credit_method))
        for turn in range(count):
            for name, method in pair if turn % 2 == 0 else pair[::-1]:
                results[name].append(measure(env, orders(method, 1), sync))
        cash = [sum(r[i] for r in results["cash"]) / count for i in range(3)]
        credit = [sum(r[i] for r in results["credit"]) / count for i in range(3)]
        # what the credit adds, by kind of query (a few more orders, outside the timings)
        kinds = {}
        for name, method in (("cash", shop.cash_method), ("credit", shop.credit_method)):
            with QueryKinds() as queries:
                measure(env, orders(method, PROFILED), sync)
            kinds[name] = queries.counts
        spends = env["customer.credit.line"].search_count(
            [("kind", "=", "spend"), ("pos_order_id.session_id", "=", shop.session.id)]
        )
        cr.rollback()

    print(f"POS sync on {machine()}: {count} cash + {count} credit orders, one sync_from_ui call per order")
    print(f"  ({spends} credit spends recorded, warm-up included)")
    print(f"  cash:   {fmt_ms(cash[0]):>10}/order  {cash[1]:6.1f} queries/order  {cash[2]:.0f} round-trip(s)")
    print(f"  credit: {fmt_ms(credit[0]):>10}/order  {credit[1]:6.1f} queries/order  {credit[2]:.0f} round-trip(s)")
    print_query_diff("queries a credit order runs more than a cash order:", kinds["credit"], kinds["cash"], PROFILED)
    ratio = credit[0] / cash[0]
    info("POS sync: cash time/order", fmt_ms(cash[0]))
    info("POS sync: credit time/order", fmt_ms(credit[0]))
    record("POS sync: credit/cash time", f"{ratio:.2f}", f"<= {TIME_TARGET}x", ratio <= TIME_TARGET, "x")
    record(
        "POS sync: queries per credit order",
        f"{credit[1]:.1f} (cash {cash[1]:.1f})",
        f"<= {QUERY_TARGET}",
        credit[1] <= QUERY_TARGET,
    )
    record("POS sync: round-trips per credit order", f"{credit[2]:.0f}", "1", credit[2] == 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
