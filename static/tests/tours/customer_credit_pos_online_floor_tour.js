import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import { registry } from "@web/core/registry";

const CREDIT = "Customer Credit";

function check(content, trigger) {
    return { content, trigger };
}

/**
 * The till shows a stale figure: another till or the web shop has just spent the customer's credit
 * and the server's push has not arrived yet. The cashier pays by credit online: the server refuses
 * the spend (the credit floor), the order stays on the payment screen with the server's figure; the
 * cashier pays cash instead.
 */
registry.category("web_tour.tours").add("CustomerCreditPosOnlineFloorTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("AA Credit Alice"),
            {
                content: "Alice's figure is stale: the till still shows 50.00 (the server has 10.00)",
                trigger: ".pos",
                run: () => {
                    const alice = window.posmodel.models["res.partner"].find(
                        (partner) => partner.name === "AA Credit Alice"
                    );
                    alice.update({ credit_available: 50 });
                },
            },
            ProductScreen.addOrderline("Credit Widget", "1"),
            ProductScreen.clickPayButton(),
            check("the stale balance", `.customer-credit-info .customer-credit-balance:contains("50.00")`),
            PaymentScreen.clickPaymentMethod(CREDIT, true, { amount: "30.00", remaining: "0.00" }),
            PaymentScreen.clickValidate(),
            check(
                "the server refuses the credit payment",
                `.modal .modal-body:contains("AA Credit Alice has only"):contains("10.00"):contains("Another till or the web shop")`
            ),
            Dialog.confirm(),
            PaymentScreen.isShown(),
            check("the order is still being paid", `.paymentlines .paymentline .payment-name:contains("${CREDIT}")`),
            check(
                "the till now shows the server's figure",
                `.customer-credit-info .customer-credit-balance:contains("10.00")`
            ),
            PaymentScreen.clickPaymentlineDelButton(CREDIT, "30.00"),
            PaymentScreen.clickPaymentMethod("Cash", true, { remaining: "0.00" }),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});
