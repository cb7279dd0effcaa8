import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import { registry } from "@web/core/registry";

const CREDIT = "Customer Credit";
const PAY_OUT = "Pay Out Credit";

function check(content, trigger) {
    return { content, trigger };
}

function creditDialog(text) {
    // the popup may open above the pay-out dialog: confirm that popup
    return [
        check(`credit popup: ${text}`, `.modal .modal-body:contains("${text}")`),
        {
            content: `close the popup: ${text}`,
            trigger: `.modal:not(:has(.customer-credit-pay-out-popup)):has(.modal-body:contains("${text}")) .modal-footer .btn-primary`,
            run: "click",
        },
    ];
}

/** The till's data service flagged offline (as the browser's "offline" event does), or back online. */
function setOffline(offline) {
    return {
        content: offline ? "the till loses the network" : "the network is back",
        trigger: ".pos",
        run: () => {
            window.posmodel.data.network.offline = offline;
        },
    };
}

function typePayOut(amount) {
    return {
        content: `pay out ${amount}`,
        trigger: ".customer-credit-pay-out-popup input.customer-credit-pay-out-amount",
        run: `edit ${amount}`,
    };
}

registry.category("web_tour.tours").add("CustomerCreditPosPayOutTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            // a cash sale of 60 to another customer
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("AA Payout Bob"),
            ProductScreen.addOrderline("Payout Widget", "2"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash", true, { remaining: "0.00" }),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            ReceiptScreen.clickNextOrder(),

            // no customer: the till asks for one
            ...ProductScreen.clickControlButton(PAY_OUT),
            ...creditDialog("Select the customer"),

            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("AA Payout Alice"),
            // offline: refused before anything is asked
            setOffline(true),
            ...ProductScreen.clickControlButton(PAY_OUT),
            ...creditDialog("offline"),
            setOffline(false),
            ...ProductScreen.clickControlButton(PAY_OUT),
            Dialog.is({ title: PAY_OUT }),
            check("the customer", `.customer-credit-pay-out-popup .customer-credit-pay-out-partner:contains("AA Payout Alice")`),
            // the product credit (15) is not paid out: 100 can be
            check("what can be paid out", `.customer-credit-pay-out-popup .customer-credit-pay-out-payable:contains("100.00")`),
            check("by default all of it", `.customer-credit-pay-out-popup input.customer-credit-pay-out-amount:value("100")`),
            // more than that: refused, nothing paid
            typePayOut("150"),
            check("refusal shown", `.customer-credit-pay-out-popup .customer-credit-pay-out-refusal:contains("At most")`),
            Dialog.confirm("Pay Out"),
            ...creditDialog("At most"),
            typePayOut("40"),
            check("no refusal", `.customer-credit-pay-out-popup:not(:has(.customer-credit-pay-out-refusal))`),
            Dialog.confirm("Pay Out"),
            ...creditDialog("40.00 of credit paid out in cash to AA Payout Alice"),

            // the closing expects the drawer with the pay-out: 60 sold - 40 paid out
            ...Chrome.clickMenuOption("Close Register"),
            check("closing: the pay-out among the cash moves", `.close-pos-popup .payment-methods-overview:contains("Credit pay-out: AA Payout Alice")`),
            check(
                "closing: expected cash",
                `.close-pos-popup .payment-methods-overview .fs-3:contains("Cash"):contains("20.00")`
            ),
            Dialog.discard(),
        ].flat(),
});

registry.category("web_tour.tours").add("CustomerCreditPosStoreCreditTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            // a cash order
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("AA Payout Bob"),
            ProductScreen.addOrderline("Payout Widget", "2"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash", true, { remaining: "0.00" }),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            ReceiptScreen.clickNextOrder(),

            // refund one widget as store credit
            ...ProductScreen.clickRefund(),
            TicketScreen.selectOrder("-0001"),
            ProductScreen.clickNumpad("1"),
            TicketScreen.toRefundTextContains("To Refund: 1.00"),
            TicketScreen.confirmRefund(),
            ProductScreen.isShown(),
            ProductScreen.clickPayButton(),
            check("store credit offered", `.customer-credit-store-credit .customer-credit-store-credit-offer:contains("30.00")`),
            PaymentScreen.clickPaymentMethod(CREDIT, true, { amount: "-30.00", remaining: "0.00" }),
            check("new store credit", `.customer-credit-store-credit .customer-credit-store-credit-new:contains("30.00")`),
            check("balance after the refund", `.customer-credit-info .customer-credit-after:contains("30.00")`),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            check("receipt: credit given", `.pos-receipt .customer-credit-used:contains("30.00")`),
            ReceiptScreen.clickNextOrder(),

            // the drawer is untouched by the refund: 60 in
            ...Chrome.clickMenuOption("Close Register"),
            check(
                "closing: expected cash",
                `.close-pos-popup .payment-methods-overview .fs-3:contains("Cash"):contains("60.00")`
            ),
            Dialog.discard(),
        ].flat(),
});
