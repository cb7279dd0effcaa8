"""Customer credit against Odoo 18's native eWallet (pos_loyalty), and cash, at the POS.

    python bench/bench_pos_ewallet.py <odoo.conf> <db> [N]

The database must have `pos_loyalty` installed (`make bench` installs it in its scratch copy;
customer_credit does not depend on it). The same N orders (default 1,000 each) are synced three
ways, each call on an empty cache as an RPC is, in one transaction that is rolled back:

- cash: one `sync_from_ui`;
- credit: one `sync_from_ui` (the credit is spent inside it);
- eWallet: the calls pos_loyalty's client makes per order (payment_screen.js `validateOrder` and
  `_postPushOrderResolve`): `validate_coupon_programs` (points check), `sync_from_ui` (the order with
  its eWallet reward line, total 0), `confirm_coupon_programs` (the points decrement) and
  `add_loyalty_history_lines`.

The orders run in BLOCKS blocks. In each, cash and credit alternate order by order (cash then
credit, then credit then cash...), as in bench_pos_sync.py, so that the growth of the session and
any drift of the machine's speed weigh on both alike; the eWallet orders run as one run of their
own, after the cash and credit orders in one block and before them in the next (an eWallet order
makes the order after it dearer, whatever its kind: interleaved, it would charge its cost to the
others).

Prints time, queries and round-trips per order side by side. Reference on this machine kind (issue
14): eWallet 1.25x cash, 148 vs 121 queries, 4 round-trips; target: credit <= 1.15x cash, 1 trip.
"""

# pylint: disable=print-used
import sys
import uuid

from benchlib import Shop, admin_env, fmt_ms, info, machine, measure, order_data, order_line, record, registry_of, sync

N = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
WARM_UP = 20
BLOCKS = 4
TIME_TARGET = 1.15


def ewallet_program(env, shop):
    """A fresh eWallet program (the template the backend offers), the only one at the POS, and a
    wallet of 1,000,000 points for each customer."""
    Program = env["loyalty.program"]
    Program.search([]).write({"pos_ok": False})
    env.ref("loyalty.ewallet_product_50").write({"active": True})
    program = Program.browse(Program.create_from_template("ewallet")["res_id"])
    program.write({"name": "Bench eWallet", "pos_ok": True})
    cards = env["loyalty.card"].create(
        [{"program_id": program.id, "partner_id": partner.id, "points": 1_000_000.0} for partner in shop.partners]
    )
    return program, dict(zip(shop.partners, cards, strict=True))


def ewallet_calls_factory(shop, program, cards):
    reward = program.reward_ids[:1]
    product = reward.discount_line_product_id

    def ewallet_calls(env, index):
        partner = shop.partners[index % len(shop.partners)]
        card = cards[partner]
        total = round(sum(p.lst_price for p in shop.products), 2)
        code = uuid.uuid4().hex[:10]
        reward_line = order_line(
            product,
            -total,
            reward_id=reward.id,
            is_reward_line=True,
            coupon_id=card.id,
            points_cost=total,
            reward_identifier_code=code,
        )
        data = order_data(shop.session, shop.products, partner, None, index, env.uid, extra_lines=[reward_line])
        Order = env["pos.order"]
        # validateOrder: the points of the wallet used by the reward line are checked first
        yield lambda: Order.validate_coupon_programs({str(card.id): -total}, [])
        synced = {}
        yield lambda: synced.update(Order.sync_from_ui([data]))
        order = Order.browse(synced["pos.order"][0]["id"])
        coupon_data = {
            str(card.id): {
                "points": -total,
                "program_id": program.id,
                "coupon_id": card.id,
                "barcode": "",
                "partner_id": partner.id,
                "line_codes": [code],
            }
        }
        confirmed = {}
        yield lambda: confirmed.update(order.confirm_coupon_programs(coupon_data))
        updates = [{"id": update["id"], "old_id": update["old_id"]} for update in confirmed["coupon_updates"]]
        # getLoyaltyPoints() lists loyalty programs only: nothing for an eWallet, but the call is made
        yield lambda: order.add_loyalty_history_lines([], updates)

    return ewallet_calls


def main(conf, dbname):
    registry = registry_of(conf, dbname)
    with registry.cursor() as cr:
        env = admin_env(cr)
        if "loyalty.program" not in env or not env["ir.module.module"].search_count(
            [("name", "=", "pos_loyalty"), ("state", "=", "installed")]
        ):
            sys.exit(f"pos_loyalty is not installed in {dbname}: odoo-bin -d {dbname} -i pos_loyalty --stop-after-init")
        shop = Shop(env, name="Bench eWallet")
        program, cards = ewallet_program(env, shop)
        points_before = sum(card.points for card in cards.values())
        ewallet_calls = ewallet_calls_factory(shop, program, cards)
        index = 0

        def run(kind, count):
            nonlocal index
            index += count
            first = index - count
            if kind == "ewallet":
                orders = list(range(first, index))
                return measure(env, orders, lambda env, i: ewallet_calls(env, i))
            method = shop.cash_method if kind == "cash" else shop.credit_method
            return measure(env, [shop.order(method, first + i) for i in range(count)], sync)

        kinds = ("cash", "credit", "ewallet")
        for kind in kinds:
            run(kind, WARM_UP)
        per_block = max(N // BLOCKS, 1)
        results = {kind: [] for kind in kinds}
        for block in range(BLOCKS):
            if block % 2:
                results["ewallet"].append(run("ewallet", per_block))
            for turn in range(per_block):
                for kind in ("cash", "credit") if turn % 2 == 0 else ("credit", "cash"):
                    results[kind].append(run(kind, 1))
            if not block % 2:
                results["ewallet"].append(run("ewallet", per_block))
        figures = {kind: [sum(r[i] for r in results[kind]) / len(results[kind]) for i in range(3)] for kind in kinds}
        env.invalidate_all()
        spent_points = points_before - sum(card.points for card in cards.values())
        cr.rollback()

    count = per_block * BLOCKS
    print(f"POS: credit vs native eWallet vs cash on {machine()}, {count} orders each")
    print(f"  eWallet points spent: {spent_points:.2f} (the wallets were really debited)")
    print(f"  {'':8} {'time/order':>12} {'queries/order':>14} {'round-trips':>12} {'time vs cash':>13}")
    cash_time = figures["cash"][0]
    for kind in kinds:
        seconds, queries, trips = figures[kind]
        print(f"  {kind:8} {fmt_ms(seconds):>12} {queries:14.1f} {trips:12.0f} {seconds / cash_time:12.2f}x")
    cash, credit, ewallet = figures["cash"], figures["credit"], figures["ewallet"]
    info("eWallet: time/order (vs cash)", f"{fmt_ms(ewallet[0])} ({ewallet[0] / cash_time:.2f}x)")
    info("eWallet: queries, round-trips/order", f"{ewallet[1]:.1f}, {ewallet[2]:.0f}")
    record(
        "eWallet DB: credit/cash time",
        f"{credit[0] / cash_time:.2f}",
        f"<= {TIME_TARGET}x",
        credit[0] / cash_time <= TIME_TARGET,
        "x",
    )
    info("eWallet DB: credit/eWallet time", f"{credit[0] / ewallet[0]:.2f}x")
    info("eWallet DB: queries/order credit vs eWallet vs cash", f"{credit[1]:.1f} vs {ewallet[1]:.1f} vs {cash[1]:.1f}")
    record("eWallet DB: round-trips credit vs eWallet", f"{credit[2]:.0f} vs {ewallet[2]:.0f}", "1", credit[2] == 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
