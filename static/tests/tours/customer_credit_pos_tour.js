import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PartnerList from "@point_of_sale/../tests/tours/utils/partner_list_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import { registry } from "@web/core/registry";

const CREDIT = "Customer Credit";

function check(content, trigger) {
    return { content, trigger };
}

function creditDialog(text) {
    return [
        check(`credit popup: ${text}`, `.modal .modal-body:contains("${text}")`),
        Dialog.confirm(),
    ];
}

function receiptShowsCredit(used, left) {
    return [
        check("receipt: credit used", `.pos-receipt .customer-credit-used:contains("${used}")`),
        check("receipt: credit left", `.pos-receipt .customer-credit-left:contains("${left}")`),
    ];
}

registry.category("web_tour.tours").add("CustomerCreditPosPayTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            // the partner list shows each customer's credit
            ProductScreen.clickPartnerButton(),
            check(
                "Alice's credit in the partner list",
                `.partner-list .partner-line:contains("AA Credit Alice") .customer-credit-balance:contains("100.00")`
            ),
            check(
                "Bob's credit in the partner list",
                `.partner-list .partner-line:contains("AA Credit Bob") .customer-credit-balance:contains("5.00")`
            ),
            ProductScreen.clickCustomer("AA Credit Alice"),
            check("balance on the product screen's customer button", `.set-partner .customer-credit-badge:contains("100.00")`),

            // 1. full payment by credit
            ProductScreen.addOrderline("Credit Widget", "1"),
            ProductScreen.clickPayButton(),
            check("balance on the customer button", `.partner-button .customer-credit-badge:contains("100.00")`),
            check("balance on the payment screen", `.customer-credit-info .customer-credit-balance:contains("100.00")`),
            PaymentScreen.clickPaymentMethod(CREDIT, true, { amount: "30.00", remaining: "0.00" }),
            check("balance after this order", `.customer-credit-info .customer-credit-after:contains("70.00")`),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptShowsCredit("30.00", "70.00"),
            ReceiptScreen.clickNextOrder(),

            // 2. no customer selected: choosing credit asks for one; credit plus cash
            ProductScreen.addOrderline("Credit Widget", "2"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod(CREDIT),
            PartnerList.clickPartner("AA Credit Bob"),
            PaymentScreen.selectedPaymentlineHas(CREDIT, "5.00"),
            PaymentScreen.clickPaymentMethod("Cash", true, { remaining: "0.00" }),
            PaymentScreen.selectedPaymentlineHas("Cash", "55.00"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptShowsCredit("5.00", "0.00"),
            ReceiptScreen.clickNextOrder(),

            // 3. nothing left: choosing credit adds nothing
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("AA Credit Bob"),
            ProductScreen.addOrderline("Credit Widget", "1"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod(CREDIT),
            creditDialog("has only"),
            PaymentScreen.emptyPaymentlines("30.00"),
            PaymentScreen.clickPaymentMethod("Cash", true, { remaining: "0.00" }),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            ReceiptScreen.clickNextOrder(),

            // 4. more than available, then more than due: refused, the line keeps its amount
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("AA Credit Alice"),
            ProductScreen.addOrderline("Credit Widget", "3"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod(CREDIT, true, { amount: "70.00" }),
            PaymentScreen.clickNumpad("8 0"),
            creditDialog("has only"),
            PaymentScreen.selectedPaymentlineHas(CREDIT, "8.00"),
            PaymentScreen.clickPaymentMethod("Cash", true, { remaining: "0.00" }),
            PaymentScreen.clickPaymentline(CREDIT, "8.00"),
            PaymentScreen.clickNumpad("9"),
            creditDialog("no change is given"),
            PaymentScreen.selectedPaymentlineHas(CREDIT, "8.00"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptShowsCredit("8.00", "62.00"),
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});

registry.category("web_tour.tours").add("CustomerCreditPosLotTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickPartnerButton(),
            check(
                "generic credit and lot in the partner list",
                `.partner-list .partner-line:contains("AA Credit Carol") .customer-credit-balance:contains("35.00")`
            ),
            ProductScreen.clickCustomer("AA Credit Carol"),
            ProductScreen.addOrderline("Credit Widget", "1"),
            ProductScreen.addOrderline("Credit Gadget", "1"),
            ProductScreen.clickPayButton(),
            check(
                "the gadget lot gives at most the gadget's price",
                `.customer-credit-lot:contains("Credit Gadget") .customer-credit-lot-gives:contains("20.00")`
            ),
            check("payable with credit", `.customer-credit-info .customer-credit-payable:contains("30.00")`),
            PaymentScreen.clickPaymentMethod(CREDIT, true, { amount: "30.00", remaining: "20.00" }),
            PaymentScreen.clickPaymentMethod("Cash", true, { remaining: "0.00" }),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptShowsCredit("30.00", "5.00"),
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});

registry.category("web_tour.tours").add("CustomerCreditPosRefundTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("AA Credit Alice"),
            ProductScreen.addOrderline("Credit Widget", "2"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod(CREDIT, true, { amount: "60.00", remaining: "0.00" }),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            ReceiptScreen.clickNextOrder(),

            // refund one of the two widgets: the credit goes back
            ...ProductScreen.clickRefund(),
            TicketScreen.selectOrder("-0001"),
            ProductScreen.clickNumpad("1"),
            TicketScreen.toRefundTextContains("To Refund: 1.00"),
            TicketScreen.confirmRefund(),
            ProductScreen.isShown(),
            ProductScreen.clickPayButton(),
            check("refundable credit shown", `.customer-credit-info .customer-credit-refundable:contains("60.00")`),
            PaymentScreen.clickPaymentMethod(CREDIT, true, { amount: "-30.00", remaining: "0.00" }),
            check("balance after the refund", `.customer-credit-info .customer-credit-after:contains("70.00")`),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptShowsCredit("30.00", "70.00"),
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});
