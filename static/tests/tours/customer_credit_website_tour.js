/** @odoo-module **/

import { registry } from "@web/core/registry";
import * as tourUtils from "@website_sale/js/tours/tour_utils";

function addDeskToCart() {
    return [
        ...tourUtils.searchProduct("Credit Tour Desk"),
        {
            content: "Open the product",
            trigger: '.oe_product_cart a:contains("Credit Tour Desk")',
            run: "click",
        },
        {
            content: "Add it to the cart",
            trigger: '#product_detail form[action^="/shop/cart/update"] #add_to_cart',
            run: "click",
        },
        tourUtils.goToCart(),
        tourUtils.goToCheckout(),
        tourUtils.confirmOrder(),
    ];
}

registry.category("web_tour.tours").add("customer_credit_checkout_tour", {
    url: "/shop",
    steps: () => [
        ...addDeskToCart(),
        {
            content: "The available credit shows beside the provider",
            trigger: '.o_customer_credit_available:contains("100.00")',
        },
        {
            content: "Pay with credit",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="customer_credit"]',
            run: "click",
        },
        tourUtils.pay(),
        {
            content: "The order is paid",
            trigger: '.oe_website_sale_tx_status:contains("Your payment has been successfully processed.")',
            timeout: 30000,
        },
    ],
});

registry.category("web_tour.tours").add("customer_credit_checkout_short_tour", {
    url: "/shop",
    steps: () => [
        ...addDeskToCart(),
        {
            content: "Another provider is offered",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="demo"]',
        },
        {
            content: "Credit is not offered: 10.00 does not cover 30.00",
            trigger: 'body:not(:has(input[data-payment-method-code="customer_credit"]))',
        },
    ],
});

registry.category("web_tour.tours").add("customer_credit_topup_tour", {
    url: "/my/credit",
    steps: () => [
        {
            content: "The balance before",
            trigger: '.o_customer_credit_total:contains("100.00")',
        },
        {
            content: "Amount to add",
            trigger: "form.o_customer_credit_topup_form input[name=amount]",
            run: "edit 25",
        },
        {
            content: "Top up",
            trigger: ".o_customer_credit_topup_button",
            run: "click",
        },
        {
            content: "The payment form for 25.00",
            trigger: '.o_customer_credit_topup_amount:contains("25.00")',
        },
        {
            content: "Credit cannot pay a top-up",
            trigger: 'body:not(:has(input[data-payment-method-code="customer_credit"]))',
        },
        {
            content: "Pay with the demo provider",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="demo"]',
            run: "click",
        },
        {
            content: "Card number",
            trigger: 'input[name="customer_input"]',
            run: "edit 4242424242424242",
        },
        tourUtils.pay(),
        {
            content: "Back on /my/credit with the new balance",
            trigger: '.o_customer_credit_total:contains("125.00")',
            timeout: 30000,
        },
    ],
});

registry.category("web_tour.tours").add("customer_credit_withdrawal_tour", {
    url: "/my/credit",
    steps: () => [
        {
            content: "What can be paid out",
            trigger: '.o_customer_credit_payable:contains("100.00")',
        },
        {
            content: "Amount",
            trigger: "form.o_customer_credit_withdraw_form input[name=amount]",
            run: "edit 35",
        },
        {
            content: "Where to pay it",
            trigger: "form.o_customer_credit_withdraw_form textarea[name=note]",
            run: "edit IBAN BE71 0961 2345 6769",
        },
        {
            content: "Send the request",
            trigger: ".o_customer_credit_withdraw_button",
            run: "click",
        },
        {
            content: "Confirmed",
            trigger: '.o_customer_credit_message:contains("withdrawal request was sent")',
        },
        {
            content: "Listed as waiting",
            trigger: '.o_customer_credit_withdrawals .o_customer_credit_withdrawal_state:contains("Waiting")',
        },
        {
            content: "Held, so no longer payable",
            trigger: '.o_customer_credit_payable:contains("65.00")',
        },
    ],
});

registry.category("web_tour.tours").add("customer_credit_portal_tour", {
    url: "/my",
    steps: () => [
        {
            content: "The tile shows the balance",
            trigger: '.o_customer_credit_home_balance:contains("87.50")',
        },
        {
            content: "Open the credit page",
            trigger: 'a[href="/my/credit"]:has(.o_customer_credit_home_balance)',
            run: "click",
        },
        {
            content: "History with before and after balances",
            trigger: '.o_customer_credit_history tr:has(td:contains("100.00")):has(td:contains("87.50"))',
        },
        {
            content: "Active lots",
            trigger: '.o_customer_credit_lots td:contains("87.50")',
        },
        {
            content: "The statement downloads as a document",
            trigger: ".o_customer_credit_statement_button",
            async run() {
                const form = document.querySelector("form.o_customer_credit_statement_form");
                const params = new URLSearchParams(new FormData(form));
                const response = await fetch(`${form.getAttribute("action")}?${params}`);
                const text = await response.text();
                if (!response.ok || !text.includes("Credit Statement") || !text.includes("87.50")) {
                    throw new Error(`The statement did not render: ${response.status}`);
                }
                document.body.classList.add("o_customer_credit_statement_ok");
            },
        },
        {
            content: "Statement fetched",
            trigger: "body.o_customer_credit_statement_ok",
        },
    ],
});
